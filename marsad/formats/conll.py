"""CoNLL BIO: a ``token TAG`` line per token, a blank line between sentences (ANERcorp's format)::

    -DOCSTART- O

    أعلنت O
    حركة B-ACTOR
    الشباب I-ACTOR
    مسؤوليتها O
    . O

    وقُتل O
    ٣٧ B-NUMBER
    جندياً B-ACTOR

Columns are separated by white space; the token is the first column and the tag the last, so
CoNLL-2003's four columns (``token POS chunk TAG``) read too. ``-DOCSTART-`` lines separate
documents; in a file without them, as in ANERcorp, each sentence is a document. Tags go through
:mod:`marsad.bio`, which repairs an ``I-X`` that does not continue an ``X``.

CoNLL holds tokens, not text: reading joins the tokens of a sentence with single spaces and the
sentences of a document with line breaks, and numbers the documents ``"1"``, ``"2"``, ... in file
order. The original spacing, document ids, relations and meta are lost. Writing puts
``-DOCSTART- O`` before every document and splits it with :func:`marsad.text.sentence_spans` and
:func:`marsad.text.token_spans`, so every entity must start and end on a token boundary;
``parse_conll(format_conll(docs))`` gives back each document's tokens and its entities' tokens and
types.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from pathlib import Path

from ..bio import entities_to_tags, tags_to_spans
from ..documents import Document, Entity
from ..errors import FormatError
from ..text import sentence_spans, token_spans, word_spans
from ._common import numbered_lines, read_text, write_text

DOCSTART = "-DOCSTART-"
_TAG = re.compile(r"O|[BI]-\S+")

Sentence = list[tuple[str, str]]  # (token, tag) pairs


def parse_conll(text: str, path: str | None = None) -> list[Document]:
    """Documents from CoNLL text; ``path`` only names the file in error messages.

    >>> [doc] = parse_conll("قصفت O\\nطائرات B-WEAPON\\nمسيرة I-WEAPON\\nأبها B-LOCATION\\n")
    >>> doc.text, [(e.type, e.start, e.end) for e in doc.entities]
    ('قصفت طائرات مسيرة أبها', [('WEAPON', 5, 17), ('LOCATION', 18, 22)])
    """
    groups: list[list[Sentence]] = [[[]]]  # one group before the first -DOCSTART-, one after each
    has_docstart = False
    for n, line in numbered_lines(text):
        columns = line.split()
        if not columns:
            groups[-1].append([])
        elif columns[0] == DOCSTART:
            has_docstart = True
            groups.append([[]])
        elif len(columns) == 1:
            raise FormatError(f"expected a token and a tag, got one column {columns[0]!r}", path=path, line=n)
        elif not _TAG.fullmatch(columns[-1]):
            raise FormatError(f"unknown tag {columns[-1]!r} (expected O, B-TYPE or I-TYPE)", path=path, line=n)
        else:
            groups[-1][-1].append((columns[0], columns[-1]))
    if not has_docstart:  # as in ANERcorp: each sentence is a document
        groups = [[sentence] for sentence in groups[0] if sentence]
    elif not any(groups[0]):  # nothing before the first -DOCSTART-
        del groups[0]
    return [_document(str(i), [s for s in sentences if s]) for i, sentences in enumerate(groups, 1)]


def _document(doc_id: str, sentences: list[Sentence]) -> Document:
    pieces: list[str] = []
    spans: list[tuple[str, int, int]] = []
    offset = 0
    for sentence in sentences:
        tokens = [token for token, _ in sentence]
        starts = list(accumulate((len(t) + 1 for t in tokens[:-1]), initial=offset))
        for etype, first, last in tags_to_spans([tag for _, tag in sentence]):
            spans.append((etype, starts[first], starts[last - 1] + len(tokens[last - 1])))
        pieces.append(" ".join(tokens))
        offset += len(pieces[-1]) + 1  # the line break before the next sentence
    text = "\n".join(pieces)
    entities = []
    for etype, s, e in spans:
        # tokens may carry punctuation (ANERcorp's "–صنعاء"); a span starts and ends on word
        # characters, so it is trimmed to the words inside it, and dropped if it holds none
        words = word_spans(text[s:e])
        if words:
            start, end = s + words[0][0], s + words[-1][1]
            entities.append(Entity(etype, start, end, text[start:end], f"T{len(entities) + 1}"))
    return Document(text, doc_id, entities)


def format_conll(documents: Iterable[Document]) -> str:
    """CoNLL text for ``documents``, a ``-DOCSTART- O`` line before each; relations are dropped."""
    blocks = []
    for doc in documents:
        blocks.append(f"{DOCSTART} O\n")
        blocks += ("".join(f"{token} {tag}\n" for token, tag in s) for s in _tagged_sentences(doc))
    return "\n".join(blocks)


def _tagged_sentences(doc: Document) -> list[Sentence]:
    tokens = token_spans(doc.text)
    try:
        tags = entities_to_tags(tokens, doc.entities)
    except FormatError as e:
        raise FormatError(f"document {doc.id!r}: {e.message}", field=e.field) from None
    sentence_starts = [start for start, _ in sentence_spans(doc.text)]
    sentences: list[Sentence] = []
    current = -1
    for (start, end), tag in zip(tokens, tags):
        k = bisect_right(sentence_starts, start)
        # no sentence break inside an entity, so that every entity reads back whole
        if not sentences or (k != current and not tag.startswith("I-")):
            sentences.append([])
        current = k
        sentences[-1].append((doc.text[start:end], tag))
    return sentences


def read_conll(path: str | Path) -> list[Document]:
    return parse_conll(read_text(path), str(path))


def write_conll(documents: Iterable[Document], path: str | Path) -> None:
    write_text(path, format_conll(documents))
