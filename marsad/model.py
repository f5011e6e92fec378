"""A trained marsad model: network, tokenizer, schema and settings, saved as one folder.

A model folder holds everything needed to load it offline::

    model.safetensors      weights of the encoder and both heads
    config.json            the encoder's Hugging Face config
    tokenizer.json, ...    the encoder's tokenizer
    marsad.json            marsad's settings and label maps
    schema.yaml            the schema the model was trained with
    calibration.safetensors  input ranges for int8 inference (optional; marsad.quantization)
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoTokenizer

from .documents import Document
from .config import ModelSettings
from .errors import MarsadError, ModelNotFoundError
from .features import DocumentFeatures, LabelSpace, featurize
from .network import JointNetwork
from .preprocessing import make_preprocessor
from .schema import Schema

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
SETTINGS_FILE = "marsad.json"
SCHEMA_FILE = "schema.yaml"
CALIBRATION_FILE = "calibration.safetensors"


class MarsadModel:
    """The joint entity and relation model with everything needed to run it on documents."""

    def __init__(self, network: JointNetwork, tokenizer, schema: Schema, settings: ModelSettings,
                 calibration: dict[str, torch.Tensor] | None = None):
        self.network, self.tokenizer, self.settings = network, tokenizer, settings
        # per-channel input maxima of the feed-forward down-projections (marsad.quantization.calibrate)
        self.calibration = calibration
        self.labels = LabelSpace(schema)
        self.preprocess = make_preprocessor(settings.preprocessing, settings.encoder)
        self.max_length = min(settings.max_length, _encoder_limit(network.encoder.config))

    @property
    def schema(self) -> Schema:
        return self.labels.schema

    @classmethod
    def from_encoder(cls, encoder: str, schema: Schema, settings: ModelSettings | None = None) -> "MarsadModel":
        """A new, untrained model over a Hugging Face encoder (hub name or local folder)."""
        settings = settings or ModelSettings()
        settings.encoder = encoder
        try:
            tokenizer = AutoTokenizer.from_pretrained(encoder)
            config = AutoConfig.from_pretrained(encoder)
            if hasattr(config, "attention_probs_dropout_prob"):   # BERT and RoBERTa families
                config.attention_probs_dropout_prob = settings.attention_dropout
            backbone = AutoModel.from_pretrained(encoder, config=config, **_backbone_options(config))
        except OSError as e:
            raise ModelNotFoundError(f"cannot load encoder {encoder!r}: {e}") from None
        return cls(_network(backbone, schema, settings), tokenizer, schema, settings)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path) -> "MarsadModel":
        """Load a trained model folder (or download one from the Hugging Face Hub by name)."""
        folder = _resolve_folder(name_or_path)
        try:
            raw = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ModelNotFoundError(f"{folder}: not a marsad model folder ({SETTINGS_FILE}: {e})") from None
        known = {f.name for f in fields(ModelSettings)}
        unknown = set(raw) - known
        if unknown:
            raise MarsadError(f"{folder / SETTINGS_FILE}: unknown settings {sorted(unknown)}")
        settings = ModelSettings(**{"distance_dim": 0, **raw})
        from .schema import load_schema
        schema = load_schema(folder / SCHEMA_FILE)
        config = AutoConfig.from_pretrained(folder)
        backbone = AutoModel.from_config(config, **_backbone_options(config))
        network = _network(backbone, schema, settings)
        network.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
        network.eval()
        calibration = load_file(str(folder / CALIBRATION_FILE)) if (folder / CALIBRATION_FILE).is_file() else None
        return cls(network, AutoTokenizer.from_pretrained(folder), schema, settings, calibration)

    def save_pretrained(self, folder: str | Path, half: bool = False) -> None:
        """Write the model folder; ``half`` stores floating-point weights as fp16 (half the size;
        loading casts them back to the network's fp32)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.network.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        save_file(state, str(folder / WEIGHTS_FILE))
        self.network.encoder.config.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        (folder / SETTINGS_FILE).write_text(json.dumps(asdict(self.settings), indent=2), encoding="utf-8")
        self.schema.save(folder / SCHEMA_FILE)
        if self.calibration is not None:
            self.save_calibration(folder)

    def save_calibration(self, folder: str | Path) -> None:
        save_file(self.calibration, str(Path(folder) / CALIBRATION_FILE))

    def featurize(self, doc: Document, with_gold: bool = False) -> DocumentFeatures:
        return featurize(doc, self.labels, self.tokenizer, self.max_length, self.settings.stride,
                         self.preprocess, with_gold)


def _network(backbone, schema: Schema, settings: ModelSettings) -> JointNetwork:
    labels = LabelSpace(schema)
    return JointNetwork(backbone, len(labels.tags), len(labels.entity_types), len(labels.relations),
                        settings.relation_dim, settings.distance_dim, settings.dropout)


def _backbone_options(config) -> dict:
    # the pooler (a [CLS] layer for sentence tasks) is never used here; leave it out of the weights
    return {"add_pooling_layer": False} if config.model_type in ("bert", "roberta", "xlm-roberta") else {}


def _encoder_limit(config) -> int:
    # position embeddings bound the window; RoBERTa-style models reserve two of them
    limit = getattr(config, "max_position_embeddings", 512)
    return limit - 2 if config.model_type in ("roberta", "xlm-roberta", "camembert") else limit


def _resolve_folder(name_or_path: str | Path) -> Path:
    folder = Path(name_or_path)
    if folder.is_dir():
        return folder
    if folder.exists() or str(name_or_path).startswith((".", "/", "~")) or str(name_or_path).count("/") != 1:
        raise ModelNotFoundError(f"model folder {str(name_or_path)!r} does not exist")
    try:
        from huggingface_hub import snapshot_download
        return Path(snapshot_download(str(name_or_path)))
    except Exception as e:  # the hub client raises many kinds: offline, 404, auth
        raise ModelNotFoundError(f"{name_or_path!r} is not a local folder and could not be downloaded "
                                 f"from the Hugging Face Hub ({type(e).__name__})") from None
