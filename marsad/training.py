"""Fine-tuning a joint entity and relation model with ``accelerate``.

The loop follows the transformers token-classification example, but lets accelerate do what
that script hand-rolls: gradient accumulation (``accelerator.accumulate``), mixed precision,
device placement and multi-GPU (``accelerate launch marsad train ...`` needs no code change).
Each epoch ends with a dev evaluation; ``model-last/`` is written every epoch and
``model-best/`` whenever the dev score improves. ``resume: true`` continues from
``checkpoint/``, which holds the optimiser, scheduler and random states.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.nn import functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from .documents import Document
from .errors import MarsadError
from .evaluation import Report, evaluate_documents
from .features import DocumentFeatures, collate_pairs, collate_words
from .config import CALIBRATION_DOCUMENTS, TrainingArguments
from .model import MarsadModel
from .quantization import calibrate_folder
from .schema import Schema, load_schema
from .validate import validate_documents

log = logging.getLogger(__name__)

BEST_DIR, LAST_DIR, CHECKPOINT_DIR = "model-best", "model-last", "checkpoint"
ARGS_FILE, SCORES_FILE = "training_args.yaml", "scores.json"


def load_training_documents(path: str, schema_file: str | None) -> tuple[list[Document], Schema]:
    """Read JSONL or CoNLL; a CoNLL file without a schema gets one made of its own tag types."""
    from .formats import read_documents

    docs = read_documents(path)
    if schema_file:
        schema = load_schema(schema_file)
    elif Path(path).suffix == ".jsonl":
        schema = load_schema()
    else:
        schema = Schema(tuple(sorted({e.type for d in docs for e in d.entities})), (), name=f"derived from {path}")
    return docs, schema


def _check(docs: Sequence[Document], schema: Schema, path: str) -> None:
    issues = validate_documents(docs, schema, path)
    if issues:
        shown = "\n".join(str(i) for i in issues[:20])
        raise MarsadError(f"{path}: {len(issues)} annotation problem(s); run `marsad validate` on it:\n{shown}")


def joint_loss(network, features: Sequence[DocumentFeatures], model: MarsadModel, device) -> tuple[torch.Tensor, dict]:
    """Tagging cross-entropy plus relation binary cross-entropy over the pairs of gold entities."""
    words = collate_words(features, model.tokenizer.pad_token_id)
    pairs = collate_pairs(features, [f.entities for f in features], words.word_offsets, model.labels)
    tensors = [words.input_ids, words.attention_mask, words.word_window, words.word_position,
               pairs.entity_first, pairs.entity_last, pairs.entity_type, pairs.pair_head, pairs.pair_tail]
    tag_logits, rel_logits = network(*(t.to(device) for t in tensors))
    tag_loss = F.cross_entropy(tag_logits.float(), words.tag_ids.to(device))
    mask = pairs.pair_mask.to(device)
    if mask.any():
        rel_loss = F.binary_cross_entropy_with_logits(rel_logits.float()[mask], pairs.pair_labels.to(device)[mask])
    else:
        rel_loss = rel_logits.sum() * 0.0   # a batch without candidate pairs still has a graph
    return tag_loss + rel_loss, {"tag_loss": tag_loss.item(), "relation_loss": rel_loss.item()}


def train(args: TrainingArguments) -> Path:
    """Train a model as ``args`` say; returns the ``model-best`` folder."""
    accelerator = Accelerator(mixed_precision=args.mixed_precision,
                              gradient_accumulation_steps=args.gradient_accumulation_steps)
    set_seed(args.seed)
    train_docs, schema = load_training_documents(args.train_file, args.schema)
    _check(train_docs, schema, args.train_file)
    dev_docs: list[Document] = []
    if args.dev_file:
        dev_docs, _ = load_training_documents(args.dev_file, args.schema)
        _check(dev_docs, schema, args.dev_file)
    model = MarsadModel.from_encoder(args.encoder, schema, args.settings())
    features = [model.featurize(d, with_gold=True) for d in tqdm(train_docs, desc="features", disable=not accelerator.is_main_process)]
    log.info("%d training documents, %d dev documents, encoder %s", len(train_docs), len(dev_docs), args.encoder)

    loader = DataLoader(features, batch_size=args.batch_size, shuffle=True, collate_fn=list,
                        generator=torch.Generator().manual_seed(args.seed))
    optimizer = torch.optim.AdamW(_parameter_groups(model.network, args))
    steps = args.epochs * -(-len(loader) // args.gradient_accumulation_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup_ratio * steps), steps)
    network, optimizer, loader, scheduler = accelerator.prepare(model.network, optimizer, loader, scheduler)

    out = Path(args.output_dir)
    state: dict[str, Any] = {"epoch": 0, "best": None, "history": []}
    if args.resume and (out / CHECKPOINT_DIR).is_dir():
        accelerator.load_state(str(out / CHECKPOINT_DIR))
        state = json.loads((out / CHECKPOINT_DIR / SCORES_FILE).read_text())
        log.info("resuming after epoch %d", state["epoch"])

    for epoch in range(state["epoch"], args.epochs):
        network.train()
        total, bar = 0.0, tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", disable=not accelerator.is_main_process)
        for batch in bar:
            with accelerator.accumulate(network):
                loss, parts = joint_loss(network, batch, model, accelerator.device)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(network.parameters(), args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            total += loss.item()
            bar.set_postfix(loss=f"{loss.item():.4f}")
        model.network = accelerator.unwrap_model(network)
        entry = {"epoch": epoch + 1, "loss": round(total / max(len(loader), 1), 5)}
        if dev_docs:
            report = tune_relation_threshold(model, dev_docs, batch_size=args.eval_batch_size, device=accelerator.device)
            entry |= {"dev_entity_f1": round(report.entity_f1, 4), "dev_relation_f1": round(report.relation_f1, 4),
                      "relation_threshold": model.settings.relation_threshold}
            score = _selection_score(report, schema)
        else:
            score = -entry["loss"]   # without dev data, the lowest training loss stands in
        state["history"].append(entry)
        log.info("epoch %d: %s", epoch + 1, entry)
        if accelerator.is_main_process:
            _save(model, out / LAST_DIR, args, entry)
            if state["best"] is None or score > state["best"]:
                state["best"] = score
                _save(model, out / BEST_DIR, args, entry)
        state["epoch"] = epoch + 1
        accelerator.save_state(str(out / CHECKPOINT_DIR))
        if accelerator.is_main_process:
            (out / CHECKPOINT_DIR / SCORES_FILE).write_text(json.dumps(state, indent=2))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        # ranges for int8 inference, measured on the data the model was trained on
        calibrate_folder(out / BEST_DIR, [d.text for d in train_docs[:CALIBRATION_DOCUMENTS]],
                         args.eval_batch_size, accelerator.device)
    return out / BEST_DIR


def evaluate(model: MarsadModel | str | Path, documents: Sequence[Document], **options) -> Report:
    """Predict ``documents`` (gold) with ``model`` and score the predictions against them.

    ``options`` go to :class:`marsad.inference.Predictor` (``batch_size``, ``device``, ``precision``).
    """
    if not isinstance(model, MarsadModel):
        model = MarsadModel.from_pretrained(model)
    predicted = _predict_texts(model, documents, **options)
    return evaluate_documents(documents, predicted, model.schema)


def _predict_texts(model: MarsadModel, documents: Sequence[Document], **options) -> list[Document]:
    """Predictions for the texts of gold ``documents`` (their annotations are not shown to the model)."""
    from .inference import Predictor

    return Predictor(model, **options).predict([Document(d.text, d.id) for d in documents])


THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def tune_relation_threshold(model: MarsadModel, documents: Sequence[Document], batch_size: int = 16,
                            device=None) -> Report:
    """Set ``model.settings.relation_threshold`` to the value that scores best on ``documents``.

    One prediction pass at the lowest threshold; higher thresholds only drop relations, so
    each is scored by filtering those predictions. Returns the report at the chosen threshold.
    """
    predicted = _predict_texts(model, documents, batch_size=batch_size, device=device,
                               relation_threshold=min(THRESHOLDS))
    best: tuple[float, float, Report] | None = None
    for threshold in THRESHOLDS:
        kept = [replace(d, relations=[r for r in d.relations if r.score >= threshold]) for d in predicted]
        report = evaluate_documents(documents, kept, model.schema)
        if best is None or report.relation_f1 > best[0]:
            best = (report.relation_f1, threshold, report)
    model.settings.relation_threshold = best[1]
    return best[2]


def _selection_score(report: Report, schema: Schema) -> float:
    # the checkpoint kept is the one best at both tasks; entity-only schemas use entity F1 alone
    return (report.entity_f1 + report.relation_f1) / 2 if schema.relation_types else report.entity_f1


def _parameter_groups(network, args: TrainingArguments) -> list[dict]:
    groups: dict[tuple[bool, bool], list] = {}
    for name, param in network.named_parameters():
        is_encoder = name.startswith("encoder.")
        decays = param.ndim > 1   # no weight decay on biases and LayerNorm weights
        groups.setdefault((is_encoder, decays), []).append(param)
    return [{"params": params, "lr": args.learning_rate if enc else args.head_learning_rate,
             "weight_decay": args.weight_decay if decays else 0.0}
            for (enc, decays), params in groups.items()]


def _save(model: MarsadModel, folder: Path, args: TrainingArguments, scores: dict) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    model.save_pretrained(folder)
    (folder / ARGS_FILE).write_text(yaml.safe_dump(asdict(args), sort_keys=False), encoding="utf-8")
    (folder / SCORES_FILE).write_text(json.dumps(scores, indent=2), encoding="utf-8")
