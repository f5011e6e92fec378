"""Scores to annotations: constrained BIO decoding and relation thresholds."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .bio import OUTSIDE, allowed_transition, tags_to_spans
from .features import WordEntity


def transition_mask(tags: Sequence[str]) -> torch.Tensor:
    """``[from, to]`` additive scores: 0 where BIO allows the step, -inf where it does not."""
    mask = torch.zeros(len(tags), len(tags))
    for i, prev in enumerate(tags):
        for j, tag in enumerate(tags):
            if not allowed_transition(prev, tag):
                mask[i, j] = float("-inf")
    return mask


def viterbi(log_probs: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor) -> list[int]:
    """The most probable tag sequence that is valid BIO (no ``I-X`` without ``B-X``/``I-X`` before).

    ``log_probs`` is ``[words, tags]``; ``start`` adds -inf to tags that cannot open a sequence.
    """
    if log_probs.shape[0] == 0:
        return []
    score = log_probs[0] + start
    back = []
    for row in log_probs[1:]:
        total = score.unsqueeze(1) + transitions          # [from, to]
        score, best = total.max(dim=0)
        score = score + row
        back.append(best)
    path = [int(score.argmax())]
    for best in reversed(back):
        path.append(int(best[path[-1]]))
    return path[::-1]


class TagDecoder:
    """Decodes word-level tag scores into word-range entities."""

    def __init__(self, tags: Sequence[str], entity_types: Sequence[str]):
        self.tags = list(tags)
        self.type_ids = {t: i for i, t in enumerate(entity_types)}
        self.transitions = transition_mask(self.tags)
        self.start = self.transitions[self.tags.index(OUTSIDE)]

    def __call__(self, logits: torch.Tensor) -> tuple[list[WordEntity], list[float]]:
        """Entities of one document and their scores (mean probability of their tags)."""
        log_probs = logits.float().log_softmax(-1)
        path = viterbi(log_probs, self.transitions, self.start)
        entities, scores = [], []
        for etype, first, end in tags_to_spans([self.tags[i] for i in path]):
            entities.append((first, end - 1, self.type_ids[etype]))
            chosen = log_probs[torch.arange(first, end), torch.tensor(path[first:end])]
            scores.append(float(chosen.exp().mean()))
        return entities, scores
