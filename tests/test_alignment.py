"""Words to sub-words to windows: every word owned by exactly one window, windows within bounds."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from marsad.alignment import encode_document


@pytest.fixture(scope="module")
def tokenizer(tiny_encoder):
    return AutoTokenizer.from_pretrained(tiny_encoder)


@pytest.mark.parametrize("max_length,stride", [(32, 8), (48, 16), (128, 32)])
def test_long_text_windows_cover_every_word_once_and_fit(tokenizer, documents, max_length, stride):
    text = "\n".join(d.text for d in documents) * 3
    enc = encode_document(text, tokenizer, max_length, stride)
    owned = [w for win in enc.windows for w in win.owned_words]
    assert owned == list(range(len(enc.words)))
    assert len(enc.windows) > 1
    assert all(len(win.input_ids) <= max_length for win in enc.windows)
    for win in enc.windows:
        assert win.input_ids[0] == tokenizer.cls_token_id and win.input_ids[-1] == tokenizer.sep_token_id
        assert len(win.positions) == len(win.owned_words)


def test_owned_word_positions_point_at_the_words_first_subword(tokenizer):
    text = "قصفت الطائرات مدينة حلب"
    enc = encode_document(text, tokenizer, 64, 16)
    [win] = enc.windows
    for w, pos in zip(win.owned_words, win.positions):
        s, e = enc.words[w]
        first = tokenizer(text[s:e], add_special_tokens=False)["input_ids"][0]
        assert win.input_ids[pos] == first


def test_consecutive_windows_overlap_so_seam_words_have_context(tokenizer, documents):
    text = " ".join(d.text for d in documents) * 2
    enc = encode_document(text, tokenizer, 40, 12)
    ids_first = enc.windows[0].input_ids[1:-1]
    ids_second = enc.windows[1].input_ids[1:-1]
    # the second window starts with sub-words from the end of the first one
    assert ids_second[:3] in [ids_first[k:k + 3] for k in range(len(ids_first) // 2, len(ids_first) - 2)]


def test_preprocessing_changes_what_the_tokenizer_sees_not_the_offsets(tokenizer):
    text = "قُتِلَ ٣ جنـود"
    enc = encode_document(text, tokenizer, 64, 16, preprocess=lambda w: w.replace("ـ", "").replace("ُ", ""))
    assert [text[s:e] for s, e in enc.words] == ["قُتِلَ", "٣", "جنـود"]


def test_empty_text_gives_one_window_without_words(tokenizer):
    enc = encode_document("", tokenizer, 64, 16)
    assert enc.words == [] and len(enc.windows) == 1


def test_word_pieces_match_the_tokenizer_even_when_its_backend_pads(tiny_encoder, documents):
    from marsad.alignment import word_pieces
    from marsad.text import token_spans

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)   # a copy: padding is switched on below
    text = " ".join(d.text for d in documents) + " Reuters 2024 🙂 ١٢"
    words = [text[s:e] for s, e in token_spans(text)]
    expected = tokenizer(words, add_special_tokens=False)["input_ids"]
    assert word_pieces(tokenizer, words) == expected
    tokenizer.backend_tokenizer.enable_padding(pad_id=tokenizer.pad_token_id)
    assert word_pieces(tokenizer, words) == expected
    assert word_pieces(tokenizer, []) == []
