"""Converters between marsad's documents and other annotation formats, one module per format.

Every format is registered in :data:`FORMATS`; :func:`read_documents` and :func:`write_documents`
go through that table, guessing the format from the file name when none is named::

    >>> sorted(FORMATS)
    ['brat', 'conll', 'doccano', 'jsonl', 'labelstudio']
    >>> guess_format("export.json")
    'labelstudio'

Each module has pure functions from text to documents and back (``parse_conll``/``format_conll``
and so on) and the file-level ``read_*``/``write_*`` functions registered here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..documents import Document, read_jsonl, write_jsonl
from ..errors import FormatError
from .brat import read_brat, write_brat
from .conll import read_conll, write_conll
from .doccano import read_doccano, write_doccano
from .labelstudio import read_labelstudio, write_labelstudio

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    """A file format: the suffixes that name its files, and how to read and write them."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    read: Callable[[str | Path], list[Document]]
    write: Callable[[Iterable[Document], str | Path], object]  # object: jsonl's writer returns a count


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("jsonl", "marsad's JSONL, one document a line; keeps everything", (".jsonl",), read_jsonl, write_jsonl),
    Format("conll", "CoNLL BIO, a 'token TAG' line per token (ANERcorp); keeps tokens and entities only",
           (".conll", ".bio"), read_conll, write_conll),
    Format("brat", "brat standoff: a folder of <id>.txt and <id>.ann files", (".ann",), read_brat, write_brat),
    Format("labelstudio", "Label Studio JSON export (a list of tasks)", (".json",),
           read_labelstudio, write_labelstudio),
    # doccano's export is .jsonl too, so it is only ever read or written by name
    Format("doccano", "doccano relation-extraction JSONL export", (), read_doccano, write_doccano),
)}


def guess_format(path: str | Path) -> str:
    """The name of the format of ``path``: brat for a folder, else the one its suffix belongs to."""
    path = Path(path)
    if path.is_dir():
        return "brat"
    for fmt in FORMATS.values():
        if path.suffix.lower() in fmt.suffixes:
            return fmt.name
    raise FormatError(f"cannot tell the format from the suffix {path.suffix!r}; name one of {_known()}",
                      path=str(path))


def read_documents(path: str | Path, fmt: str | None = None) -> list[Document]:
    """Read the documents of ``path`` in format ``fmt`` (guessed from ``path`` when None)."""
    name = fmt or guess_format(path)
    documents = _format(name, path).read(path)
    logger.info("read %d documents from %s (%s)", len(documents), path, name)
    return documents


def write_documents(documents: Iterable[Document], path: str | Path, fmt: str | None = None) -> None:
    """Write ``documents`` to ``path`` in format ``fmt`` (guessed from ``path`` when None)."""
    documents = list(documents)
    name = fmt or guess_format(path)
    _format(name, path).write(documents, path)
    logger.info("wrote %d documents to %s (%s)", len(documents), path, name)


def _format(name: str, path: str | Path) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r}; known formats: {_known()}", path=str(path)) from None


def _known() -> str:
    return ", ".join(f"{f.name} ({', '.join(f.suffixes)})" if f.suffixes else f.name for f in FORMATS.values())


__all__ = ["FORMATS", "Format", "guess_format", "read_documents", "write_documents"]
