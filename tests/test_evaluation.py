"""Metrics against values computed by hand."""

from __future__ import annotations

import json

import pytest

from marsad import Document, Entity, Relation, load_schema
from marsad.cli import main
from marsad.evaluation import evaluate_documents
from marsad.documents import write_jsonl

TEXT = "قصف الجيش السوري بلدة سراقب في إدلب وقتل 5 مدنيين"
#       spans: الجيش السوري 4..16, سراقب 22..27, إدلب 31..35, 5 41..42, مدنيين 43..49


def ent(eid, etype, start, end):
    return Entity(etype, start, end, TEXT[start:end], eid)


GOLD = Document(TEXT, "d1", [ent("T1", "ACTOR", 4, 16), ent("T2", "LOCATION", 22, 27), ent("T3", "LOCATION", 31, 35),
                             ent("T4", "NUMBER", 41, 42), ent("T5", "ACTOR", 43, 49)],
                [Relation("attacked", "T1", "T2"), Relation("located_in", "T2", "T3"), Relation("killed", "T4", "T5")])
# right: الجيش السوري, 5, مدنيين; سراقب typed ACTOR; إدلب missed; قصف spurious
PRED = Document(TEXT, "d1", [ent("T1", "ACTOR", 4, 16), ent("T2", "ACTOR", 22, 27), ent("T4", "NUMBER", 41, 42),
                             ent("T5", "ACTOR", 43, 49), ent("T6", "WEAPON", 0, 3)],
                [Relation("attacked", "T1", "T2"), Relation("killed", "T4", "T5"), Relation("used", "T1", "T6")])


@pytest.fixture
def report():
    return evaluate_documents([GOLD], [PRED], load_schema())


def test_entity_span_scores_match_hand_counts(report):
    # predicted 5, gold 5, correct (type and span): الجيش السوري, 5, مدنيين = 3
    micro = report.entities_span.micro
    assert (micro.tp, micro.predicted, micro.gold) == (3, 5, 5)
    assert micro.precision == pytest.approx(0.6) and micro.recall == pytest.approx(0.6)
    assert report.entities_span.per_type["LOCATION"].recall == 0.0
    assert report.entities_span.per_type["ACTOR"].precision == pytest.approx(2 / 3)


def test_seqeval_strict_agrees_with_spans_on_word_aligned_entities(report):
    assert report.entities_seqeval["micro"]["f1"] == pytest.approx(0.6)
    assert report.entities_seqeval["LOCATION"]["support"] == 2


def test_relations_strict_need_both_argument_types_right(report):
    # attacked T1->T2: tail typed ACTOR in the prediction, so wrong when strict, right by boundaries
    strict, loose = report.relations_strict.micro, report.relations_boundaries.micro
    assert (strict.tp, strict.predicted, strict.gold) == (1, 3, 3)       # killed only
    assert (loose.tp, loose.predicted, loose.gold) == (2, 3, 3)          # killed and attacked
    assert report.relations_strict.per_type["attacked"].f1 == 0.0
    assert report.relations_boundaries.per_type["attacked"].f1 == 1.0


def test_confusion_counts_type_errors_misses_and_spurious(report):
    assert report.confusion["LOCATION"] == {"ACTOR": 1, "(none)": 1}
    assert report.confusion["ACTOR"] == {"ACTOR": 2}
    assert report.confusion["(none)"] == {"WEAPON": 1}


def test_symmetric_relation_counts_in_either_order():
    text = "تحالفت إيران مع الحوثيين"
    a, b = Entity("ACTOR", 7, 12, "إيران", "T1"), Entity("ACTOR", 16, 24, "الحوثيين", "T2")
    gold = Document(text, "s", [a, b], [Relation("allied_with", "T1", "T2")])
    pred = Document(text, "s", [a, b], [Relation("allied_with", "T2", "T1")])
    assert evaluate_documents([gold], [pred], load_schema()).relation_f1 == 1.0


def test_predictions_for_missing_documents_are_an_error():
    with pytest.raises(Exception, match="no prediction"):
        evaluate_documents([GOLD], [Document(TEXT, "other")], load_schema())


def test_cli_scores_a_prediction_file_and_writes_json_and_markdown(tmp_path, capsys):
    write_jsonl([GOLD], tmp_path / "gold.jsonl")
    write_jsonl([PRED], tmp_path / "pred.jsonl")
    assert main(["evaluate", "--predictions", str(tmp_path / "pred.jsonl"), "--gold", str(tmp_path / "gold.jsonl"),
                 "--output", str(tmp_path / "report")]) == 0
    assert "| micro | 0.600 | 0.600 | 0.600 |" in capsys.readouterr().out
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["relations_strict"]["micro"]["correct"] == 1
    assert (tmp_path / "report.md").read_text().startswith("# Evaluation (1 documents)")
