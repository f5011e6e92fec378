"""marsad: who did what, where, with what, and how many died, from Arabic conflict news.

>>> from marsad import predict                                          # doctest: +SKIP
>>> doc = predict("قتل 12 مدنياً في غارة جوية على الفاشر")              # doctest: +SKIP
>>> [(e.type, e.text) for e in doc.entities]                            # doctest: +SKIP
"""

from typing import Any

from .documents import Document, Entity, Relation, read_jsonl, write_jsonl
from .errors import FormatError, MarsadError, ModelNotFoundError, SchemaError
from .schema import Schema, load_schema

# The model side needs torch; it is imported on first use, so that validating or converting
# files stays quick.
_LAZY = {"predict": "inference", "Predictor": "inference", "MarsadModel": "model",
         "train": "training", "evaluate": "training", "TrainingArguments": "config"}

__all__ = [
    "Document", "Entity", "Relation", "Schema",
    "load_schema", "read_jsonl", "write_jsonl",
    "MarsadError", "FormatError", "SchemaError", "ModelNotFoundError",
    *_LAZY,
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'marsad' has no attribute {name!r}")
