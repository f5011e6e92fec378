"""Encoder-specific text normalisation, applied word by word so offsets survive it.

AraBERT checkpoints were pretrained on text passed through the ``arabert`` package's
``ArabertPreprocessor`` (diacritics and tatweel stripped, digits and punctuation rewritten), so
their inputs get the same treatment. It runs on one word at a time: the word keeps its
character span in the caller's text whatever the preprocessor does to its letters.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from .errors import MarsadError

Preprocess = Callable[[str], str]

# Farasa-segmented AraBERT models (v1, v2 without "02") need the Farasa segmenter, which
# downloads a Java binary; offline, the preprocessor then returns "" for every input.
_PROBE = "قصفت الطائرات مدينة حلب"


def resolve_preprocessing(setting: str, encoder_name: str) -> str:
    """``"auto"`` picks ``"arabert"`` for AraBERT checkpoints and ``"none"`` for the rest."""
    if setting == "auto":
        return "arabert" if "arabert" in encoder_name.lower() else "none"
    if setting not in ("none", "arabert"):
        raise MarsadError(f"preprocessing must be 'auto', 'none' or 'arabert', not {setting!r}")
    return setting


def make_preprocessor(setting: str, encoder_name: str) -> Preprocess | None:
    """The per-word preprocessing function for an encoder, or None when it needs none."""
    if resolve_preprocessing(setting, encoder_name) == "none":
        return None
    try:
        from arabert.preprocess import ArabertPreprocessor
    except ImportError:
        raise MarsadError(f"{encoder_name} needs AraBERT preprocessing: pip install 'marsad[arabert]'") from None
    arabert = ArabertPreprocessor(model_name=encoder_name)
    if not arabert.preprocess(_PROBE).strip():
        raise MarsadError(
            f"the AraBERT preprocessor for {encoder_name} returned nothing: Farasa-segmented models "
            "need the Farasa segmenter, which cannot be downloaded here. Use a model without "
            "pre-segmentation (e.g. aubmindlab/bert-base-arabertv02) or set preprocessing: none.")

    @lru_cache(maxsize=200_000)
    def preprocess(word: str) -> str:
        # words the preprocessor deletes entirely (a lone tatweel, an emoji) keep their own form,
        # so every word still reaches the tokenizer and keeps a vector
        return arabert.preprocess(word).strip() or word

    return preprocess
