"""Masked-language-model pretraining of a small BERT on Arabic news text.

``marsad pretrain`` trains a WordPiece vocabulary on the corpus, packs the tokenised articles
into fixed-length blocks and trains a ``BertForMaskedLM`` through accelerate, checkpointing
every ``save_every`` steps so a run can be stopped and resumed for hours on a CPU or a GPU.

Where the time goes: for a small BERT the MLM head is the largest layer (hidden x vocabulary,
16k outputs for a 256-wide model), and scoring it at every position costs more than the whole
encoder. Only the ~15% masked positions carry a loss, so the head is applied to those alone
(:class:`MaskedPositionsLM`), which is most of the speed-up over the stock ``BertForMaskedLM``.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import (AutoTokenizer, BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling,
                          get_linear_schedule_with_warmup)

from .config import PretrainingArguments
from .encoders import train_wordpiece
from .errors import MarsadError

log = logging.getLogger(__name__)

ENCODER_DIR, CHECKPOINT_DIR, STATE_FILE = "encoder", "checkpoint", "pretrain_state.json"


def iter_corpus(path: str | Path, limit: int | None = None) -> Iterator[str]:
    """Article texts of a JSONL corpus (gzip or plain) with a ``text`` field."""
    path = Path(path)
    if not path.is_file():
        raise MarsadError(f"{path}: pretraining corpus not found (pass --corpus PATH)")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                return
            text = json.loads(line).get("text", "")
            if text.strip():
                yield text


def pack_blocks(texts: Iterator[str], tokenizer, block_size: int) -> torch.Tensor:
    """Tokenise articles and cut the stream into ``[CLS] ... [SEP]`` blocks of ``block_size``.

    Articles are joined with [SEP], so no position is wasted on padding.
    """
    body, stream, blocks = block_size - 2, [], []
    batch: list[str] = []

    def flush() -> None:
        for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            stream.extend(ids + [tokenizer.sep_token_id])
        while len(stream) >= body:
            blocks.append([tokenizer.cls_token_id] + stream[:body] + [tokenizer.sep_token_id])
            del stream[:body]
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) == 1000:
            flush()
    flush()
    return torch.tensor(blocks, dtype=torch.int32)


class MaskedPositionsLM(nn.Module):
    """``BertForMaskedLM`` whose forward scores the masked positions only and returns the loss.

    A module of its own (not a function) so that accelerate's DDP wrapper sees the forward pass.
    """

    def __init__(self, mlm: BertForMaskedLM):
        super().__init__()
        self.mlm = mlm

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        hidden = self.mlm.bert(input_ids=input_ids).last_hidden_state
        masked = labels != -100
        return F.cross_entropy(self.mlm.cls(hidden[masked]).float(), labels[masked])


def pretrain(args: PretrainingArguments) -> Path:
    """Run (or resume) pretraining; returns the encoder folder, loadable with ``AutoModel``."""
    accelerator = Accelerator(mixed_precision=args.mixed_precision)
    set_seed(args.seed)
    out = Path(args.output_dir)
    encoder_dir = out / ENCODER_DIR
    if (encoder_dir / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    else:
        log.info("training a %d-piece WordPiece vocabulary on %s", args.vocab_size, args.corpus)
        tokenizer = train_wordpiece(iter_corpus(args.corpus, args.max_articles), args.vocab_size)
        if accelerator.is_main_process:
            tokenizer.save_pretrained(encoder_dir)
    blocks = pack_blocks(iter_corpus(args.corpus, args.max_articles), tokenizer, args.block_size)
    log.info("%d blocks of %d sub-words (%.1fM tokens)", len(blocks), args.block_size, blocks.numel() / 1e6)

    config = BertConfig(vocab_size=len(tokenizer), hidden_size=args.hidden, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                        max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    model = MaskedPositionsLM(BertForMaskedLM(config))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mask_probability)
    loader = DataLoader([{"input_ids": b} for b in blocks.long()], batch_size=args.batch_size, shuffle=True,
                        collate_fn=collator, generator=torch.Generator().manual_seed(args.seed), drop_last=True)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, args.warmup_steps, args.max_steps)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    step = 0
    if (out / CHECKPOINT_DIR / STATE_FILE).is_file():
        accelerator.load_state(str(out / CHECKPOINT_DIR))
        step = json.loads((out / CHECKPOINT_DIR / STATE_FILE).read_text())["step"]
        log.info("resuming at step %d", step)
    bar = tqdm(total=args.max_steps, initial=step, desc="pretrain", disable=not accelerator.is_main_process)
    model.train()
    started, tokens = time.perf_counter(), 0
    while step < args.max_steps:
        for batch in loader:
            loss = model(batch["input_ids"], batch["labels"])
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            tokens += batch["input_ids"].numel()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tokens / (time.perf_counter() - started):.0f}")
            if step % args.save_every == 0 or step == args.max_steps:
                _checkpoint(accelerator, model, tokenizer, out, step, args, loss.item())
            if step >= args.max_steps:
                break
    return encoder_dir


def _checkpoint(accelerator: Accelerator, model, tokenizer, out: Path, step: int,
                args: PretrainingArguments, loss: float) -> None:
    accelerator.save_state(str(out / CHECKPOINT_DIR))
    if accelerator.is_main_process:
        # the encoder alone (no MLM head) is what fine-tuning loads
        accelerator.unwrap_model(model).mlm.bert.save_pretrained(out / ENCODER_DIR)
        tokenizer.save_pretrained(out / ENCODER_DIR)
        state = {"step": step, "loss": round(loss, 4), "args": asdict(args)}
        (out / CHECKPOINT_DIR / STATE_FILE).write_text(json.dumps(state, indent=2))
        log.info("step %d: loss %.4f, saved %s", step, loss, out / ENCODER_DIR)
