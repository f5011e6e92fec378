import pytest

from conftest import build_documents, make_entity
from marsad import FormatError
from marsad.bio import allowed_transition, bio_labels, entities_to_tags, repair, tags_to_spans
from marsad.text import token_spans


def test_bio_labels_follow_the_schema_order(schema):
    assert bio_labels(schema.entity_types) == [
        "O", "B-ACTOR", "I-ACTOR", "B-LOCATION", "I-LOCATION", "B-WEAPON", "I-WEAPON", "B-NUMBER", "I-NUMBER"]


def test_entities_to_tags_tags_each_token():
    text = "قصفت قوات الدعم السريع الفاشر، وقتلت ٣ مدنيين."
    entities = [make_entity(text, "T1", "ACTOR", "قوات الدعم السريع"), make_entity(text, "T2", "LOCATION", "الفاشر"),
                make_entity(text, "T3", "NUMBER", "٣"), make_entity(text, "T4", "ACTOR", "مدنيين")]
    assert entities_to_tags(token_spans(text), entities) == [
        "O", "B-ACTOR", "I-ACTOR", "I-ACTOR", "B-LOCATION", "O", "O", "B-NUMBER", "B-ACTOR", "O"]


def test_adjacent_entities_of_one_type_stay_apart():
    text = "أدانت مصر السعودية الهجوم"  # two ACTORs with nothing between them
    entities = [make_entity(text, "T1", "ACTOR", "مصر"), make_entity(text, "T2", "ACTOR", "السعودية")]
    tags = entities_to_tags(token_spans(text), entities)
    assert tags == ["O", "B-ACTOR", "B-ACTOR", "O"]
    assert tags_to_spans(tags) == [("ACTOR", 1, 2), ("ACTOR", 2, 3)]


@pytest.mark.parametrize("doc", build_documents(), ids=lambda d: d.id)
def test_tags_to_spans_gives_back_the_entities(doc):
    tokens = token_spans(doc.text)
    spans = tags_to_spans(entities_to_tags(tokens, doc.entities))
    back = [(etype, tokens[first][0], tokens[last - 1][1]) for etype, first, last in spans]
    assert back == sorted(((e.type, e.start, e.end) for e in doc.entities), key=lambda t: t[1])


@pytest.mark.parametrize("tags, expected", [
    (["I-ACTOR"], ["B-ACTOR"]),
    (["O", "I-WEAPON", "I-WEAPON"], ["O", "B-WEAPON", "I-WEAPON"]),
    (["B-ACTOR", "I-LOCATION", "I-LOCATION"], ["B-ACTOR", "B-LOCATION", "I-LOCATION"]),
    (["B-ACTOR", "O", "I-ACTOR"], ["B-ACTOR", "O", "B-ACTOR"]),
    (["B-NUMBER", "I-NUMBER", "B-NUMBER", "O"], ["B-NUMBER", "I-NUMBER", "B-NUMBER", "O"]),  # valid: unchanged
    ([], []),
])
def test_repair_turns_a_stray_inside_tag_into_a_beginning(tags, expected):
    assert repair(tags) == expected
    assert all(allowed_transition(p, t) for p, t in zip(["O"] + expected, expected))


@pytest.mark.parametrize("tags, expected", [
    (["B-ACTOR", "I-ACTOR", "O", "I-NUMBER"], [("ACTOR", 0, 2), ("NUMBER", 3, 4)]),
    (["I-ACTOR", "I-ACTOR", "O"], [("ACTOR", 0, 2)]),
    (["B-ACTOR", "I-LOCATION"], [("ACTOR", 0, 1), ("LOCATION", 1, 2)]),
    (["O", "O"], []),
])
def test_tags_to_spans_reads_invalid_sequences_as_repaired(tags, expected):
    assert tags_to_spans(tags) == expected


@pytest.mark.parametrize("prev, tag, expected", [
    ("O", "B-ACTOR", True), ("O", "O", True), ("O", "I-ACTOR", False),
    ("B-ACTOR", "I-ACTOR", True), ("I-ACTOR", "I-ACTOR", True), ("B-ACTOR", "I-WEAPON", False),
    ("I-WEAPON", "B-WEAPON", True), ("I-WEAPON", "O", True),
])
def test_allowed_transition_forbids_inside_tag_after_another_type(prev, tag, expected):
    assert allowed_transition(prev, tag) is expected


def _cut(text, surface, start=0, end=0):
    entity = make_entity(text, "T2", "ACTOR", surface)
    entity.start += start
    entity.end += end
    entity.text = text[entity.start:entity.end]
    return entity


@pytest.mark.parametrize("start, end", [(1, 0), (0, -2)], ids=["clitic_cut_off", "end_inside_a_token"])
def test_entity_off_token_boundaries_is_a_format_error(start, end):
    text = "اشتبك الجيش وقوات الدعم السريع"
    entity = _cut(text, "وقوات الدعم السريع", start, end)
    with pytest.raises(FormatError) as err:
        entities_to_tags(token_spans(text), [entity])
    assert err.value.field == "entities"
    assert str(err.value).startswith(f"entities: entity 'T2' ({entity.start}..{entity.end}) does not fall on token")
