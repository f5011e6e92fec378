import json

import pytest

from marsad import Schema, SchemaError, load_schema
from marsad.schema import RelationType


def test_default_schema_has_the_guideline_types(schema):
    assert schema.name == "conflict-news"
    assert schema.entity_types == ("ACTOR", "LOCATION", "WEAPON", "NUMBER")
    assert schema.relation_names == ("attacked", "used", "killed", "injured", "quantity", "controls",
                                     "located_in", "allied_with", "affiliated_with")


@pytest.mark.parametrize("name, head, tail", [
    ("attacked", ("ACTOR",), ("ACTOR", "LOCATION")),
    ("used", ("ACTOR",), ("WEAPON",)),
    ("killed", ("NUMBER",), ("ACTOR",)),
    ("injured", ("NUMBER",), ("ACTOR",)),
    ("quantity", ("NUMBER",), ("ACTOR", "WEAPON")),
    ("controls", ("ACTOR",), ("LOCATION",)),
    ("located_in", ("ACTOR", "WEAPON", "LOCATION"), ("LOCATION",)),
    ("allied_with", ("ACTOR",), ("ACTOR",)),
    ("affiliated_with", ("ACTOR",), ("ACTOR",)),
])
def test_default_relation_argument_types(schema, name, head, tail):
    rel = schema.relation(name)
    assert (rel.head, rel.tail) == (head, tail)
    assert rel.symmetric is (name == "allied_with")


def test_allied_with_is_symmetric_and_allows_either_order(schema):
    rel = schema.relation("allied_with")
    assert rel.symmetric
    assert rel.allows("ACTOR", "ACTOR")
    assert not rel.allows("ACTOR", "LOCATION") and not rel.allows("LOCATION", "ACTOR")


def test_directed_relation_refuses_the_reverse_order(schema):
    assert schema.relation("killed").allows("NUMBER", "ACTOR")
    assert not schema.relation("killed").allows("ACTOR", "NUMBER")
    assert not schema.relation("controls").allows("LOCATION", "ACTOR")


def test_symmetric_relation_between_two_types_allows_the_swapped_pair():
    near = RelationType("near", ("WEAPON",), ("LOCATION",), symmetric=True)
    assert near.allows("WEAPON", "LOCATION") and near.allows("LOCATION", "WEAPON")
    assert not RelationType("near", ("WEAPON",), ("LOCATION",)).allows("LOCATION", "WEAPON")


@pytest.mark.parametrize("head, tail, expected", [
    ("ACTOR", "ACTOR", ("attacked", "allied_with", "affiliated_with")),
    ("ACTOR", "LOCATION", ("attacked", "controls", "located_in")),
    ("NUMBER", "ACTOR", ("killed", "injured", "quantity")),
    ("NUMBER", "WEAPON", ("quantity",)),
    ("LOCATION", "LOCATION", ("located_in",)),
    ("LOCATION", "ACTOR", ()),
])
def test_allowed_relations_lists_every_relation_a_type_pair_fits(schema, head, tail, expected):
    assert schema.allowed_relations(head, tail) == expected


def test_unknown_relation_name_raises(schema):
    with pytest.raises(SchemaError, match="unknown relation type 'bombed'; schema conflict-news has"):
        schema.relation("bombed")


@pytest.mark.parametrize("content, message", [
    ("entity_types: [ACTOR\n", "not valid YAML/JSON"),
    ("", "a schema needs an 'entity_types' list"),
    ("name: x\n", "a schema needs an 'entity_types' list"),
    ("entity_types: ACTOR\n", "a schema needs an 'entity_types' list"),
    ("entity_types: [ACTOR, [LOCATION]]\n", "a schema needs an 'entity_types' list"),
    ("entity_types: [ACTOR]\nlabels: [x]\n", "unknown schema keys ['labels']"),
    ("entity_types: [ACTOR]\nrelation_types: [attacked]\n", "relation_types: needs a mapping"),
    ("entity_types: [ACTOR]\nrelation_types:\n  attacked: {head: [ACTOR]}\n",
     "relation_types.attacked: needs 'head' and 'tail' lists"),
    ("entity_types: [ACTOR]\nrelation_types:\n  attacked: {head: ACTOR, tail: [ACTOR]}\n",
     "relation_types.attacked: needs 'head' and 'tail' lists"),
    ("entity_types: [ACTOR]\nrelation_types:\n  attacked: {head: [ACTOR], tail: [ACTOR], directed: true}\n",
     "relation_types.attacked: unknown keys ['directed']"),
    ("entity_types: [ACTOR]\nrelation_types:\n  attacked: {head: [ACTOR], tail: [PLACE]}\n",
     "relation attacked names unknown entity type PLACE"),
    ("entity_types: [ACTOR, ACTOR]\n", "entity types repeat"),
], ids=["bad_yaml", "empty", "no_entity_types", "entity_types_not_a_list", "entity_type_not_a_name",
        "unknown_key", "relation_types_a_list", "relation_without_tail", "head_not_a_list",
        "unknown_relation_key", "unknown_argument_type", "repeated_entity_type"])
def test_bad_schema_file_raises_schema_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_missing_schema_file_raises_schema_error_naming_the_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SchemaError, match=r"nowhere\.yaml: cannot read schema file: No such file"):
        load_schema(path)


def test_repeated_relation_type_is_refused():
    rel = RelationType("attacked", ("ACTOR",), ("ACTOR",))
    with pytest.raises(SchemaError, match="relation types repeat"):
        Schema(("ACTOR",), (rel, rel))


def test_schema_survives_to_dict_and_from_dict(schema):
    assert Schema.from_dict(schema.to_dict()) == schema
    assert schema.to_dict()["relation_types"]["allied_with"] == {"head": ["ACTOR"], "tail": ["ACTOR"], "symmetric": True}
    assert "symmetric" not in schema.to_dict()["relation_types"]["attacked"]


def test_schema_survives_save_and_load(schema, tmp_path):
    custom = Schema(("ACTOR", "EVENT"), (RelationType("took_part", ("ACTOR",), ("EVENT",)),
                                         RelationType("met", ("ACTOR",), ("ACTOR",), symmetric=True)), "events")
    for s in (schema, custom):
        path = tmp_path / f"{s.name}.yaml"
        s.save(path)
        assert load_schema(path) == s


def test_schema_loads_from_json(schema, tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema.to_dict()), encoding="utf-8")
    assert load_schema(path) == schema
