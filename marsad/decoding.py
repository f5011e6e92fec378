"""Tag scores to entities: constrained BIO decoding (relation scores are thresholded in marsad.inference).

Decoding runs in numpy on the CPU, a batch of documents at a time: a document's tag scores are a
few hundred rows of a dozen columns, far too small for torch's per-operation overhead to pay off.
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


def viterbi(log_probs: np.ndarray, lengths: Sequence[int], transitions: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The most probable tag sequences that are valid BIO (no ``I-X`` without ``B-X``/``I-X`` before).

    ``log_probs`` is ``[documents, words, tags]``, each document padded past its length; the
    result is ``[documents, words]`` (0 past a document's end). ``start`` adds -inf to tags that
    cannot open a sequence. Documents are stepped through together, one word position at a time,
    so a batch costs as many numpy steps as its longest document has words.
    """
    docs, n, num_tags = log_probs.shape
    lengths = np.asarray(lengths)
    paths = np.zeros((docs, n), dtype=np.intp)
    if n == 0:
        return paths
    rows, tags = np.arange(docs), np.arange(num_tags)
    back = np.zeros((docs, n, num_tags), dtype=np.intp)
    score = log_probs[:, 0] + start                                  # [documents, tags]
    for i in range(1, n):
        total = score[:, :, None] + transitions                      # [documents, from, to]
        back[:, i] = total.argmax(axis=1)
        stepped = total[rows[:, None], back[:, i], tags] + log_probs[:, i]
        score = np.where((i < lengths)[:, None], stepped, score)    # ended documents keep their score
    last = score.argmax(axis=1)
    tag = last
    for i in range(n - 1, -1, -1):
        if i < n - 1:
            tag = np.where(i < lengths - 1, back[rows, i + 1, tag], tag)
        tag = np.where(i == lengths - 1, last, tag)
        paths[:, i] = np.where(i < lengths, tag, 0)
    return paths


class TagDecoder:
    """Decodes word-level tag scores into word-range entities."""

    def __init__(self, tags: Sequence[str], entity_types: Sequence[str]):
        self.tags = list(tags)
        self.type_ids = {t: i for i, t in enumerate(entity_types)}
        self.transitions = transition_mask(self.tags)
        self.start = self.transitions[self.tags.index(OUTSIDE)]

    def decode(self, logits: Sequence[torch.Tensor]) -> list[tuple[list[WordEntity], list[float]]]:
        """Entities of each document and their scores (the mean probability of their tags)."""
        lengths = [len(x) for x in logits]
        padded = torch.zeros(len(logits), max(lengths, default=0), len(self.tags))
        for d, x in enumerate(logits):
            padded[d, :len(x)] = x.float()
        log_probs = padded.log_softmax(-1).numpy()
        paths = viterbi(log_probs, lengths, self.transitions, self.start)
        out = []
        for d, n in enumerate(lengths):
            path = paths[d, :n]
            chosen = np.exp(log_probs[d, np.arange(n), path])
            entities, scores = [], []
            for etype, first, end in tags_to_spans([self.tags[i] for i in path]):
                entities.append((first, end - 1, self.type_ids[etype]))
                scores.append(float(chosen[first:end].mean()))
            out.append((entities, scores))
        return out
