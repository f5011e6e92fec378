"""The data types that flow through every stage: Document, Entity, Relation.

A gold file, a prediction and an evaluation input all have this one shape, which is also the
JSONL format of the annotation guidelines (one document a line)::

    {"id": "doc-1", "text": "...",
     "entities": [{"id": "T1", "type": "ACTOR", "start": 0, "end": 11, "text": "حركة الشباب"}],
     "relations": [{"type": "attacked", "head": "T1", "tail": "T2"}], "meta": {"split": "train"}}

Predictions add ``score`` to entities and relations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FormatError


@dataclass
class Entity:
    """A typed span of ``Document.text``: ``text == document.text[start:end]``."""

    type: str
    start: int
    end: int
    text: str
    id: str = ""
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "start": self.start, "end": self.end, "text": self.text}
        if self.score is not None:
            out["score"] = round(self.score, 4)
        return out


@dataclass
class Relation:
    """A directed relation between two entities of one document, named by their ids."""

    type: str
    head: str
    tail: str
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "head": self.head, "tail": self.tail}
        if self.score is not None:
            out["score"] = round(self.score, 4)
        return out


# the fields of a Document record; ``text`` is the only one required
DOCUMENT_FIELDS = ("id", "text", "entities", "relations", "meta")


@dataclass
class Document:
    """An article with its entities and relations (gold or predicted)."""

    text: str
    id: str = ""
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def entity(self, entity_id: str) -> Entity:
        for e in self.entities:
            if e.id == entity_id:
                return e
        raise KeyError(f"document {self.id!r} has no entity {entity_id!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text,
                               "entities": [e.to_dict() for e in self.entities],
                               "relations": [r.to_dict() for r in self.relations]}
        if self.meta:
            out["meta"] = self.meta
        return out

    @classmethod
    def from_dict(cls, data: Any, *, path: str | None = None, line: int | None = None) -> "Document":
        """Build a Document from one parsed JSON record, checking the shape of every field.

        Offsets and types are not checked against the text or a schema here: that is
        :func:`marsad.validate.validate_document`'s job, so that it can report every problem.
        """
        def fail(msg: str, fld: str | None = None) -> FormatError:
            return FormatError(msg, path=path, line=line, field=fld)

        if not isinstance(data, dict):
            raise fail(f"expected a JSON object, got {type(data).__name__}")
        _check_keys(data, {"text"}, set(DOCUMENT_FIELDS) - {"text"}, "", fail)
        text = typed_field(data, "text", str, "", fail)
        doc_id = typed_field(data, "id", (str, int), "", fail, default="")
        entities_raw = typed_field(data, "entities", list, "", fail, default=[])
        relations_raw = typed_field(data, "relations", list, "", fail, default=[])
        meta = typed_field(data, "meta", dict, "", fail, default={})
        entities = []
        for i, e in enumerate(entities_raw):
            where = f"entities[{i}]"
            if not isinstance(e, dict):
                raise fail("expected an object", where)
            _check_keys(e, {"type", "start", "end"}, {"id", "text", "score"}, where + ".", fail)
            start = typed_field(e, "start", int, where + ".", fail)
            end = typed_field(e, "end", int, where + ".", fail)
            # a missing entity text is taken from the document; a given one is checked by validate
            etext = typed_field(e, "text", str, where + ".", fail, default=text[start:end])
            entities.append(Entity(typed_field(e, "type", str, where + ".", fail), start, end, etext,
                                   str(typed_field(e, "id", (str, int), where + ".", fail, default=f"T{i + 1}")),
                                   _score(e, where + ".", fail)))
        relations = []
        for i, r in enumerate(relations_raw):
            where = f"relations[{i}]"
            if not isinstance(r, dict):
                raise fail("expected an object", where)
            _check_keys(r, {"type", "head", "tail"}, {"score"}, where + ".", fail)
            relations.append(Relation(typed_field(r, "type", str, where + ".", fail),
                                      str(typed_field(r, "head", (str, int), where + ".", fail)),
                                      str(typed_field(r, "tail", (str, int), where + ".", fail)),
                                      _score(r, where + ".", fail)))
        return cls(text, str(doc_id), entities, relations, meta)


def _check_keys(obj: dict, required: set[str], optional: set[str], prefix: str, fail) -> None:
    missing = sorted(required - set(obj))
    if missing:
        raise fail("missing", prefix + missing[0])
    unknown = sorted(set(obj) - required - optional)
    if unknown:
        raise fail(f"unknown field (allowed: {', '.join(sorted(required | optional))})", prefix + unknown[0])


def offset_problem(text: str, start: int, end: int) -> tuple[str, str] | None:
    """``("start" or "end", message)`` when ``start..end`` is not a non-empty span of ``text``."""
    if 0 <= start < end <= len(text):
        return None
    side = "start" if not 0 <= start < len(text) or start >= end else "end"
    return side, f"offsets {start}..{end} out of range for a text of {len(text)} characters"


def typed_field(obj: dict, key: str, kind, prefix: str, fail, default: Any = ...) -> Any:
    """``obj[key]`` checked to be of ``kind``; ``fail(message, field)`` builds the error."""
    if key not in obj:
        return default
    value = obj[key]
    # bool is an int in Python, but true/false is never a valid offset or id
    if isinstance(value, bool) or not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise fail(f"expected {names}, got {json.dumps(value, ensure_ascii=False)[:40]}", prefix + key)
    return value


def _score(obj: dict, prefix: str, fail) -> float | None:
    score = typed_field(obj, "score", (int, float), prefix, fail, default=None)
    if score is not None and not 0.0 <= score <= 1.0:
        raise fail(f"must be between 0 and 1, got {score}", prefix + "score")
    return None if score is None else float(score)


@dataclass
class Record:
    """One line of a JSONL file: the document, or the error that kept it from being read."""

    path: str
    line: int
    document: Document | None = None
    error: FormatError | None = None


def iter_records(path: str | Path, text_field: str = "text", keep_extra: bool = False) -> Iterator[Record]:
    """Read a JSONL file lazily, one :class:`Record` per non-blank line, never raising on bad lines.

    Batch jobs use this to report a bad record and go on with the rest. ``text_field`` names the
    field holding the text when it is not ``text`` (plain records like ``{"body": "..."}``).
    Fields a Document does not have are an error (a typo in a gold file must not pass silently)
    unless ``keep_extra``, which moves them into ``meta`` (a news dump's ``title``, ``source``).
    """
    path = str(path)
    with open(path, "rb") as f:  # decoded line by line, so a line that is not UTF-8 is one bad record
        for n, raw_bytes in enumerate(f, 1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as e:
                yield Record(path, n, error=FormatError(f"not UTF-8: byte 0x{raw_bytes[e.start]:02x} at byte {e.start + 1}",
                                                        path=path, line=n))
                continue
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as e:
                yield Record(path, n, error=FormatError(f"malformed JSON: {e.msg} at column {e.colno}", path=path, line=n))
                continue
            if isinstance(data, dict):
                data = _document_fields(data, text_field, keep_extra)
            try:
                yield Record(path, n, document=Document.from_dict(data, path=path, line=n))
            except FormatError as e:
                yield Record(path, n, error=e)


def _document_fields(data: dict, text_field: str, keep_extra: bool) -> dict:
    """A record as Document fields: the text under ``text`` and, with ``keep_extra``, the rest in ``meta``."""
    if text_field == "text" and not keep_extra:
        return data   # as it is: Document.from_dict reports any unknown field
    if text_field == "text":
        known = {k: v for k, v in data.items() if k in DOCUMENT_FIELDS}
    else:   # a plain record read by another field: its annotations, if any, are not read
        known = {k: data[f] for k, f in (("id", "id"), ("text", text_field), ("meta", "meta")) if f in data}
    if keep_extra:
        extra = {k: v for k, v in data.items() if k not in known and k != text_field}
        if extra and isinstance(known.get("meta", {}), dict):
            known["meta"] = {**known.get("meta", {}), **extra}
    return known


def read_jsonl(path: str | Path) -> list[Document]:
    """Read every document of a JSONL file; the first bad line raises :class:`FormatError`."""
    docs = []
    for record in iter_records(path):
        if record.error:
            raise record.error
        docs.append(record.document)
    return docs


def write_jsonl(documents: Iterable[Document], path: str | Path) -> int:
    """Write documents one per line (UTF-8, Arabic unescaped); returns how many were written."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for doc in documents:
            f.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n
