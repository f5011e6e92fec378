"""Scores to annotations: constrained BIO decoding and relation thresholds.

Decoding runs in numpy on the CPU: a document's tag scores are a few hundred rows of a dozen
columns, far too small for torch's per-operation overhead to pay off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .bio import OUTSIDE, allowed_transition, tags_to_spans
from .features import WordEntity


def transition_mask(tags: Sequence[str]) -> np.ndarray:
    """``[from, to]`` additive scores: 0 where BIO allows the step, -inf where it does not."""
    return np.array([[0.0 if allowed_transition(prev, tag) else -np.inf for tag in tags] for prev in tags])


def viterbi(log_probs: np.ndarray, transitions: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The most probable tag sequence that is valid BIO (no ``I-X`` without ``B-X``/``I-X`` before).

    ``log_probs`` is ``[words, tags]``; ``start`` adds -inf to tags that cannot open a sequence.
    """
    n, num_tags = log_probs.shape
    path = np.zeros(n, dtype=np.intp)
    if n == 0:
        return path
    back = np.empty((n, num_tags), dtype=np.intp)
    score = log_probs[0] + start
    for i in range(1, n):
        total = score[:, None] + transitions          # [from, to]
        back[i] = total.argmax(axis=0)
        score = total[back[i], np.arange(num_tags)] + log_probs[i]
    path[-1] = score.argmax()
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


class TagDecoder:
    """Decodes word-level tag scores into word-range entities."""

    def __init__(self, tags: Sequence[str], entity_types: Sequence[str]):
        self.tags = list(tags)
        self.type_ids = {t: i for i, t in enumerate(entity_types)}
        self.transitions = transition_mask(self.tags)
        self.start = self.transitions[self.tags.index(OUTSIDE)]

    def __call__(self, logits: torch.Tensor) -> tuple[list[WordEntity], list[float]]:
        """Entities of one document and their scores (mean probability of their tags)."""
        log_probs = logits.float().log_softmax(-1).numpy()
        path = viterbi(log_probs, self.transitions, self.start)
        chosen = np.exp(log_probs[np.arange(len(path)), path])
        entities, scores = [], []
        for etype, first, end in tags_to_spans([self.tags[i] for i in path]):
            entities.append((first, end - 1, self.type_ids[etype]))
            scores.append(float(chosen[first:end].mean()))
        return entities, scores
