"""Configuration dataclasses: model settings and the arguments of training and pretraining.

Plain data with no heavy imports, so the command line can build its options from the fields
without loading torch. Config files are YAML; keys a dataclass does not know are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import MarsadError

C = TypeVar("C", bound="YamlConfig")


class YamlConfig:
    """Loading from a YAML file with command-line overrides, for the dataclasses below."""

    COUNTS: tuple[str, ...] = ()   # fields that count something, so must be at least 1

    @classmethod
    def from_yaml(cls: type[C], path: str | Path | None, overrides: dict[str, Any] | None = None) -> C:
        data: dict[str, Any] = {}
        if path:
            try:
                data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as e:
                raise MarsadError(f"{path}: cannot read config: {e}") from None
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise MarsadError(f"{path}: unknown config keys {unknown}; known: {known}")
        config = cls(**data)
        # bool is an int to Python, but "epochs: true" is a mistake
        wrong = [k for k in cls.COUNTS if type(getattr(config, k)) is not int or getattr(config, k) < 1]
        if wrong:
            raise MarsadError(f"{path}: {', '.join(wrong)} must be whole numbers of at least 1")
        return config


# how a Predictor may run the network (see marsad.inference)
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
# documents read to measure activation ranges for int8 (marsad.quantization.calibrate)
CALIBRATION_DOCUMENTS = 128


@dataclass
class ModelSettings:
    """What a model needs besides weights; stored in ``marsad.json``."""

    encoder: str = "aubmindlab/bert-base-arabertv02"   # where the encoder came from
    max_length: int = 512          # sub-words per encoder window, special tokens included
    stride: int = 128              # sub-words shared by consecutive windows of a long document
    preprocessing: str = "auto"    # "auto" (AraBERT's for AraBERT encoders), "none" or "arabert"
    relation_dim: int = 256
    # an embedding of the word distance between a pair's entities (0: none; models saved before
    # it existed load with 0)
    distance_dim: int = 32
    dropout: float = 0.1
    # Attention dropout pushes PyTorch's CPU attention onto its slow path, which materialises the
    # attention matrix (2.3x slower fine-tuning measured on e5-small); hidden dropout remains.
    attention_dropout: float = 0.0
    # the relation score above which a relation is predicted; training tunes it on dev data
    relation_threshold: float = 0.5


@dataclass
class TrainingArguments(YamlConfig):
    """Everything a training run reads from its config file; unknown keys are rejected."""

    COUNTS = ("max_length", "epochs", "batch_size", "eval_batch_size", "gradient_accumulation_steps")

    train_file: str = "annotations/train.jsonl"
    dev_file: str | None = "annotations/dev.jsonl"
    output_dir: str = "runs/model"
    schema: str | None = None            # default: the packaged schema (JSONL) or derived from the tags (CoNLL)
    encoder: str = "aubmindlab/bert-base-arabertv02"
    preprocessing: str = "auto"
    max_length: int = 512
    stride: int = 128
    relation_dim: int = 256
    distance_dim: int = 32
    dropout: float = 0.1
    attention_dropout: float = 0.0
    epochs: int = 10
    batch_size: int = 8
    eval_batch_size: int = 16
    learning_rate: float = 5e-5          # encoder
    head_learning_rate: float = 1e-3     # the freshly initialised heads learn faster
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "no"          # "no", "fp16" or "bf16" (GPU)
    seed: int = 42
    resume: bool = False

    def settings(self) -> ModelSettings:
        return ModelSettings(self.encoder, self.max_length, self.stride, self.preprocessing,
                             self.relation_dim, self.distance_dim, self.dropout, self.attention_dropout)


@dataclass
class PretrainingArguments(YamlConfig):
    """A pretraining run; ``marsad pretrain --config FILE --key value`` sets any of these."""

    COUNTS = ("vocab_size", "hidden", "layers", "heads", "block_size", "batch_size", "max_steps", "save_every")

    corpus: str = "../shared/data/ant-news/ant-news-v2.1.jsonl.gz"
    output_dir: str = "runs/pretrain"
    max_articles: int | None = None      # read only the first N articles (quick runs)
    vocab_size: int = 16000
    hidden: int = 256
    layers: int = 4
    heads: int = 4
    block_size: int = 128                # sub-words per training sequence
    batch_size: int = 64
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 500
    max_steps: int = 20000
    mask_probability: float = 0.15
    save_every: int = 500
    mixed_precision: str = "no"
    seed: int = 42
