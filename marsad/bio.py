"""The BIO tag scheme: entities to tags over tokens and back, and repair of invalid sequences.

The CoNLL converter, training (gold tags) and decoding (predicted tags) all go through here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .documents import Entity
from .errors import FormatError
from .text import Span

OUTSIDE = "O"


def bio_labels(entity_types: Sequence[str]) -> list[str]:
    """``["O", "B-T1", "I-T1", "B-T2", ...]``: the tag set of a schema, in a fixed order."""
    return [OUTSIDE] + [f"{p}-{t}" for t in entity_types for p in ("B", "I")]


def entities_to_tags(tokens: Sequence[Span], entities: Sequence[Entity]) -> list[str]:
    """Tag each token span; an entity must start and end on token boundaries."""
    starts = {s: i for i, (s, _) in enumerate(tokens)}
    ends = {e: i for i, (_, e) in enumerate(tokens)}
    tags = [OUTSIDE] * len(tokens)
    for ent in entities:
        if ent.start not in starts or ent.end not in ends:
            raise FormatError(f"entity {ent.id or ent.text!r} ({ent.start}..{ent.end}) does not fall on token boundaries",
                              field="entities")
        first, last = starts[ent.start], ends[ent.end]
        tags[first] = f"B-{ent.type}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{ent.type}"
    return tags


def repair(tags: Sequence[str]) -> list[str]:
    """Make a tag sequence valid BIO: an ``I-X`` that does not continue an ``X`` becomes ``B-X``."""
    fixed, prev = [], OUTSIDE
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        fixed.append(tag)
        prev = tag
    return fixed


def tags_to_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(type, first_token, last_token_exclusive)`` for each entity of a (repaired) tag sequence.

    >>> tags_to_spans(["B-ACTOR", "I-ACTOR", "O", "I-NUMBER"])
    [('ACTOR', 0, 2), ('NUMBER', 3, 4)]
    """
    spans: list[tuple[str, int, int]] = []
    for i, tag in enumerate(repair(tags)):
        if tag.startswith("B-"):
            spans.append((tag[2:], i, i + 1))
        elif tag.startswith("I-"):
            etype, first, _ = spans[-1]
            spans[-1] = (etype, first, i + 1)
    return spans


def allowed_transition(prev: str, tag: str) -> bool:
    """Whether ``tag`` may follow ``prev`` in valid BIO (``prev`` is ``O`` at the start)."""
    return not tag.startswith("I-") or prev[2:] == tag[2:]
