"""The whole path learns: the tiny model reproduces its training documents, reproducibly."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from marsad import MarsadError, load_schema, write_jsonl
from marsad.cli import main
from marsad.config import TrainingArguments
from marsad.inference import Predictor
from marsad.model import MarsadModel
from marsad.training import THRESHOLDS, evaluate, train, tune_relation_threshold

from conftest import TINY_CONFIG, long_document


def test_tiny_model_reproduces_its_training_documents(tiny_model, documents):
    report = evaluate(tiny_model, documents + [long_document()])
    assert report.entity_f1 == 1.0
    assert report.relation_f1 == 1.0
    assert report.entities_seqeval["micro"]["f1"] == 1.0


def test_model_folder_holds_everything_needed_offline(tiny_model):
    names = {p.name for p in tiny_model.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "marsad.json", "schema.yaml",
            "training_args.yaml", "scores.json"} <= names
    assert json.loads((tiny_model / "marsad.json").read_text())["max_length"] == 128


def _short_run(tmp_path, tiny_encoder, documents, name, **overrides) -> TrainingArguments:
    data = tmp_path / "train.jsonl"
    write_jsonl(documents, data)
    options = {"encoder": str(tiny_encoder), "train_file": str(data), "output_dir": str(tmp_path / name),
               "epochs": 2} | overrides
    return TrainingArguments.from_yaml(TINY_CONFIG, options)


def test_same_seed_gives_the_same_weights(tmp_path, tiny_encoder, documents):
    first = load_file(str(train(_short_run(tmp_path, tiny_encoder, documents, "a")) / "model.safetensors"))
    second = load_file(str(train(_short_run(tmp_path, tiny_encoder, documents, "b")) / "model.safetensors"))
    assert first.keys() == second.keys()
    assert all((first[k] == second[k]).all() for k in first)


def test_resume_continues_from_the_last_epoch(tmp_path, tiny_encoder, documents):
    train(_short_run(tmp_path, tiny_encoder, documents, "r", epochs=1))
    train(_short_run(tmp_path, tiny_encoder, documents, "r", epochs=3, resume=True))
    state = json.loads((tmp_path / "r" / "checkpoint" / "scores.json").read_text())
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3]


def test_dev_scores_are_logged_and_pick_the_best_checkpoint(tmp_path, tiny_encoder, documents):
    dev = tmp_path / "dev.jsonl"
    write_jsonl(documents[:2], dev)
    best = train(_short_run(tmp_path, tiny_encoder, documents, "d", dev_file=str(dev)))
    state = json.loads((tmp_path / "d" / "checkpoint" / "scores.json").read_text())
    assert all("dev_entity_f1" in h and "dev_relation_f1" in h for h in state["history"])
    scores = json.loads((best / "scores.json").read_text())
    assert scores["epoch"] in (1, 2)
    # the relation threshold tuned on dev travels with the model and is the predictor's default
    stored = json.loads((best / "marsad.json").read_text())["relation_threshold"]
    assert stored == scores["relation_threshold"]
    assert Predictor.from_pretrained(best).relation_threshold == stored


def test_threshold_tuning_picks_the_best_scoring_threshold(tiny_model, documents):
    model = MarsadModel.from_pretrained(tiny_model)
    report = tune_relation_threshold(model, documents)
    assert model.settings.relation_threshold in THRESHOLDS
    assert report.relation_f1 == 1.0


def test_conll_training_derives_an_entity_only_schema(tmp_path, tiny_encoder):
    conll = tmp_path / "ner.conll"
    conll.write_text("قال O\nالجيش B-ORG\nاللبناني I-ORG\nفي O\nبيروت B-LOC\n\n"
                     "وصل O\nأحمد B-PERS\nإلى O\nصيدا B-LOC\n\n", encoding="utf-8")
    args = TrainingArguments.from_yaml(TINY_CONFIG, {"encoder": str(tiny_encoder), "train_file": str(conll),
                                                            "output_dir": str(tmp_path / "c"), "epochs": 1})
    schema = load_schema(train(args) / "schema.yaml")
    assert schema.entity_types == ("LOC", "ORG", "PERS")
    assert schema.relation_types == ()
    # an entity-only model has no relation head, so its checkpoint resumes like any other
    args.epochs, args.resume = 2, True
    model = MarsadModel.from_pretrained(train(args))
    assert not any(name.startswith("relation_scorer") for name, _ in model.network.named_parameters())


def test_training_data_with_annotation_errors_is_refused_with_locations(tmp_path, tiny_encoder, documents):
    bad = documents[0]
    bad.entities[0].type = "TANK"
    args = _short_run(tmp_path, tiny_encoder, [bad], "x")
    with pytest.raises(MarsadError, match=r"entities\[0\]\.type: unknown entity type 'TANK'"):
        train(args)


def test_unknown_config_keys_are_rejected(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("epochs: 2\nlearning_rte: 0.1\n")
    with pytest.raises(MarsadError, match="unknown config keys.*learning_rte"):
        TrainingArguments.from_yaml(cfg)


@pytest.mark.parametrize("line", ["epochs: 0", "batch_size: -2", "epochs: true", "eval_batch_size: ten"])
def test_counts_below_one_or_not_whole_numbers_are_rejected(tmp_path, line):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(line + "\n")
    with pytest.raises(MarsadError, match=f"c.yaml: {line.split(':')[0]} must be whole numbers of at least 1"):
        TrainingArguments.from_yaml(cfg)


def test_cli_trains_with_command_line_overrides(tmp_path, tiny_encoder, documents, capsys):
    data = tmp_path / "train.jsonl"
    write_jsonl(documents, data)
    code = main(["train", "--config", str(TINY_CONFIG), "--encoder", str(tiny_encoder), "--train-file", str(data),
                 "--output-dir", str(tmp_path / "cli"), "--epochs", "1"])
    assert code == 0
    assert (tmp_path / "cli" / "model-best" / "model.safetensors").is_file()
    assert "best model:" in capsys.readouterr().out
