"""marsad: who did what, where, with what, and how many died, from Arabic conflict news."""

from .documents import Document, Entity, Relation, read_jsonl, write_jsonl
from .errors import FormatError, MarsadError, ModelNotFoundError, SchemaError
from .schema import Schema, load_schema

__all__ = [
    "Document", "Entity", "Relation", "Schema",
    "load_schema", "read_jsonl", "write_jsonl",
    "MarsadError", "FormatError", "SchemaError", "ModelNotFoundError",
]
__version__ = "0.1.0"
