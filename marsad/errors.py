"""Every exception marsad raises, in one place.

Messages name the file, line and field where the problem is, so a user can go straight to it.
"""

from __future__ import annotations


class MarsadError(Exception):
    """Base class for all marsad errors."""


class FormatError(MarsadError, ValueError):
    """A record in an input file cannot be read.

    ``str(error)`` reads ``file:line: field: message``; parts that are unknown are left out.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.message, self.path, self.line, self.field = message, path, line, field
        where = ":".join(str(p) for p in (path, line) if p is not None)
        prefix = (f"{where}: " if where else "") + (f"{field}: " if field else "")
        super().__init__(prefix + message)


class SchemaError(MarsadError, ValueError):
    """A schema file is malformed, or data uses a type the schema does not know."""


class ModelNotFoundError(MarsadError, FileNotFoundError):
    """A model folder or hub name could not be loaded."""
