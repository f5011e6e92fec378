"""MLM pretraining: the masked-positions loss is exact, runs checkpoint, resume and load."""

from __future__ import annotations

import gzip
import json

import pytest
import torch
from transformers import AutoModel, AutoTokenizer, BertConfig, BertForMaskedLM

from marsad import MarsadError
from marsad.cli import main
from marsad.config import PretrainingArguments
from marsad.pretraining import MaskedPositionsLM, iter_corpus, pack_blocks, pretrain

from conftest import build_documents


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "news.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for k in range(30):
            for d in build_documents():
                f.write(json.dumps({"id": f"{d.id}-{k}", "text": d.text}, ensure_ascii=False) + "\n")
    return path


def test_masked_positions_loss_equals_the_full_mlm_loss():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    mlm = BertForMaskedLM(config).eval()
    ids = torch.randint(5, 50, (3, 12))
    labels = torch.full_like(ids, -100)
    labels[:, [2, 7]] = ids[:, [2, 7]]
    full = mlm(input_ids=ids, labels=labels).loss
    assert MaskedPositionsLM(mlm)(ids, labels).item() == pytest.approx(full.item(), rel=1e-5)


def test_blocks_are_full_length_and_framed_by_cls_and_sep(corpus, tiny_encoder):
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    blocks = pack_blocks(iter_corpus(corpus, limit=8), tokenizer, 32)
    assert blocks.shape[1] == 32 and len(blocks) > 5
    assert (blocks[:, 0] == tokenizer.cls_token_id).all() and (blocks[:, -1] == tokenizer.sep_token_id).all()


def test_pretraining_saves_a_loadable_encoder_and_resumes(tmp_path, corpus):
    options = {"corpus": str(corpus), "output_dir": str(tmp_path / "pt"), "vocab_size": 400, "hidden": 32,
               "layers": 1, "heads": 2, "block_size": 32, "batch_size": 4, "warmup_steps": 1, "save_every": 2}
    encoder = pretrain(PretrainingArguments(**options, max_steps=2))
    state = json.loads((tmp_path / "pt" / "checkpoint" / "pretrain_state.json").read_text())
    assert state["step"] == 2
    pretrain(PretrainingArguments(**options, max_steps=4))
    state = json.loads((tmp_path / "pt" / "checkpoint" / "pretrain_state.json").read_text())
    assert state["step"] == 4
    model = AutoModel.from_pretrained(encoder)
    assert model.config.hidden_size == 32 and model.config.vocab_size == len(AutoTokenizer.from_pretrained(encoder))


def test_missing_corpus_is_named(tmp_path, capsys):
    assert main(["pretrain", "--corpus", str(tmp_path / "absent.jsonl.gz"), "--output-dir", str(tmp_path)]) == 2
    assert "absent.jsonl.gz: pretraining corpus not found" in capsys.readouterr().err


def test_unknown_pretraining_keys_are_rejected(tmp_path):
    cfg = tmp_path / "p.yaml"
    cfg.write_text("layers: 2\nhiden: 64\n")
    with pytest.raises(MarsadError, match="unknown config keys.*hiden"):
        PretrainingArguments.from_yaml(cfg)
