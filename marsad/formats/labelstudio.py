"""Label Studio JSON export: a list of tasks, each with its text and its annotations' results::

    [{"id": 1, "data": {"text": "قصفت طائرات مسيرة مطار أبها"},
      "annotations": [{"result": [
        {"id": "x1Fv", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 5, "end": 17, "text": "طائرات مسيرة", "labels": ["WEAPON"]}},
        {"id": "Ab3q", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 23, "end": 27, "text": "أبها", "labels": ["LOCATION"]}},
        {"type": "relation", "from_id": "x1Fv", "to_id": "Ab3q", "direction": "right",
         "labels": ["located_in"]}]}]}]

Reading takes each task's first annotation, or its first prediction when it has no annotation.
``labels`` results are entities (one label each), keeping the result ids as entity ids;
``relation`` results are relations, one per label, ``"direction": "left"`` swapping head and
tail; other results (choices, text areas) are skipped. Offsets are Python string indices (code
points), as Label Studio writes them; ``value.text`` must equal the span it names, which catches
offsets counted another way (old versions counted UTF-16 units, shifted by any emoji).

Writing gives an export that Label Studio imports as annotated tasks, for a labeling config with
``<Text name="text" value="$text"/>`` and ``<Labels name="label" toName="text">``. Label Studio
replaces task ids on import, so the document id is also written to ``data.doc_id``, which reading
prefers to the task id. Scores and document meta are not kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..documents import Document, Entity, Relation, offset_problem
from ..errors import FormatError
from ._common import Fail, failure, get, load_json, read_text, relation_ends, write_text

logger = logging.getLogger(__name__)

_DIRECTIONS = ("right", "left", "bi")


def parse_labelstudio(text: str, path: str | None = None) -> list[Document]:
    """Documents from the text of a Label Studio JSON export; ``path`` names the file in errors.

    >>> export = '[{"id": 4, "data": {"text": "قصفت طائرات مسيرة أبها"}, "annotations": [{"result": ['
    >>> export += '{"id": "x1Fv", "type": "labels", "value": {"start": 18, "end": 22, "labels": ["LOCATION"]}}]}]}]'
    >>> [doc] = parse_labelstudio(export)
    >>> doc.id, doc.entities[0].id, doc.entities[0].text
    ('4', 'x1Fv', 'أبها')
    """
    fail = failure(path)
    tasks = load_json(text, path)
    if not isinstance(tasks, list):
        raise FormatError("expected a JSON list of tasks", path=path)
    documents, unannotated = [], 0
    for i, task in enumerate(tasks):
        where = f"tasks[{i}]"
        data = get(task, "data", dict, where, fail)
        doc_text = get(data, "text", str, f"{where}.data", fail)
        doc_id = str(get(data, "doc_id", (str, int), f"{where}.data", fail,
                         default=get(task, "id", (str, int), where, fail, default=i + 1)))
        found = _first_results(task, where, fail)
        if found is None:
            unannotated += 1
            documents.append(Document(doc_text, doc_id))
        else:
            documents.append(_document(doc_text, doc_id, *found, fail))
    if unannotated:
        logger.warning("%s: %d of %d tasks have no annotation or prediction; read without entities",
                       path or "Label Studio export", unannotated, len(tasks))
    return documents


def _first_results(task: Any, where: str, fail: Fail) -> tuple[list[Any], str] | None:
    """The results of the first annotation (else prediction) of a task, and their field path."""
    for key in ("annotations", "predictions"):
        runs = get(task, key, list, where, fail, default=[])
        if runs:
            run_where = f"{where}.{key}[0]"
            return get(runs[0], "result", list, run_where, fail), f"{run_where}.result"
    return None


def _document(text: str, doc_id: str, results: list[Any], where: str, fail: Fail) -> Document:
    fields = [f"{where}[{j}]" for j in range(len(results))]
    kinds = [get(result, "type", str, field, fail) for result, field in zip(results, fields)]
    entities = [_entity(result, text, field, fail)
                for result, field, kind in zip(results, fields, kinds) if kind == "labels"]
    # relations come after all entities, since a relation may precede the regions it links
    ids = {e.id for e in entities}
    relations = [rel for result, field, kind in zip(results, fields, kinds) if kind == "relation"
                 for rel in _relations(result, ids, field, fail)]
    return Document(text, doc_id, entities, relations)


def _entity(result: Any, text: str, where: str, fail: Fail) -> Entity:
    entity_id = str(get(result, "id", (str, int), where, fail))
    value_where = f"{where}.value"
    value = get(result, "value", dict, where, fail)
    start = get(value, "start", int, value_where, fail)
    end = get(value, "end", int, value_where, fail)
    labels = get(value, "labels", list, value_where, fail)
    if len(labels) != 1 or not isinstance(labels[0], str):
        raise fail(f"expected one label, got {json.dumps(labels, ensure_ascii=False)}", f"{value_where}.labels")
    problem = offset_problem(text, start, end)
    if problem:
        raise fail(problem[1], f"{value_where}.{problem[0]}")
    span = text[start:end]
    value_text = get(value, "text", str, value_where, fail, default=span)
    if value_text != span:
        raise fail(f"{value_text!r} differs from text[{start}:{end}] = {span!r}", f"{value_where}.text")
    return Entity(labels[0], start, end, span, entity_id)


def _relations(result: Any, entity_ids: set[str], where: str, fail: Fail) -> list[Relation]:
    ends = []
    for key in ("from_id", "to_id"):
        entity_id = str(get(result, key, (str, int), where, fail))
        if entity_id not in entity_ids:
            raise fail(f"no entity result has id {entity_id!r}", f"{where}.{key}")
        ends.append(entity_id)
    direction = get(result, "direction", str, where, fail, default="right")
    if direction not in _DIRECTIONS:
        raise fail(f"unknown direction {direction!r} (expected {', '.join(_DIRECTIONS)})", f"{where}.direction")
    if direction == "left":
        ends.reverse()
    labels = get(result, "labels", list, where, fail, default=[])
    if not labels or not all(isinstance(label, str) for label in labels):
        raise fail("expected one or more relation types", f"{where}.labels")
    return [Relation(label, ends[0], ends[1]) for label in labels]


def format_labelstudio(documents: Iterable[Document]) -> str:
    """A Label Studio export (JSON text) of ``documents``, importable as annotated tasks."""
    tasks = [{"id": i, "data": {"text": doc.text, "doc_id": doc.id}, "annotations": [{"result": _results(doc)}]}
             for i, doc in enumerate(documents, 1)]
    return json.dumps(tasks, ensure_ascii=False, indent=2) + "\n"


def _results(doc: Document) -> list[dict[str, Any]]:
    ids = [e.id for e in doc.entities]
    if not all(ids) or len(set(ids)) != len(ids):  # relations need one id per region to point at
        ids = [f"T{n}" for n in range(1, len(ids) + 1)]
    results: list[dict[str, Any]] = [
        {"id": result_id, "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": e.start, "end": e.end, "text": doc.text[e.start:e.end], "labels": [e.type]}}
        for e, result_id in zip(doc.entities, ids)]
    results += [{"type": "relation", "from_id": head, "to_id": tail, "direction": "right", "labels": [rel.type]}
                for rel, head, tail in relation_ends(doc, ids)]
    return results


def read_labelstudio(path: str | Path) -> list[Document]:
    return parse_labelstudio(read_text(path), str(path))


def write_labelstudio(documents: Iterable[Document], path: str | Path) -> None:
    write_text(path, format_labelstudio(documents))
