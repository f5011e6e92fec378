"""brat standoff: a folder of ``<id>.txt`` files, each with its annotations in ``<id>.ann``::

    T1	ACTOR 5 17	جماعة الحوثي
    T2	LOCATION 33 37	أبها
    T3	WEAPON 38 51	بطائرات مسيرة
    R1	attacked Arg1:T1 Arg2:T2
    R2	used Arg1:T1 Arg2:T3
    #1	AnnotatorNotes T3	طائرات من نوع صماد

Fields are tab-separated. Offsets are Python string indices into the ``.txt`` as written, so a
``\\r\\n`` line break counts as two characters. Only entities (``T``) and binary relations (``R``)
are read, and annotator notes (``#``) are skipped; any other kind of line (events, attributes,
normalisations) and discontinuous spans (``0 5;8 12``) are errors, since reading them would
silently drop annotations. A document's id is its file name without ``.txt``. Relation ids are not
kept: writing numbers them ``R1``, ``R2``, ...; entity ids are kept when they are ``T<n>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from ..documents import Document, Entity, Relation, offset_problem
from ..errors import FormatError
from ._common import entity_numbers, numbered_lines, read_text, relation_ends, write_text

logger = logging.getLogger(__name__)

_Fail = Callable[[str], FormatError]


def parse_brat(text: str, ann: str, doc_id: str = "", path: str | None = None) -> Document:
    """The document of a ``.txt`` text and its ``.ann`` annotations; ``path`` (the ``.ann``) names
    the file in error messages.

    >>> doc = parse_brat("قصفت طائرات مسيرة أبها", "T1\\tWEAPON 5 17\\tطائرات مسيرة\\n", "doc-1")
    >>> doc.entities[0].type, doc.entities[0].text
    ('WEAPON', 'طائرات مسيرة')
    """
    entities: dict[str, Entity] = {}
    relations: list[tuple[_Fail, Relation]] = []
    for n, line in numbered_lines(ann):
        fail = partial(FormatError, path=path, line=n)
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("T"):
            entity = _entity(line, text, fail)
            if entity.id in entities:
                raise fail(f"entity id {entity.id} repeats")
            entities[entity.id] = entity
        elif line.startswith("R"):
            relations.append((fail, _relation(line, fail)))
        else:
            raise fail(f"unsupported annotation {line.split()[0]!r}: only T entities and R relations are read")
    # relations may come before the entities they name, so they are checked once all are read
    for fail, rel in relations:
        for entity_id in (rel.head, rel.tail):
            if entity_id not in entities:
                raise fail(f"relation names {entity_id!r}, which is no entity of this file")
    return Document(text, doc_id, list(entities.values()), [rel for _, rel in relations])


def _entity(line: str, text: str, fail: _Fail) -> Entity:
    parts = line.split("\t", 2)
    type_and_offsets = parts[1].split(" ", 1) if len(parts) == 3 else []
    if len(type_and_offsets) != 2:
        raise fail("expected 'T<n>\\tTYPE START END\\tTEXT'")
    (entity_id, _, span_text), (etype, offsets) = parts, type_and_offsets
    if ";" in offsets:
        raise fail(f"discontinuous span {offsets!r} is not supported")
    try:
        start, end = (int(x) for x in offsets.split())
    except ValueError:
        raise fail(f"expected two offsets 'START END', got {offsets!r}") from None
    problem = offset_problem(text, start, end)
    if problem:
        raise fail(problem[1])
    if text[start:end] != span_text:
        raise fail(f"{span_text!r} differs from the text's {text[start:end]!r} at {start}..{end}")
    return Entity(etype, start, end, span_text, entity_id)


def _relation(line: str, fail: _Fail) -> Relation:
    parts = line.split("\t")
    fields = parts[1].split() if len(parts) > 1 else []
    roles = dict(arg.partition(":")[::2] for arg in fields[1:])
    if len(fields) != 3 or set(roles) != {"Arg1", "Arg2"}:
        raise fail("expected 'R<n>\\tTYPE Arg1:T<a> Arg2:T<b>'")
    return Relation(fields[0], roles["Arg1"], roles["Arg2"])


def format_brat(doc: Document) -> str:
    """The ``.ann`` text of ``doc`` (its ``.txt`` is ``doc.text``)."""
    numbers = entity_numbers(doc)
    lines = []
    for entity, n in zip(doc.entities, numbers):
        span = doc.text[entity.start:entity.end]
        if "\n" in span or "\r" in span:
            raise FormatError(f"document {doc.id!r}: entity {entity.id!r} spans a line break, "
                              "which a .ann line cannot hold")
        lines.append(f"T{n}\t{entity.type} {entity.start} {entity.end}\t{span}")
    lines += (f"R{k}\t{rel.type} Arg1:T{head} Arg2:T{tail}"
              for k, (rel, head, tail) in enumerate(relation_ends(doc, numbers), 1))
    return "".join(line + "\n" for line in lines)


def read_brat(path: str | Path) -> list[Document]:
    """A brat folder's documents (every ``.ann`` with its ``.txt``, in file name order), or the one
    document of a ``.ann`` or ``.txt`` file and its pair."""
    path = Path(path)
    if path.is_dir():
        anns = sorted(path.glob("*.ann"))
        if not anns:
            logger.warning("%s: no .ann files in this brat folder", path)
    elif path.suffix in (".ann", ".txt"):
        anns = [path.with_suffix(".ann")]
    else:
        raise FormatError("expected a brat folder, or a .ann or .txt file", path=str(path))
    return [parse_brat(read_text(ann.with_suffix(".txt")), read_text(ann), ann.stem, str(ann)) for ann in anns]


def write_brat(documents: Iterable[Document], path: str | Path) -> None:
    """Write each document as ``<id>.txt`` and ``<id>.ann`` into the folder ``path`` (created)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    for i, doc in enumerate(documents):
        if not doc.id or doc.id in seen or "/" in doc.id or "\\" in doc.id:
            raise FormatError(f"id {doc.id!r} cannot name a brat file: ids must be non-empty, unique "
                              "and free of '/' and '\\'", path=str(folder), field=f"documents[{i}].id")
        seen.add(doc.id)
        write_text(folder / f"{doc.id}.txt", doc.text)
        write_text(folder / f"{doc.id}.ann", format_brat(doc))
