"""Check annotated documents against the guidelines and a schema, reporting every problem.

Each problem is an :class:`Issue` printed as ``file:line: field: message``; a file is always
checked to its end, so one run shows everything that needs fixing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .documents import Document, iter_records, offset_problem
from .schema import Schema
from .text import sentence_index, sentence_spans, word_spans


@dataclass(frozen=True)
class Issue:
    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def validate_document(doc: Document, schema: Schema) -> list[tuple[str, str]]:
    """The problems of one document as ``(field, message)`` pairs; empty when it is clean."""
    if not doc.text.strip():
        return [("text", "empty text")]
    problems = list(_entity_problems(doc, schema))
    problems += _relation_problems(doc, schema)
    return problems


def _entity_problems(doc: Document, schema: Schema) -> Iterator[tuple[str, str]]:
    text, seen, placed = doc.text, {}, []
    words = word_spans(text)
    word_starts, word_ends = {s for s, _ in words}, {e for _, e in words}
    for i, e in enumerate(doc.entities):
        where = f"entities[{i}]"
        if e.id in seen:
            yield f"{where}.id", f"duplicate entity id {e.id!r} (also entities[{seen[e.id]}])"
        seen.setdefault(e.id, i)
        if e.type not in schema.entity_types:
            yield f"{where}.type", f"unknown entity type {e.type!r} (schema: {', '.join(schema.entity_types)})"
        out_of_range = offset_problem(text, e.start, e.end)
        if out_of_range:
            yield f"{where}.{out_of_range[0]}", out_of_range[1]
            continue
        if text[e.start:e.end] != e.text:
            yield f"{where}.text", f"{e.text!r} differs from text[{e.start}:{e.end}] = {text[e.start:e.end]!r}"
        if e.start not in word_starts:
            yield f"{where}.start", f"{e.start} is not at the start of a word ({_context(text, e.start)})"
        if e.end not in word_ends:
            yield f"{where}.end", f"{e.end} is not at the end of a word ({_context(text, e.end)})"
        placed.append((e.start, e.end, i))
    placed.sort()
    reach = None  # the span seen so far that reaches furthest right: a long span may cover several
    for s2, e2, i2 in placed:
        if reach and s2 < reach[1]:
            s1, e1, i1 = reach
            yield f"entities[{i2}]", f"overlaps entities[{i1}] ({text[s1:e1]!r} at {s1}..{e1})"
        if not reach or e2 > reach[1]:
            reach = (s2, e2, i2)


def _relation_problems(doc: Document, schema: Schema) -> Iterator[tuple[str, str]]:
    by_id = {e.id: e for e in doc.entities}
    sentences = sentence_spans(doc.text)
    seen: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(doc.relations):
        where = f"relations[{i}]"
        missing = [(f"{where}.{side}", f"no entity has id {ref!r}") for side, ref in (("head", r.head), ("tail", r.tail))
                   if ref not in by_id]
        yield from missing
        if r.type not in schema.relation_names:
            yield f"{where}.type", f"unknown relation type {r.type!r} (schema: {', '.join(schema.relation_names)})"
            continue
        if missing:
            continue
        if r.head == r.tail:
            yield where, f"{r.type} links entity {r.head!r} to itself"
            continue
        head, tail = by_id[r.head], by_id[r.tail]
        rel = schema.relation(r.type)
        if not rel.allows(head.type, tail.type):
            yield (f"{where}.type", f"{r.type} cannot link {head.type} -> {tail.type} "
                   f"(allowed: {'/'.join(rel.head)} -> {'/'.join(rel.tail)})")
        key = (r.type, *sorted((r.head, r.tail))) if rel.symmetric else (r.type, r.head, r.tail)
        if key in seen:
            yield where, f"duplicates relations[{seen[key]}] ({r.type} {r.head} -> {r.tail})"
        seen.setdefault(key, i)
        head_sentence, tail_sentence = sentence_index(sentences, head.start), sentence_index(sentences, tail.start)
        # -1: an entity whose offsets are already reported as out of range or off a word
        if head_sentence != tail_sentence and -1 not in (head_sentence, tail_sentence):
            yield where, f"{r.type} links {head.text!r} and {tail.text!r} across sentences"


def _context(text: str, offset: int) -> str:
    return repr(text[max(0, offset - 8):offset] + "|" + text[offset:offset + 8])


def validate_documents(docs: Iterable[Document], schema: Schema, path: str = "<documents>") -> list[Issue]:
    """Validate documents that carry no line numbers (converted from another format)."""
    issues, ids = [], {}
    for n, doc in enumerate(docs, 1):
        issues += _document_issues(doc, schema, path, None, ids, label=f"document {n}")
    return issues


def validate_jsonl(path: str, schema: Schema) -> list[Issue]:
    """Validate every line of a JSONL file; bad lines are reported and the rest still checked."""
    issues: list[Issue] = []
    ids: dict[str, str] = {}
    for record in iter_records(path):
        if record.error:
            e = record.error
            issues.append(Issue(path, e.line, e.field or "", e.message))
        else:
            issues += _document_issues(record.document, schema, path, record.line, ids, label=f"line {record.line}")
    return issues


def _document_issues(doc: Document, schema: Schema, path: str, line: int | None,
                     ids: dict[str, str], label: str) -> list[Issue]:
    issues = [Issue(path, line, f, m) for f, m in validate_document(doc, schema)]
    if doc.id and doc.id in ids:
        issues.append(Issue(path, line, "id", f"duplicate document id {doc.id!r} (first at {ids[doc.id]})"))
    ids.setdefault(doc.id, label)
    return issues
