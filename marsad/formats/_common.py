"""What the converters share: exact-newline file I/O, JSON fields with locations, entity numbering."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..documents import Document, Relation, typed_field
from ..errors import FormatError

#: Builds the error for a message and a field (the caller already knows the file and line).
Fail = Callable[[str, str | None], FormatError]
K = TypeVar("K")

_REQUIRED: Any = object()
_T_ID = re.compile(r"T(\d+)")


def read_text(path: str | Path) -> str:
    """A UTF-8 file's text with its line breaks as written, so ``\\r\\n`` counts as two characters."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` as UTF-8 without translating line breaks (a ``\\r\\n`` in a document stays)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` from 1, splitting at ``\\n`` only: ``str.splitlines`` would also
    split at characters such as U+2028 that may sit inside a token or an entity's text."""
    for n, line in enumerate(text.split("\n"), 1):
        yield n, line.removesuffix("\r")


def failure(path: str | None, line: int | None = None) -> Fail:
    """A :data:`Fail` for the problems of ``path`` (at ``line`` when given)."""
    return lambda message, field: FormatError(message, path=path, line=line, field=field)


def load_json(text: str, path: str | None, line: int | None = None) -> Any:
    """Parse JSON; a syntax error names ``line`` when given, else the line inside ``text``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(f"malformed JSON: {e.msg} at column {e.colno}", path=path,
                          line=line if line is not None else e.lineno) from None


def get(obj: Any, key: str, kind: type | tuple[type, ...], where: str, fail: Fail, default: Any = _REQUIRED) -> Any:
    """``obj[key]``, checked to be a ``kind``; ``where`` is the field path of ``obj`` (``"tasks[0]"``)."""
    if not isinstance(obj, dict):
        raise fail("expected a JSON object", where or None)
    prefix = f"{where}." if where else ""
    if key not in obj:
        if default is _REQUIRED:
            raise fail("missing", prefix + key)
        return default
    return typed_field(obj, key, kind, prefix, fail)


def entity_numbers(doc: Document) -> list[int]:
    """A number for each entity, for formats whose ids are numbers (brat's ``T<n>``, doccano's ints).

    ``T<n>`` ids keep their ``n``, so ids survive a round trip; other ids (Label Studio's random
    ones, repeated or empty ones) are replaced by 1, 2, ... in order.

    >>> from marsad.documents import Entity
    >>> entity_numbers(Document("", entities=[Entity("ACTOR", 0, 1, "", "T7"), Entity("ACTOR", 2, 3, "", "T2")]))
    [7, 2]
    """
    matches = [_T_ID.fullmatch(e.id) for e in doc.entities]
    numbers = [int(m[1]) for m in matches if m]
    if len(numbers) == len(matches) and len(set(numbers)) == len(numbers):
        return numbers
    return list(range(1, len(matches) + 1))


def relation_ends(doc: Document, keys: Sequence[K]) -> list[tuple[Relation, K, K]]:
    """Each relation of ``doc`` with the keys (parallel to its entities) of its head and tail."""
    counts = Counter(e.id for e in doc.entities)
    key_of = {e.id: k for e, k in zip(doc.entities, keys)}
    ends = []
    for i, rel in enumerate(doc.relations):
        for entity_id in (rel.head, rel.tail):
            if counts[entity_id] != 1:
                how_many = "no" if counts[entity_id] == 0 else "more than one"
                raise FormatError(f"document {doc.id!r}: relation {rel.type!r} names {entity_id!r}, "
                                  f"but the document has {how_many} entity with that id", field=f"relations[{i}]")
        ends.append((rel, key_of[rel.head], key_of[rel.tail]))
    return ends
