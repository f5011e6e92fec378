"""The shipped corpus: it validates, and it holds the coverage the project promises."""

from __future__ import annotations

from collections import Counter

import pytest

from marsad import load_schema, read_jsonl
from marsad.validate import validate_jsonl

from conftest import ROOT

SPLITS = ("train", "dev", "test")
FILES = [ROOT / "annotations" / f"{s}.jsonl" for s in SPLITS]


@pytest.mark.parametrize("path", FILES, ids=SPLITS)
def test_corpus_file_validates_cleanly(path):
    assert validate_jsonl(str(path), load_schema()) == []


@pytest.fixture(scope="module")
def corpus():
    return {s: read_jsonl(p) for s, p in zip(SPLITS, FILES)}


def test_corpus_has_300_documents_split_by_document(corpus):
    ids = [d.id for docs in corpus.values() for d in docs]
    assert len(ids) >= 300 and len(set(ids)) == len(ids)
    assert all(d.meta["split"] == s for s, docs in corpus.items() for d in docs)
    assert 0.6 <= len(corpus["train"]) / len(ids) <= 0.75


def test_corpus_covers_every_type_and_theatre(corpus):
    docs = [d for ds in corpus.values() for d in ds]
    schema = load_schema()
    entities = Counter(e.type for d in docs for e in d.entities)
    relations = Counter(r.type for d in docs for r in d.relations)
    assert all(entities[t] >= 600 for t in schema.entity_types), entities
    assert all(relations[t] >= 150 for t in schema.relation_names), relations
    test_relations = Counter(r.type for d in corpus["test"] for r in d.relations)
    assert all(test_relations[t] >= 20 for t in schema.relation_names), test_relations
    assert len({d.meta["theatre"] for d in docs}) >= 12
    assert all(80 <= len(d.text.split()) <= 360 for d in docs)
