"""Small encoders built from scratch: a WordPiece vocabulary and a randomly initialised BERT.

``marsad pretrain`` starts from these, and the test suite builds a tiny one to train and load
by path, exactly as a user's Hugging Face checkpoint would be.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import WordPiece
from tokenizers.processors import TemplateProcessing
from tokenizers.trainers import WordPieceTrainer
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

SPECIAL_TOKENS = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
                  "sep_token": "[SEP]", "mask_token": "[MASK]"}


def train_wordpiece(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """A cased WordPiece tokenizer trained on ``texts``; diacritics are kept (no accent stripping)."""
    tok = Tokenizer(WordPiece(unk_token=SPECIAL_TOKENS["unk_token"]))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                               special_tokens=list(SPECIAL_TOKENS.values()))
    tok.train_from_iterator(texts, trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL_TOKENS)


def new_bert(tokenizer: PreTrainedTokenizerFast, hidden: int, layers: int, heads: int,
             max_position: int = 512, seed: int = 0) -> BertModel:
    """A randomly initialised BERT sized for ``tokenizer``'s vocabulary."""
    import torch

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=4 * hidden,
                        max_position_embeddings=max_position, pad_token_id=tokenizer.pad_token_id)
    return BertModel(config, add_pooling_layer=False)


def build_encoder(texts: Iterable[str], folder: str | Path, vocab_size: int = 8000, hidden: int = 256,
                  layers: int = 4, heads: int = 4, max_position: int = 512, seed: int = 0) -> Path:
    """Train a vocabulary on ``texts`` and save it with a fresh BERT as a Hugging Face folder."""
    tokenizer = train_wordpiece(texts, vocab_size)
    model = new_bert(tokenizer, hidden, layers, heads, max_position, seed)
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
