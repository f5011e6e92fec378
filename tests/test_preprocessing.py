"""AraBERT preprocessing runs word by word, so offsets on the original text survive it."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from marsad import MarsadError
from marsad.alignment import encode_document
from marsad.preprocessing import make_preprocessor, resolve_preprocessing

pytest.importorskip("arabert", reason="the arabert extra is installed by .ci/run")
AR02 = "aubmindlab/bert-base-arabertv02"


@pytest.mark.parametrize("encoder,expected", [(AR02, "arabert"), ("CAMeL-Lab/bert-base-arabic-camelbert-msa", "none")])
def test_auto_picks_arabert_preprocessing_for_arabert_encoders(encoder, expected):
    assert resolve_preprocessing("auto", encoder) == expected


def test_arabert_normalises_words_while_spans_stay_on_the_original(tiny_encoder):
    text = "قُتِلَ ٤٥ جنـدياً بـ«صواريخ» في إدلب 😢\r\nوأُصيب ١٢ آخرون."
    preprocess = make_preprocessor("arabert", AR02)
    assert preprocess("قُتِلَ") == "قتل" and preprocess("٤٥") == "45" and preprocess("جنـدياً") != "جنـدياً"
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    plain = encode_document(text, tokenizer, 64, 16)
    processed = encode_document(text, tokenizer, 64, 16, preprocess)
    assert processed.words == plain.words
    assert [text[s:e] for s, e in processed.words][:4] == ["قُتِلَ", "٤٥", "جنـدياً", "بـ"]
    # the emoji, which the preprocessor deletes, still reaches the tokenizer as a word
    assert sum(len(w.positions) for w in processed.windows) == len(processed.words)


def test_farasa_segmented_models_fail_clearly_offline():
    with pytest.raises(MarsadError, match="Farasa"):
        make_preprocessor("arabert", "aubmindlab/bert-base-arabertv2")


def test_unknown_preprocessing_setting_is_rejected():
    with pytest.raises(MarsadError, match="preprocessing must be"):
        resolve_preprocessing("farasa", AR02)
