"""doccano's relation-extraction JSONL export: one document a line, with int ids::

    {"id": 7, "text": "قصفت طائرات مسيرة مطار أبها",
     "entities": [{"id": 11, "label": "WEAPON", "start_offset": 5, "end_offset": 17},
                  {"id": 12, "label": "LOCATION", "start_offset": 23, "end_offset": 27}],
     "relations": [{"id": 3, "from_id": 11, "to_id": 12, "type": "located_in"}]}

Entity ``n`` becomes entity ``"T<n>"`` and back, so ids survive a round trip (entities with other
ids are numbered 1, 2, ... on writing). Relation ids are not kept: writing numbers them 1, 2, ...
in each document. Other fields of a line are ignored; scores and document meta are not kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..documents import Document, Entity, Relation, offset_problem
from ._common import (Fail, entity_numbers, failure, get, load_json, numbered_lines, read_text, relation_ends,
                      write_text)


def parse_doccano(text: str, path: str | None = None) -> list[Document]:
    """Documents from doccano JSONL text; ``path`` names the file in error messages.

    >>> line = '{"id": 7, "text": "قصفت طائرات مسيرة", "entities": '
    >>> line += '[{"id": 11, "label": "WEAPON", "start_offset": 5, "end_offset": 17}]}'
    >>> [(e.id, e.type, e.text) for e in parse_doccano(line)[0].entities]
    [('T11', 'WEAPON', 'طائرات مسيرة')]
    """
    documents = []
    for n, line in numbered_lines(text):
        if line.strip():
            documents.append(_document(load_json(line, path, n), failure(path, n)))
    return documents


def _document(record: Any, fail: Fail) -> Document:
    text = get(record, "text", str, "", fail)
    doc_id = str(get(record, "id", (str, int), "", fail, default=""))
    entities = []
    for i, raw in enumerate(get(record, "entities", list, "", fail)):
        where = f"entities[{i}]"
        start = get(raw, "start_offset", int, where, fail)
        end = get(raw, "end_offset", int, where, fail)
        problem = offset_problem(text, start, end)
        if problem:
            raise fail(problem[1], f"{where}.{problem[0]}_offset")
        entities.append(Entity(get(raw, "label", str, where, fail), start, end, text[start:end],
                               f"T{get(raw, 'id', int, where, fail)}"))
    ids = {e.id for e in entities}
    relations = []
    for i, raw in enumerate(get(record, "relations", list, "", fail, default=[])):
        where = f"relations[{i}]"
        ends = []
        for key in ("from_id", "to_id"):
            number = get(raw, key, int, where, fail)
            if f"T{number}" not in ids:
                raise fail(f"no entity of this line has id {number}", f"{where}.{key}")
            ends.append(f"T{number}")
        relations.append(Relation(get(raw, "type", str, where, fail), ends[0], ends[1]))
    return Document(text, doc_id, entities, relations)


def format_doccano(documents: Iterable[Document]) -> str:
    """doccano JSONL for ``documents``, one line each."""
    return "".join(json.dumps(_record(doc), ensure_ascii=False) + "\n" for doc in documents)


def _record(doc: Document) -> dict[str, Any]:
    numbers = entity_numbers(doc)
    return {"id": doc.id, "text": doc.text,
            "entities": [{"id": n, "label": e.type, "start_offset": e.start, "end_offset": e.end}
                         for e, n in zip(doc.entities, numbers)],
            "relations": [{"id": k, "from_id": head, "to_id": tail, "type": rel.type}
                          for k, (rel, head, tail) in enumerate(relation_ends(doc, numbers), 1)]}


def read_doccano(path: str | Path) -> list[Document]:
    return parse_doccano(read_text(path), str(path))


def write_doccano(documents: Iterable[Document], path: str | Path) -> None:
    write_text(path, format_doccano(documents))
