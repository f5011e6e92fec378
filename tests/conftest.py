"""Shared fixtures: hand-made Arabic conflict-news documents annotated by the guidelines.

Offsets are never typed by hand: :func:`find_span` locates the n-th occurrence of a surface
string, so a document stays right when its text is edited.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marsad import Document, Entity, Relation, load_schema, read_jsonl, write_jsonl
from marsad.encoders import build_encoder
from marsad.config import TrainingArguments
from marsad.training import train


def find_span(text: str, surface: str, n: int = 1) -> tuple[int, int]:
    """``(start, end)`` of the n-th (1-based) occurrence of ``surface`` in ``text``."""
    start = -1
    for _ in range(n):
        start = text.find(surface, start + 1)
        if start < 0:
            raise ValueError(f"{surface!r} occurs fewer than {n} times in {text!r}")
    return start, start + len(surface)


def make_entity(text: str, entity_id: str, etype: str, surface: str, n: int = 1,
                score: float | None = None) -> Entity:
    start, end = find_span(text, surface, n)
    return Entity(etype, start, end, surface, entity_id, score)


def make_document(doc_id: str, text: str, entities: list[tuple], relations: list[tuple],
                  split: str) -> Document:
    """``entities``: ``(id, type, surface[, n])``; ``relations``: ``(type, head_id, tail_id)``."""
    return Document(text, doc_id, [make_entity(text, *e) for e in entities],
                    [Relation(*r) for r in relations], {"source": "hand-made", "split": split})


def build_documents() -> list[Document]:
    return [
        make_document(
            "doc-1",
            "قصفت قوات الدعم السريع مدينة الفاشر في شمال دارفور بطائرات مسيرة، ما أسفر عن مقتل 12 "
            "مدنياً وإصابة ٣٠ آخرين. وقالت منظمة الصحة العالمية إن المستشفى الرئيسي خرج عن الخدمة.",
            [("T1", "ACTOR", "قوات الدعم السريع"), ("T2", "LOCATION", "الفاشر"),
             ("T3", "LOCATION", "دارفور"), ("T4", "WEAPON", "بطائرات مسيرة"), ("T5", "NUMBER", "12"),
             ("T6", "ACTOR", "مدنياً"), ("T7", "NUMBER", "٣٠"), ("T8", "ACTOR", "آخرين"),
             ("T9", "ACTOR", "منظمة الصحة العالمية")],
            [("attacked", "T1", "T2"), ("used", "T1", "T4"), ("located_in", "T2", "T3"),
             ("killed", "T5", "T6"), ("injured", "T7", "T8")],
            "train"),
        make_document(
            "doc-2",
            "اندلعت اشتباكات عنيفة بين الجيش السوداني وقوات الدعم السريع في الخرطوم.\n"
            "وأعلنت إيران دعمها للحوثيين في اليمن؟",
            [("T1", "ACTOR", "الجيش السوداني"), ("T2", "ACTOR", "وقوات الدعم السريع"),
             ("T3", "LOCATION", "الخرطوم"), ("T4", "ACTOR", "إيران"), ("T5", "ACTOR", "للحوثيين"),
             ("T6", "LOCATION", "اليمن")],
            [("attacked", "T1", "T2"), ("attacked", "T2", "T1"), ("allied_with", "T4", "T5"),
             ("located_in", "T5", "T6")],
            "train"),
        make_document(
            "doc-3",
            "أعلنت حركة الشبـاب سيطرتها على بلدة عيل بور وسط الصومال، وقال أحمد الشامي المتحدث "
            "باسم الجيش الصومالي إن ٧ جنود قُتلوا في الهجوم.",
            [("T1", "ACTOR", "حركة الشبـاب"), ("T2", "LOCATION", "عيل بور"), ("T3", "LOCATION", "الصومال"),
             ("T4", "ACTOR", "أحمد الشامي"), ("T5", "ACTOR", "الجيش الصومالي"), ("T6", "NUMBER", "٧"),
             ("T7", "ACTOR", "جنود")],
            [("controls", "T1", "T2"), ("located_in", "T2", "T3"), ("affiliated_with", "T4", "T5"),
             ("killed", "T6", "T7")],
            "dev"),
        make_document(
            "doc-4",
            # 3.5 is a distance (not a NUMBER); the relation T1 -> T4 spans its decimal point
            "أطلق الحوثيون خمسة صواريخ باليستية من مسافة 3.5 كيلومتر على مأرب، وفق مصادر محلية.",
            [("T1", "ACTOR", "الحوثيون"), ("T2", "NUMBER", "خمسة"), ("T3", "WEAPON", "صواريخ باليستية"),
             ("T4", "LOCATION", "مأرب")],
            [("used", "T1", "T3"), ("quantity", "T2", "T3"), ("attacked", "T1", "T4")],
            "test"),
    ]


def long_document(copies: int = 3) -> Document:
    """The test documents joined ``copies`` times into one article several encoder windows long."""
    docs = build_documents() * copies
    text = "\n".join(d.text for d in docs)
    entities, relations, offset = [], [], 0
    for k, doc in enumerate(docs):
        ids = {e.id: f"T{len(entities) + i + 1}" for i, e in enumerate(doc.entities)}
        entities += [Entity(e.type, e.start + offset, e.end + offset, e.text, ids[e.id]) for e in doc.entities]
        relations += [Relation(r.type, ids[r.head], ids[r.tail]) for r in doc.relations]
        offset += len(doc.text) + 1
    return Document(text, "long", entities, relations)


@pytest.fixture
def schema():
    return load_schema()


@pytest.fixture
def documents() -> list[Document]:
    """Four clean documents (train, train, dev, test) covering every entity and relation type."""
    return build_documents()


@pytest.fixture
def jsonl_file(tmp_path, documents) -> Path:
    path = tmp_path / "gold.jsonl"
    write_jsonl(documents, path)
    return path


@pytest.fixture
def write_lines(tmp_path):
    """Write a JSONL file line by line: dicts are dumped as JSON, strings are written as they are."""
    def write(name: str, lines: list) -> Path:
        path = tmp_path / name
        with open(path, "w", encoding="utf-8") as f:
            for line in lines:
                f.write((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n")
        return path
    return write


ROOT = Path(__file__).resolve().parent.parent
TINY_CONFIG = ROOT / "configs" / "tiny.yaml"


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """A 2-layer, hidden-64 BERT with a WordPiece vocabulary trained on Arabic news text (the
    shipped corpus and the test documents), saved as a Hugging Face folder and loaded by path."""
    texts = [d.text for d in build_documents()]
    for path in sorted((ROOT / "annotations").glob("*.jsonl")):
        texts += [d.text for d in read_jsonl(path)]
    return build_encoder(texts, tmp_path_factory.mktemp("tiny-encoder"), vocab_size=3000, hidden=64,
                         layers=2, heads=2, max_position=256)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_encoder) -> Path:
    """The tiny encoder fine-tuned (configs/tiny.yaml) until it reproduces the test documents,
    and a long article made of them that it can only read in several windows."""
    folder = tmp_path_factory.mktemp("tiny-model")
    write_jsonl(build_documents() + [long_document()], folder / "train.jsonl")
    args = TrainingArguments.from_yaml(TINY_CONFIG, {"encoder": str(tiny_encoder), "output_dir": str(folder / "run"),
                                                     "train_file": str(folder / "train.jsonl")})
    return train(args)
