"""The format converters: round trips, hand-written samples of each format, and error locations."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import make_document, make_entity
from marsad import Document, Entity, FormatError, Relation
from marsad.formats import FORMATS, guess_format, read_documents, write_documents
from marsad.formats.brat import format_brat, parse_brat
from marsad.formats.conll import format_conll, parse_conll
from marsad.formats.doccano import format_doccano, parse_doccano
from marsad.formats.labelstudio import format_labelstudio, parse_labelstudio
from marsad.text import token_spans


def build_news() -> list[Document]:
    """Three articles with hamza forms, clitic-attached spans, Eastern Arabic digits, diacritics
    and, in news-1, a ``\\r\\n`` line break."""
    return [
        make_document(
            "news-1",
            "أعلنت حركة الشباب مسؤوليتها عن هجوم بعبوة ناسفة على قاعدة للجيش الصومالي في مقديشو.\r\n"
            "وقُتل ٣٧ جندياً في الهجوم، وأُصيب آخرون.",
            [("T1", "ACTOR", "حركة الشباب"), ("T2", "WEAPON", "بعبوة ناسفة"), ("T3", "ACTOR", "للجيش الصومالي"),
             ("T4", "LOCATION", "مقديشو"), ("T5", "NUMBER", "٣٧"), ("T6", "ACTOR", "جندياً")],
            [("used", "T1", "T2"), ("attacked", "T1", "T3"), ("located_in", "T3", "T4"), ("killed", "T5", "T6")],
            "train"),
        make_document(
            "news-2",
            "أدانت إيران وتركيا الغارات الجوية التي شنتها الطائرات الحربية الإسرائيلية على ريف دمشق. "
            "وقالت وزارة الدفاع السورية إن الدفاعات الجوية أسقطت خمس طائرات مسيّرة.",
            [("T1", "ACTOR", "إيران"), ("T2", "ACTOR", "وتركيا"), ("T3", "WEAPON", "الغارات الجوية"),
             ("T4", "WEAPON", "الطائرات الحربية الإسرائيلية"), ("T5", "LOCATION", "دمشق"),
             ("T6", "ACTOR", "وزارة الدفاع السورية"), ("T7", "NUMBER", "خمس"), ("T8", "WEAPON", "طائرات مسيّرة")],
            [("located_in", "T3", "T5"), ("quantity", "T7", "T8")],
            "dev"),
        make_document(
            "news-3",
            "سيطرت قوات الدعم السريع على الفاشر بعد معارك مع الجيش السوداني. "
            "وأفادت منظمة الصحة العالمية بمقتل 29 مدنياً وإصابة ٤٥ آخرين في دارفور؟",
            [("T1", "ACTOR", "قوات الدعم السريع"), ("T2", "LOCATION", "الفاشر"), ("T3", "ACTOR", "الجيش السوداني"),
             ("T4", "ACTOR", "منظمة الصحة العالمية"), ("T5", "NUMBER", "29"), ("T6", "ACTOR", "مدنياً"),
             ("T7", "NUMBER", "٤٥"), ("T8", "ACTOR", "آخرين"), ("T9", "LOCATION", "دارفور")],
            [("controls", "T1", "T2"), ("attacked", "T1", "T3"), ("attacked", "T3", "T1"),
             ("killed", "T5", "T6"), ("injured", "T7", "T8"), ("located_in", "T6", "T9")],
            "test"),
    ]


def tokens(text: str) -> list[str]:
    return [text[s:e] for s, e in token_spans(text)]


def assert_error_at(error: pytest.ExceptionInfo[FormatError], location: str, message: str) -> None:
    """The error names ``location`` (``path:line``, ``path: field`` ...) first, then ``message``."""
    assert str(error.value).startswith(f"{location}: ")
    assert message in str(error.value)


# --- the registry -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, name", [
    ("jsonl", "gold.jsonl"), ("brat", "brat"), ("labelstudio", "export.json"), ("doccano", "doccano.jsonl")])
def test_round_trip_keeps_text_offsets_types_and_relations(tmp_path, fmt, name):
    docs = build_news()
    write_documents(docs, tmp_path / name, fmt)
    back = read_documents(tmp_path / name, fmt)
    # only marsad's own JSONL has a place for meta
    assert back == (docs if fmt == "jsonl" else [replace(d, meta={}) for d in docs])
    assert "\r\n" in back[0].text
    assert all(doc.text[e.start:e.end] == e.text for doc in back for e in doc.entities)


def test_conll_round_trip_keeps_tokens_and_entity_types(tmp_path):
    docs = build_news()
    write_documents(docs, tmp_path / "news.conll")
    back = read_documents(tmp_path / "news.conll")
    assert len(back) == len(docs)
    for doc, read in zip(docs, back):
        assert tokens(read.text) == tokens(doc.text)
        assert [(e.type, tokens(e.text)) for e in read.entities] == [(e.type, tokens(e.text)) for e in doc.entities]
        assert read.relations == []  # CoNLL has no place for relations


@pytest.mark.parametrize("name, fmt", [
    ("gold.jsonl", "jsonl"), ("ANERcorp.conll", "conll"), ("train.bio", "conll"), ("doc-1.ann", "brat"),
    ("project-3-at-2024.json", "labelstudio"), ("EXPORT.JSON", "labelstudio")])
def test_guess_format_from_the_suffix(name, fmt):
    assert guess_format(name) == fmt


def test_a_folder_is_guessed_to_be_brat(tmp_path):
    assert guess_format(tmp_path) == "brat"


def test_unknown_suffix_names_the_file_and_the_known_formats(tmp_path):
    path = tmp_path / "gold.xml"
    with pytest.raises(FormatError) as error:
        read_documents(path)
    assert_error_at(error, str(path), "'.xml'")
    assert all(name in str(error.value) for name in FORMATS)


def test_unknown_format_name_is_an_error(tmp_path):
    with pytest.raises(FormatError, match="unknown format 'tsv'; known formats: jsonl"):
        write_documents(build_news(), tmp_path / "gold.tsv", "tsv")


# --- CoNLL --------------------------------------------------------------------------------------

ANERCORP_SAMPLE = """\
أعلنت O
حركة B-ACTOR
الشباب I-ACTOR
مسؤوليتها O
. O

وقُتل O
٣٧ B-NUMBER
جندياً B-ACTOR
"""


def test_parse_conll_without_docstart_makes_a_document_per_sentence():
    assert parse_conll(ANERCORP_SAMPLE) == [
        Document("أعلنت حركة الشباب مسؤوليتها .", "1", [Entity("ACTOR", 6, 17, "حركة الشباب", "T1")]),
        Document("وقُتل ٣٧ جندياً", "2", [Entity("NUMBER", 6, 8, "٣٧", "T1"), Entity("ACTOR", 9, 15, "جندياً", "T2")]),
    ]


def test_parse_conll_with_docstart_joins_a_documents_sentences_with_line_breaks():
    # CoNLL-2003's four columns: the token is the first, the tag the last
    text = ("-DOCSTART- -X- -X- O\n\nأعلنت VBD O O\nحركة NN B-NP B-ACTOR\nالشباب NN I-NP I-ACTOR\n\n"
            "وقُتل VBD O O\n٣٧ CD B-NP B-NUMBER\n\n-DOCSTART- -X- -X- O\n\nقصفت VBD O O\nأبها NNP B-NP B-LOCATION\n")
    first, second = parse_conll(text)
    assert first.text == "أعلنت حركة الشباب\nوقُتل ٣٧"
    assert [(e.type, e.start, e.end) for e in first.entities] == [("ACTOR", 6, 17), ("NUMBER", 24, 26)]
    assert all(first.text[e.start:e.end] == e.text for e in first.entities)
    assert (second.id, second.text, second.entities) == ("2", "قصفت أبها", [Entity("LOCATION", 5, 9, "أبها", "T1")])


def test_parse_conll_repairs_an_inside_tag_that_continues_nothing():
    [doc] = parse_conll("أسقطت O\nخمس I-NUMBER\nطائرات I-WEAPON\nمسيّرة I-WEAPON\n")
    assert [(e.type, e.text) for e in doc.entities] == [("NUMBER", "خمس"), ("WEAPON", "طائرات مسيّرة")]


@pytest.mark.parametrize("text, line, message", [
    ("أعلنت O\nحركة\n", 2, "one column 'حركة'"),
    ("أعلنت O\nحركة B-ACTOR\nالشباب E-ACTOR\n", 3, "unknown tag 'E-ACTOR'"),
    ("\n\nمقديشو B-\n", 3, "unknown tag 'B-'"),
])
def test_bad_conll_lines_are_errors_at_their_line(tmp_path, text, line, message):
    path = tmp_path / "bad.conll"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_documents(path)
    assert_error_at(error, f"{path}:{line}", message)


def test_format_conll_rejects_an_entity_that_is_part_of_a_token():
    text = "أدانت إيران وتركيا الهجوم."
    doc = Document(text, "news-9", [make_entity(text, "T1", "ACTOR", "تركيا")])
    with pytest.raises(FormatError, match="document 'news-9': entity 'T1' .* does not fall on token boundaries"):
        format_conll([doc])


def test_format_conll_keeps_an_entity_whole_across_a_sentence_break():
    text = "هاجمت ق.س.د مواقع التنظيم."  # the abbreviation's periods end sentences for sentence_spans
    doc = Document(text, "news-9", [make_entity(text, "T1", "ACTOR", "ق.س.د")])
    [back] = parse_conll(format_conll([doc]))
    assert [(e.type, e.text) for e in back.entities] == [("ACTOR", "ق . س . د")]


# --- brat ---------------------------------------------------------------------------------------

BRAT_TEXT = "قالت جماعة الحوثي إنها قصفت مطار أبها بطائرات مسيرة.\r\nوأكدت السعودية اعتراض طائرتين."
BRAT_ANN = """\
T1\tACTOR 5 17\tجماعة الحوثي
R1\tattacked Arg1:T1 Arg2:T2
T2\tLOCATION 33 37\tأبها
T3\tWEAPON 38 51\tبطائرات مسيرة
#1\tAnnotatorNotes T3\tطائرات من نوع صماد
T4\tACTOR 60 68\tالسعودية
R2\tused Arg1:T1 Arg2:T3\t
"""


def write_brat_pair(folder: Path, ann: str, text: str = BRAT_TEXT, doc_id: str = "houthi-1") -> Path:
    folder.mkdir(exist_ok=True)
    # newline="": the \r\n of the text is written as it is, so the offsets count it
    with open(folder / f"{doc_id}.txt", "w", encoding="utf-8", newline="") as f:
        f.write(text)
    (folder / f"{doc_id}.ann").write_text(ann, encoding="utf-8")
    return folder / f"{doc_id}.ann"


@pytest.mark.parametrize("target", ["folder", ".ann", ".txt"])
def test_read_brat_sample_from_a_folder_or_either_file_of_the_pair(tmp_path, target):
    ann = write_brat_pair(tmp_path / "brat", BRAT_ANN)
    path = {"folder": ann.parent, ".ann": ann, ".txt": ann.with_suffix(".txt")}[target]
    [doc] = read_documents(path, "brat")
    assert doc == Document(BRAT_TEXT, "houthi-1", [
        Entity("ACTOR", 5, 17, "جماعة الحوثي", "T1"), Entity("LOCATION", 33, 37, "أبها", "T2"),
        Entity("WEAPON", 38, 51, "بطائرات مسيرة", "T3"), Entity("ACTOR", 60, 68, "السعودية", "T4"),
    ], [Relation("attacked", "T1", "T2"), Relation("used", "T1", "T3")])
    assert all(doc.text[e.start:e.end] == e.text for e in doc.entities)


@pytest.mark.parametrize("ann, line, message", [
    ("T1\tACTOR 5 17\tجماعة الحوثي\nT2\tWEAPON 38 46;47 51\tبطائرات مسيرة\n", 2, "discontinuous span '38 46;47 51'"),
    ("T1\tACTOR 5 17\tجماعة الحوثي\n\nE1\tAttack:T1\n", 3, "unsupported annotation 'E1'"),
    ("T1\tACTOR 5 17\tجماعة الحوثي\nA1\tNegated T1\n", 2, "unsupported annotation 'A1'"),
    ("R1\tattacked Arg1:T1 Arg2:T9\nT1\tACTOR 5 17\tجماعة الحوثي\n", 1, "relation names 'T9', which is no entity"),
    ("T1\tACTOR 5 17\tجماعة الحوثي\nR1\tattacked T1 T2\n", 2, "expected 'R<n>\\tTYPE Arg1:T<a> Arg2:T<b>'"),
    ("T1\tACTOR 5 17\tالحوثي\n", 1, "'الحوثي' differs from the text's 'جماعة الحوثي' at 5..17"),
    ("T1\tACTOR 5 170\tجماعة الحوثي\n", 1, "offsets 5..170 out of range for a text of 84 characters"),
])
def test_bad_brat_lines_are_errors_at_their_ann_line(tmp_path, ann, line, message):
    path = write_brat_pair(tmp_path, ann)
    with pytest.raises(FormatError) as error:
        read_documents(tmp_path)
    assert_error_at(error, f"{path}:{line}", message)


def test_write_brat_rejects_a_document_id_that_cannot_name_a_file(tmp_path):
    with pytest.raises(FormatError) as error:
        write_documents([replace(build_news()[0], id="../news-1")], tmp_path / "brat", "brat")
    assert_error_at(error, f"{tmp_path / 'brat'}: documents[0].id", "cannot name a brat file")


# --- Label Studio -------------------------------------------------------------------------------

def label(result_id: str, start: int, end: int, text: str, etype: str) -> dict:
    return {"id": result_id, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text, "labels": [etype]}}


def relation(from_id: str, to_id: str, rtype: str, direction: str = "right") -> dict:
    return {"type": "relation", "from_id": from_id, "to_id": to_id, "direction": direction, "labels": [rtype]}


def labelstudio_sample() -> list[dict]:
    return [
        {"id": 41, "data": {"text": "أدانت إيران وتركيا الغارات على ريف دمشق."},
         "annotations": [{"id": 7, "was_cancelled": False, "result": [
             label("Kx9_aQ", 6, 11, "إيران", "ACTOR"),
             label("pL2mZr", 12, 18, "وتركيا", "ACTOR"),
             relation("Kx9_aQ", "pL2mZr", "allied_with"),
             label("w3eRt0", 19, 26, "الغارات", "WEAPON"),
             {"id": "s1", "from_name": "topic", "to_name": "text", "type": "choices",
              "value": {"choices": ["إدانة"]}},
             label("Dm4sQq", 35, 39, "دمشق", "LOCATION"),
             relation("Dm4sQq", "w3eRt0", "located_in", "left"),
         ]}, {"id": 8, "result": []}]},
        {"id": 42, "data": {"text": "أسقطت الدفاعات الجوية خمس طائرات مسيّرة."},
         "predictions": [{"model_version": "marsad-0.1", "result": [
             label("n1", 22, 25, "خمس", "NUMBER"), label("n2", 26, 39, "طائرات مسيّرة", "WEAPON"),
             relation("n1", "n2", "quantity"),
         ]}]},
    ]


def test_parse_labelstudio_sample_keeps_result_ids_and_reads_predictions_when_unannotated():
    first, second = parse_labelstudio(json.dumps(labelstudio_sample(), ensure_ascii=False))
    assert first == Document("أدانت إيران وتركيا الغارات على ريف دمشق.", "41", [
        Entity("ACTOR", 6, 11, "إيران", "Kx9_aQ"), Entity("ACTOR", 12, 18, "وتركيا", "pL2mZr"),
        Entity("WEAPON", 19, 26, "الغارات", "w3eRt0"), Entity("LOCATION", 35, 39, "دمشق", "Dm4sQq"),
    ], [Relation("allied_with", "Kx9_aQ", "pL2mZr"), Relation("located_in", "w3eRt0", "Dm4sQq")])
    assert second == Document("أسقطت الدفاعات الجوية خمس طائرات مسيّرة.", "42", [
        Entity("NUMBER", 22, 25, "خمس", "n1"), Entity("WEAPON", 26, 39, "طائرات مسيّرة", "n2"),
    ], [Relation("quantity", "n1", "n2")])


def test_written_labelstudio_export_has_the_import_shape():
    [task] = json.loads(format_labelstudio(build_news()[:1]))
    assert task["data"] == {"text": build_news()[0].text, "doc_id": "news-1"}
    result = task["annotations"][0]["result"]
    assert result[0] == label("T1", 6, 17, "حركة الشباب", "ACTOR")
    assert result[6] == relation("T1", "T2", "used")


DELETE = object()


def resolve(tasks: list, field: str):
    """The object at a field path such as ``tasks[0].annotations[0].result[3].value``."""
    obj = {"tasks": tasks}
    for name, index in re.findall(r"(\w+)(?:\[(\d+)\])?", field):
        obj = obj[name] if not index else obj[name][int(index)]
    return obj


@pytest.mark.parametrize("parent, key, value, message", [
    ("tasks[1].predictions[0].result[1].value", "start", DELETE, "missing"),
    ("tasks[0].annotations[0].result[3].value", "end", 90, "offsets 19..90 out of range for a text of 40 characters"),
    ("tasks[0].annotations[0].result[3].value", "start", "19", 'expected int, got "19"'),
    ("tasks[0].annotations[0].result[1].value", "text", "تركيا", "'تركيا' differs from text[12:18] = 'وتركيا'"),
    ("tasks[0].annotations[0].result[6]", "to_id", "zz", "no entity result has id 'zz'"),
    ("tasks[0].annotations[0].result[2]", "labels", [], "expected one or more relation types"),
    ("tasks[1].predictions[0].result[0].value", "labels", ["NUMBER", "ACTOR"], "expected one label"),
    ("tasks[1].data", "text", DELETE, "missing"),
])
def test_bad_labelstudio_results_are_errors_at_their_field(tmp_path, parent, key, value, message):
    tasks = labelstudio_sample()
    if value is DELETE:
        del resolve(tasks, parent)[key]
    else:
        resolve(tasks, parent)[key] = value
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_documents(path)
    assert_error_at(error, f"{path}: {parent}.{key}", message)


def test_malformed_labelstudio_json_is_an_error_at_its_line(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[\n  {"data": {"text": "قصفت أبها"}},\n  {"data": }\n]\n', encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_documents(path)
    assert_error_at(error, f"{path}:3", "malformed JSON")


# --- doccano ------------------------------------------------------------------------------------

DOCCANO_LINE = {"id": 7, "text": "سيطرت قوات الدعم السريع على الفاشر.", "Comments": [],
                "entities": [{"id": 11, "label": "ACTOR", "start_offset": 6, "end_offset": 23},
                             {"id": 12, "label": "LOCATION", "start_offset": 28, "end_offset": 34}],
                "relations": [{"id": 3, "from_id": 11, "to_id": 12, "type": "controls"}]}


def test_parse_doccano_sample_maps_int_ids_to_entity_ids():
    assert parse_doccano(json.dumps(DOCCANO_LINE, ensure_ascii=False)) == [
        Document("سيطرت قوات الدعم السريع على الفاشر.", "7",
                 [Entity("ACTOR", 6, 23, "قوات الدعم السريع", "T11"), Entity("LOCATION", 28, 34, "الفاشر", "T12")],
                 [Relation("controls", "T11", "T12")])]


def test_format_doccano_maps_entity_ids_back_to_ints():
    record = json.loads(format_doccano(parse_doccano(json.dumps(DOCCANO_LINE, ensure_ascii=False))))
    assert [e["id"] for e in record["entities"]] == [11, 12]
    assert record["relations"] == [{"id": 1, "from_id": 11, "to_id": 12, "type": "controls"}]


@pytest.mark.parametrize("edit, field, message", [
    (lambda r: r["entities"][1].pop("end_offset"), "entities[1].end_offset", "missing"),
    (lambda r: r["entities"][0].update(start_offset=-1), "entities[0].start_offset", "offsets -1..23 out of range"),
    (lambda r: r["entities"][0].update(id="11"), "entities[0].id", "expected int"),
    (lambda r: r["relations"][0].update(to_id=99), "relations[0].to_id", "no entity of this line has id 99"),
    (lambda r: r.pop("entities"), "entities", "missing"),
])
def test_bad_doccano_records_are_errors_at_their_line_and_field(tmp_path, edit, field, message):
    bad = json.loads(json.dumps(DOCCANO_LINE))
    edit(bad)
    path = tmp_path / "export.jsonl"
    lines = [json.dumps(DOCCANO_LINE, ensure_ascii=False), "", json.dumps(bad, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_documents(path, "doccano")
    assert_error_at(error, f"{path}:3: {field}", message)


def test_malformed_doccano_line_is_an_error_at_its_line(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(DOCCANO_LINE, ensure_ascii=False) + '\n{"id": 8, "text": \n', encoding="utf-8")
    with pytest.raises(FormatError) as error:
        read_documents(path, "doccano")
    assert_error_at(error, f"{path}:2", "malformed JSON")


# --- ids across formats -------------------------------------------------------------------------

@pytest.mark.parametrize("format_, parse", [
    (lambda docs: format_brat(docs[0]), lambda text, doc: [parse_brat(doc.text, text, doc.id)]),
    (format_doccano, lambda text, doc: parse_doccano(text)),
])
def test_ids_that_are_not_numbered_are_renumbered_and_relations_follow(format_, parse):
    doc = parse_labelstudio(json.dumps(labelstudio_sample(), ensure_ascii=False))[0]
    [back] = parse(format_([doc]), doc)
    assert [e.id for e in back.entities] == ["T1", "T2", "T3", "T4"]
    assert back.relations == [Relation("allied_with", "T1", "T2"), Relation("located_in", "T3", "T4")]


def test_writing_a_relation_to_a_missing_entity_names_the_document():
    doc = build_news()[0]
    doc.relations.append(Relation("attacked", "T1", "T99"))
    with pytest.raises(FormatError, match="document 'news-1': relation 'attacked' names 'T99'"):
        format_doccano([doc])


def test_conll_entity_spans_are_trimmed_to_their_words():
    # ANERcorp writes some tokens with punctuation attached, e.g. "–صنعاء" tagged B-LOC
    [doc] = parse_conll("وصل O\nالوفد O\n–صنعاء B-LOC\n. O\n")
    [entity] = doc.entities
    assert (entity.text, doc.text[entity.start:entity.end]) == ("صنعاء", "صنعاء")
