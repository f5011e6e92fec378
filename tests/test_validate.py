import json

import pytest

from conftest import find_span, make_document
from marsad import Document, load_schema
from marsad.validate import Issue, validate_document, validate_documents, validate_jsonl


def _add_entity(d, entity_id, etype, surface, n=1):
    start, end = find_span(d["text"], surface, n)
    d["entities"].append({"id": entity_id, "type": etype, "start": start, "end": end, "text": surface})


def _shift(d, i, start=0, end=0):
    """Move entity i's offsets and keep its text equal to the text it now covers."""
    e = d["entities"][i]
    e["start"] += start
    e["end"] += end
    e["text"] = d["text"][e["start"]:e["end"]]


def _set(obj, key, value):
    obj[key] = value


def _pop(obj, key):
    obj.pop(key)


# (case, base document index, change to the record (returns a replacement line, or None to keep
# the changed dict), expected issues of line 3 (the start of each str(issue) after the file name))
CASES = [
    ("malformed_json", 2, lambda d: json.dumps(d, ensure_ascii=False)[:-1],
     ["bad.jsonl:3: malformed JSON: "]),
    ("non_object_line", 2, lambda d: [d], ["bad.jsonl:3: expected a JSON object, got list"]),
    ("missing_text", 2, lambda d: _pop(d, "text"), ["bad.jsonl:3: text: missing"]),
    ("text_not_a_string", 2, lambda d: _set(d, "text", 42), ["bad.jsonl:3: text: expected str, got 42"]),
    ("entities_not_a_list", 2, lambda d: _set(d, "entities", {}), ["bad.jsonl:3: entities: expected list, got {}"]),
    ("entity_not_an_object", 2, lambda d: _set(d["entities"], 2, "T3"),
     ["bad.jsonl:3: entities[2]: expected an object"]),
    ("start_is_a_string", 2, lambda d: _set(d["entities"][1], "start", str(d["entities"][1]["start"])),
     ['bad.jsonl:3: entities[1].start: expected int, got "']),
    ("end_is_a_float", 2, lambda d: _set(d["entities"][1], "end", d["entities"][1]["end"] + 0.0),
     ["bad.jsonl:3: entities[1].end: expected int, got "]),
    ("start_is_a_bool", 2, lambda d: _set(d["entities"][0], "start", False),
     ["bad.jsonl:3: entities[0].start: expected int, got false"]),
    ("missing_end", 2, lambda d: _pop(d["entities"][1], "end"), ["bad.jsonl:3: entities[1].end: missing"]),
    ("unknown_entity_field", 2, lambda d: _set(d["entities"][0], "label", "ACTOR"),
     ["bad.jsonl:3: entities[0].label: unknown field (allowed: "]),
    ("score_above_one", 2, lambda d: _set(d["entities"][0], "score", 1.5),
     ["bad.jsonl:3: entities[0].score: must be between 0 and 1, got 1.5"]),
    ("relation_head_is_a_list", 2, lambda d: _set(d["relations"][0], "head", ["T1"]),
     ["bad.jsonl:3: relations[0].head: expected str or int, got "]),
    ("end_past_the_text", 2, lambda d: _set(d["entities"][6], "end", len(d["text"]) + 5),
     ["bad.jsonl:3: entities[6].end: offsets "]),
    ("negative_start", 2, lambda d: _set(d["entities"][0], "start", -1),
     ["bad.jsonl:3: entities[0].start: offsets -1.."]),
    ("empty_span", 2, lambda d: _set(d["entities"][1], "end", d["entities"][1]["start"]),
     ["bad.jsonl:3: entities[1].start: offsets "]),
    ("start_inside_a_word", 2, lambda d: _shift(d, 2, start=2),
     ["bad.jsonl:3: entities[2].start: ", "is not at the start of a word"]),
    ("end_inside_a_word", 2, lambda d: _shift(d, 2, end=-1),
     ["bad.jsonl:3: entities[2].end: ", "is not at the end of a word"]),
    ("clitic_wa_cut_off", 1, lambda d: _shift(d, 1, start=1),  # قوات الدعم السريع inside وقوات
     ["bad.jsonl:3: entities[1].start: ", "is not at the start of a word"]),
    ("clitic_bi_cut_off", 0, lambda d: _shift(d, 3, start=1),  # طائرات مسيرة inside بطائرات
     ["bad.jsonl:3: entities[3].start: ", "is not at the start of a word"]),
    ("span_takes_the_arabic_comma", 2, lambda d: _shift(d, 2, end=1),  # الصومال،
     ["bad.jsonl:3: entities[2].end: ", "is not at the end of a word"]),
    ("span_starts_on_a_space", 2, lambda d: _shift(d, 2, start=-1),
     ["bad.jsonl:3: entities[2].start: ", "is not at the start of a word"]),
    ("entity_text_differs", 2, lambda d: _set(d["entities"][0], "text", "حركة الشباب"),  # tatweel dropped
     ["bad.jsonl:3: entities[0].text: 'حركة الشباب' differs from text["]),
    ("overlapping_spans", 2, lambda d: _add_entity(d, "T8", "ACTOR", "الشامي المتحدث"),
     ["bad.jsonl:3: entities[7]: overlaps entities[3] ('أحمد الشامي' at "]),
    ("unknown_entity_type", 2, lambda d: _add_entity(d, "T8", "ROLE", "المتحدث"),
     ["bad.jsonl:3: entities[7].type: unknown entity type 'ROLE' (schema: ACTOR, LOCATION, WEAPON, NUMBER)"]),
    ("unknown_relation_type", 2, lambda d: _set(d["relations"][0], "type", "bombed"),
     ["bad.jsonl:3: relations[0].type: unknown relation type 'bombed'"]),
    ("relation_arguments_reversed", 2, lambda d: d["relations"][3].update(head="T7", tail="T6"),
     ["bad.jsonl:3: relations[3].type: killed cannot link ACTOR -> NUMBER (allowed: NUMBER -> ACTOR)"]),
    ("relation_tail_type_forbidden", 2, lambda d: d["relations"].append({"type": "used", "head": "T1", "tail": "T3"}),
     ["bad.jsonl:3: relations[4].type: used cannot link ACTOR -> LOCATION (allowed: ACTOR -> WEAPON)"]),
    ("dangling_head", 2, lambda d: _set(d["relations"][0], "head", "T99"),
     ["bad.jsonl:3: relations[0].head: no entity has id 'T99'"]),
    ("dangling_tail", 2, lambda d: _set(d["relations"][1], "tail", "T0"),
     ["bad.jsonl:3: relations[1].tail: no entity has id 'T0'"]),
    ("relation_to_itself", 2, lambda d: d["relations"].append({"type": "affiliated_with", "head": "T4", "tail": "T4"}),
     ["bad.jsonl:3: relations[4]: affiliated_with links entity 'T4' to itself"]),
    ("duplicate_entity_id", 2, lambda d: _add_entity(d, "T4", "ACTOR", "المتحدث"),
     ["bad.jsonl:3: entities[7].id: duplicate entity id 'T4' (also entities[3])"]),
    ("duplicate_relation", 2, lambda d: d["relations"].append(dict(d["relations"][0])),
     ["bad.jsonl:3: relations[4]: duplicates relations[0] (controls T1 -> T2)"]),
    ("symmetric_relation_in_both_orders", 1,
     lambda d: d["relations"].append({"type": "allied_with", "head": "T5", "tail": "T4"}),
     ["bad.jsonl:3: relations[4]: duplicates relations[2] (allied_with T5 -> T4)"]),
    ("duplicate_document_id", 2, lambda d: _set(d, "id", "doc-1"),
     ["bad.jsonl:3: id: duplicate document id 'doc-1' (first at line 1)"]),
    ("relation_across_sentences", 1,
     lambda d: d["relations"].append({"type": "attacked", "head": "T1", "tail": "T4"}),
     ["bad.jsonl:3: relations[4]: attacked links 'الجيش السوداني' and 'إيران' across sentences"]),
    ("empty_text", 2, lambda d: d.update(text=" \n ", entities=[], relations=[]),
     ["bad.jsonl:3: text: empty text"]),
]


@pytest.mark.parametrize("base, change, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_reported_at_its_file_line_and_field(documents, schema, write_lines, base, change, expected):
    record = documents[base].to_dict()
    if base != 2:
        record["id"] = "changed"
    replacement = change(record)
    path = write_lines("bad.jsonl", [documents[0].to_dict(), documents[1].to_dict(),
                                     record if replacement is None else replacement])

    issues = [str(i) for i in validate_jsonl(str(path), schema)]

    assert len(issues) == 1, issues
    where = issues[0][len(str(path.parent)) + 1:]
    assert where.startswith(expected[0])
    assert all(part in where for part in expected[1:])


def test_issue_string_reads_file_line_field_message():
    assert str(Issue("a/bad.jsonl", 3, "entities[1].start", "boom")) == "a/bad.jsonl:3: entities[1].start: boom"
    assert str(Issue("bad.jsonl", 3, "", "malformed JSON")) == "bad.jsonl:3: malformed JSON"
    assert str(Issue("bad.ann", None, "id", "boom")) == "bad.ann: id: boom"


def test_clean_file_gives_no_issues(jsonl_file, schema):
    assert validate_jsonl(str(jsonl_file), schema) == []


@pytest.mark.parametrize("index", range(4))
def test_clean_documents_have_no_problems(documents, schema, index):
    assert validate_document(documents[index], schema) == []


def test_mutual_attacks_in_both_directions_are_not_duplicates(documents, schema):
    doc = documents[1]
    assert {(r.type, r.head, r.tail) for r in doc.relations} >= {("attacked", "T1", "T2"), ("attacked", "T2", "T1")}
    assert validate_document(doc, schema) == []


def test_decimal_point_does_not_end_the_sentence_of_a_relation(documents, schema):
    doc = documents[3]
    assert "3.5" in doc.text[doc.entity("T1").end:doc.entity("T4").start]
    assert validate_document(doc, schema) == []


def test_entity_ending_in_a_diacritic_is_on_a_word_boundary(documents, schema):
    doc = documents[0]
    assert doc.entity("T6").text.endswith("\u064b")  # مدنياً ends in tanween
    assert validate_document(doc, schema) == []


def test_entity_after_an_emoji_with_variation_selector_is_on_a_word_boundary(schema):
    doc = make_document("emoji", "\u2b55\ufe0fالحوثيون يطلقون خمسة صواريخ باليستية على مأرب.",  # ⭕️
                        [("T1", "ACTOR", "الحوثيون"), ("T2", "WEAPON", "صواريخ باليستية")],
                        [("used", "T1", "T2")], "test")
    assert doc.text[doc.entities[0].start - 1] == "\ufe0f"
    assert validate_document(doc, schema) == []


def test_every_overlap_with_a_long_span_is_reported(documents, schema):
    doc = documents[2].to_dict()
    _add_entity(doc, "T8", "LOCATION", "بلدة عيل بور وسط الصومال")
    problems = validate_document(Document.from_dict(doc), schema)
    assert [f for f, _ in problems] == ["entities[1]", "entities[2]"]
    assert all(m.startswith("overlaps entities[7]") for _, m in problems)


def test_file_with_several_bad_lines_reports_all_and_checks_the_lines_after(documents, schema, write_lines):
    bad_type = documents[2].to_dict()
    bad_type["entities"][0]["type"] = "PERSON"
    bad_type["relations"] = []
    path = write_lines("bad.jsonl", [
        documents[0].to_dict(),                      # 1 clean
        '{"id": "x", "text": "قصف"',                  # 2 malformed JSON
        "",                                           # 3 blank: skipped
        {"id": "y"},                                  # 4 missing text
        documents[1].to_dict(),                       # 5 clean
        "42",                                         # 6 not an object
        bad_type,                                     # 7 unknown type
        documents[3].to_dict() | {"id": "doc-2"},     # 8 duplicate id of line 5
    ])

    issues = [str(i)[len(str(path.parent)) + 1:] for i in validate_jsonl(str(path), schema)]

    assert [i.split(":")[1] for i in issues] == ["2", "4", "6", "7", "8"]
    assert issues[0].startswith("bad.jsonl:2: malformed JSON")
    assert issues[1] == "bad.jsonl:4: text: missing"
    assert issues[2] == "bad.jsonl:6: expected a JSON object, got int"
    assert issues[3].startswith("bad.jsonl:7: entities[0].type: unknown entity type 'PERSON'")
    assert issues[4] == "bad.jsonl:8: id: duplicate document id 'doc-2' (first at line 5)"


def test_line_that_is_not_utf8_is_reported_and_the_rest_checked(documents, schema, tmp_path):
    path = tmp_path / "bad.jsonl"
    cp1256 = json.dumps({"id": "w", "text": "قصف"}, ensure_ascii=False).encode("cp1256")
    bad = documents[2].to_dict()
    bad["entities"][0]["type"] = "PERSON"
    bad["relations"] = []
    path.write_bytes(cp1256 + b"\n" + json.dumps(bad, ensure_ascii=False).encode("utf-8") + b"\n")

    issues = [str(i)[len(str(tmp_path)) + 1:] for i in validate_jsonl(str(path), schema)]

    assert issues[0].startswith("bad.jsonl:1: not UTF-8")
    assert issues[1].startswith("bad.jsonl:2: entities[0].type: unknown entity type 'PERSON'")
    assert len(issues) == 2


CUSTOM_SCHEMA = """\
name: with-dates
entity_types: [ACTOR, LOCATION, WEAPON, NUMBER, DATE]
relation_types:
  attacked: {head: [ACTOR], tail: [ACTOR, LOCATION]}
  occurred_on: {head: [ACTOR], tail: [DATE]}
"""


def test_custom_schema_file_changes_what_is_valid(documents, tmp_path, write_lines):
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(CUSTOM_SCHEMA, encoding="utf-8")
    custom = load_schema(schema_path)
    doc = documents[3].to_dict()
    doc["text"] += " ووقع الهجوم يوم الثلاثاء."
    _add_entity(doc, "T5", "DATE", "الثلاثاء")
    doc["relations"] = [{"type": "attacked", "head": "T1", "tail": "T4"}]
    path = write_lines("dated.jsonl", [doc, documents[3].to_dict() | {"id": "doc-used"}])

    default_issues = [str(i) for i in validate_jsonl(str(path), load_schema())]
    custom_issues = [str(i) for i in validate_jsonl(str(path), custom)]

    assert len(default_issues) == 1
    assert "dated.jsonl:1: entities[4].type: unknown entity type 'DATE'" in default_issues[0]
    # the custom schema knows DATE but has no `used` or `quantity`
    assert [i.split("dated.jsonl:")[1].split(":")[:2] for i in custom_issues] == [
        ["2", " relations[0].type"], ["2", " relations[1].type"]]
    assert "unknown relation type 'used'" in custom_issues[0]
    assert "unknown relation type 'quantity'" in custom_issues[1]


def test_documents_without_line_numbers_are_reported_by_file_and_field(documents, schema):
    documents[1].entities[0].type = "PERSON"
    documents[3].id = documents[0].id
    issues = [str(i) for i in validate_documents(documents, schema, "corpus.ann")]
    assert issues[0].startswith("corpus.ann: entities[0].type: unknown entity type 'PERSON'")
    assert issues[-1] == "corpus.ann: id: duplicate document id 'doc-1' (first at document 1)"
    # the two attacked relations from and to the PERSON entity no longer fit the schema
    assert [i.split(": ")[1] for i in issues[1:3]] == ["relations[0].type", "relations[1].type"]
    assert len(issues) == 4
