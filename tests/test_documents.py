import json

import pytest

from conftest import make_entity
from marsad import Document, Entity, FormatError, Relation, read_jsonl, write_jsonl
from marsad.documents import iter_records


def test_jsonl_round_trip_is_exact(documents, tmp_path):
    path = tmp_path / "docs.jsonl"
    assert write_jsonl(documents, path) == len(documents)
    assert read_jsonl(path) == documents
    write_jsonl(read_jsonl(path), tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_bytes() == path.read_bytes()


def test_jsonl_keeps_arabic_unescaped_one_document_a_line(documents, jsonl_file):
    content = jsonl_file.read_text(encoding="utf-8")
    lines = content.splitlines()
    assert len(lines) == len(documents)
    assert "\\u06" not in content
    assert "قوات الدعم السريع" in lines[0]
    assert "حركة الشبـاب" in lines[2]  # tatweel kept as written
    assert json.loads(lines[1])["text"] == documents[1].text  # the \n inside the text is escaped


def test_scores_are_kept_and_absent_scores_not_written(tmp_path):
    text = "قتل 12 مدنياً في الفاشر"
    doc = Document(text, "pred-1", [make_entity(text, "T1", "NUMBER", "12", score=0.9731),
                                    make_entity(text, "T2", "ACTOR", "مدنياً", score=1.0),
                                    make_entity(text, "T3", "LOCATION", "الفاشر")],
                   [Relation("killed", "T1", "T2", score=0.5)])
    path = tmp_path / "pred.jsonl"
    write_jsonl([doc], path)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert [e.get("score") for e in record["entities"]] == [0.9731, 1.0, None]
    assert "score" not in record["entities"][2]
    assert record["relations"][0]["score"] == 0.5
    assert "meta" not in record
    assert read_jsonl(path) == [doc]


def test_from_dict_fills_defaults():
    text = "أطلق الحوثيون صواريخ"
    doc = Document.from_dict({"id": 7, "text": text,
                              "entities": [{"type": "ACTOR", "start": 5, "end": 13},
                                           {"id": 9, "type": "WEAPON", "start": 14, "end": 20}],
                              "relations": [{"type": "used", "head": "T1", "tail": 9}]})
    assert doc.id == "7"
    assert doc.entities == [Entity("ACTOR", 5, 13, "الحوثيون", "T1"), Entity("WEAPON", 14, 20, "صواريخ", "9")]
    assert doc.relations == [Relation("used", "T1", "9")]
    assert doc.meta == {}


def test_entity_lookup_by_id(documents):
    assert documents[0].entity("T2").text == "الفاشر"
    with pytest.raises(KeyError, match="document 'doc-1' has no entity 'T99'"):
        documents[0].entity("T99")


def test_iter_records_reports_a_bad_line_with_its_number_and_keeps_going(documents, write_lines):
    path = write_lines("mixed.jsonl", [
        documents[0].to_dict(),
        '{"id": "x", "text": ',
        "   ",
        documents[1].to_dict(),
        {"text": "قصف", "entities": [{"type": "ACTOR", "start": "0", "end": 3}]},
    ])
    records = list(iter_records(path))
    assert [(r.line, r.document is not None) for r in records] == [(1, True), (2, False), (4, True), (5, False)]
    assert records[0].document == documents[0] and records[2].document == documents[1]
    assert all(r.path == str(path) for r in records)
    assert str(records[1].error).startswith(f"{path}:2: malformed JSON: ")
    assert records[3].error.line == 5 and records[3].error.field == "entities[0].start"


def test_iter_records_reads_plain_records_by_text_field(write_lines):
    path = write_lines("plain.jsonl", [{"id": "a", "body": "قصف على غزة"}, {"body": "غارة"}])
    docs = [r.document for r in iter_records(path, text_field="body")]
    assert [(d.id, d.text, d.entities) for d in docs] == [("a", "قصف على غزة", []), ("", "غارة", [])]


def test_iter_records_keeps_extra_fields_in_meta_only_when_asked(write_lines):
    path = write_lines("news.jsonl", [
        {"id": "a", "text": "قصف على غزة", "title": "غزة", "source": "وكالة", "meta": {"lang": "ar"}},
        {"id": "b", "body": "غارة", "title": "عنوان"},
    ])
    kept = [r.document for r in iter_records(path, keep_extra=True)]
    assert kept[0].meta == {"lang": "ar", "title": "غزة", "source": "وكالة"}
    assert kept[1] is None
    by_body = [r.document for r in iter_records(path, text_field="body", keep_extra=True)]
    assert by_body[0] is None and (by_body[1].text, by_body[1].meta) == ("غارة", {"title": "عنوان"})
    strict = list(iter_records(path))
    assert strict[0].error.field == "source" and "unknown field" in str(strict[0].error)


def test_read_jsonl_raises_format_error_with_path_line_and_field(documents, write_lines):
    bad = documents[1].to_dict()
    bad["relations"][2]["tail"] = None
    path = write_lines("bad.jsonl", [documents[0].to_dict(), "", bad, documents[2].to_dict()])
    with pytest.raises(FormatError) as err:
        read_jsonl(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 3, "relations[2].tail")
    assert str(err.value) == f"{path}:3: relations[2].tail: expected str or int, got null"


def test_read_jsonl_of_a_missing_file_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_jsonl(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("kwargs, expected", [
    ({}, "boom"),
    ({"field": "text"}, "text: boom"),
    ({"path": "a.jsonl"}, "a.jsonl: boom"),
    ({"path": "a.jsonl", "line": 3, "field": "entities[1].start"}, "a.jsonl:3: entities[1].start: boom"),
])
def test_format_error_message_leaves_out_unknown_parts(kwargs, expected):
    assert str(FormatError("boom", **kwargs)) == expected
