import subprocess
import sys
from pathlib import Path

import pytest

from marsad import read_jsonl, write_jsonl
from marsad.cli import main

CONSOLE_SCRIPT = Path(sys.executable).parent / "marsad"


@pytest.fixture
def bad_file(documents, write_lines):
    unknown_type = documents[2].to_dict()
    unknown_type["entities"][0]["type"] = "PERSON"
    unknown_type["relations"] = []
    return write_lines("bad.jsonl", [documents[0].to_dict(), "[]", unknown_type])


def test_validate_clean_file_exits_0(jsonl_file, capsys):
    assert main(["validate", str(jsonl_file)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "1 file(s), 0 problem(s)\n"


def test_validate_bad_file_prints_every_issue_and_exits_1(bad_file, capsys):
    assert main(["validate", str(bad_file)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{bad_file}:2: expected a JSON object, got list",
        f"{bad_file}:3: entities[0].type: unknown entity type 'PERSON' (schema: ACTOR, LOCATION, WEAPON, NUMBER)",
    ]
    assert err == "1 file(s), 2 problem(s)\n"


def test_validate_counts_problems_over_several_files(jsonl_file, bad_file, capsys):
    assert main(["validate", str(jsonl_file), str(bad_file)]) == 1
    assert capsys.readouterr().err == "2 file(s), 2 problem(s)\n"


def test_validate_with_a_custom_schema(jsonl_file, tmp_path, capsys):
    schema = tmp_path / "small.yaml"
    schema.write_text("entity_types: [ACTOR, LOCATION, WEAPON, NUMBER]\n"
                      "relation_types:\n  attacked: {head: [ACTOR], tail: [ACTOR, LOCATION]}\n", encoding="utf-8")
    assert main(["validate", "--schema", str(schema), str(jsonl_file)]) == 1
    out = capsys.readouterr().out
    assert f"{jsonl_file}:1: relations[1].type: unknown relation type 'used'" in out
    assert f"{jsonl_file}:2: relations[2].type: unknown relation type 'allied_with'" in out


def test_validate_a_brat_folder(documents, tmp_path, capsys):
    from marsad.formats import write_documents

    documents[0].entities[1].type = "CITY"
    write_documents(documents, tmp_path / "brat", "brat")
    assert main(["validate", str(tmp_path / "brat")]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path / 'brat'}: entities[1].type: unknown entity type 'CITY'")


def test_console_script_validates_a_file(bad_file):
    result = subprocess.run([str(CONSOLE_SCRIPT), "validate", str(bad_file)], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{bad_file}:3: entities[0].type: unknown entity type 'PERSON'" in result.stdout
    assert result.stderr == "1 file(s), 2 problem(s)\n"


@pytest.mark.parametrize("argv, names", [
    (["validate", "{tmp}/missing.jsonl"], "missing.jsonl"),
    (["validate", "--schema", "{tmp}/nowhere.yaml", "{tmp}/missing.jsonl"], "nowhere.yaml: cannot read schema file"),
    (["stats", "{tmp}/missing.jsonl"], "missing.jsonl"),
    (["convert", "{tmp}/missing.jsonl", "{tmp}/out.jsonl", "--to", "jsonl"], "missing.jsonl"),
    (["convert", "{tmp}/gold.jsonl", "{tmp}/out.xml", "--to", "xml"], "unknown format 'xml'"),
], ids=["missing_file", "missing_schema", "stats_missing_file", "convert_missing_file", "unknown_format"])
def test_expected_failure_is_one_line_and_exit_2(jsonl_file, capsys, argv, names):
    tmp = jsonl_file.parent
    assert main([a.format(tmp=tmp) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("marsad: error: ")
    assert names in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_stats_prints_counts_per_split_and_argument_types(jsonl_file, capsys):
    assert main(["stats", str(jsonl_file)]) == 0
    out = capsys.readouterr().out
    assert "| | dev | test | train | total |" in out
    assert "| documents | 1 | 1 | 2 | 4 |" in out
    assert "| ACTOR | 4 | 1 | 8 | 13 |" in out
    assert "| attacked | 0 | 1 | 3 | 4 |" in out
    assert "| relation | head | tail | count |" in out
    assert "| attacked | ACTOR | LOCATION | 2 |" in out
    assert "| located_in | LOCATION | LOCATION | 2 |" in out


def test_stats_takes_the_split_from_the_file_name_without_meta(documents, tmp_path, capsys):
    for d in documents:
        d.meta = {}
    write_jsonl(documents[:3], tmp_path / "train.jsonl")
    write_jsonl(documents[3:], tmp_path / "test.jsonl")
    assert main(["stats", str(tmp_path / "train.jsonl"), str(tmp_path / "test.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "| | test | train | total |" in out
    assert "| documents | 1 | 3 | 4 |" in out


def test_convert_jsonl_to_brat_and_back(documents, jsonl_file, tmp_path, capsys):
    brat = tmp_path / "brat"
    assert main(["convert", str(jsonl_file), str(brat), "--to", "brat"]) == 0
    assert capsys.readouterr().err == f"4 document(s) written to {brat}\n"
    assert sorted(p.name for p in brat.iterdir()) == [f"doc-{i}.{s}" for i in range(1, 5) for s in ("ann", "txt")]

    back = tmp_path / "back.jsonl"
    assert main(["convert", str(brat), str(back), "--from", "brat", "--to", "jsonl"]) == 0
    # brat keeps text, entities and relations; the meta (split, source) has no place there
    assert [(d.id, d.text, d.entities, d.relations) for d in read_jsonl(back)] == [
        (d.id, d.text, d.entities, d.relations) for d in documents]
    assert main(["validate", str(back)]) == 0


def test_validate_reads_a_jsonl_file_in_the_format_named(tmp_path, capsys):
    # doccano's export is .jsonl too; --format must win over the suffix
    path = tmp_path / "export.jsonl"
    path.write_text('{"id": 7, "text": "قصفت طائرات مسيرة مطار أبها", "entities": [{"id": 11, "label": "WEAPON", '
                    '"start_offset": 5, "end_offset": 17}, {"id": 12, "label": "LOCATION", "start_offset": 23, '
                    '"end_offset": 27}], "relations": [{"id": 3, "from_id": 11, "to_id": 12, "type": "located_in"}]}\n',
                    encoding="utf-8")
    assert main(["validate", "--format", "doccano", str(path)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:1: entities[0].end: missing")
