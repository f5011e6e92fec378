"""Constrained BIO decoding: only valid sequences come out, whatever the scores say."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from marsad.bio import allowed_transition, bio_labels
from marsad.decoding import TagDecoder, viterbi

TYPES = ["ACTOR", "LOCATION", "WEAPON", "NUMBER"]
TAGS = bio_labels(TYPES)


def logits_for(tags: list[str]) -> torch.Tensor:
    """The given tag scores 5; where it is I-X, B-X scores 3 (the model's second choice)."""
    out = torch.zeros(len(tags), len(TAGS))
    for i, t in enumerate(tags):
        out[i, TAGS.index(t)] = 5.0
        if t.startswith("I-"):
            out[i, TAGS.index("B-" + t[2:])] = 3.0
    return out


@pytest.mark.parametrize("greedy,expected", [
    # an I- opening the text or following O is repaired, never emitted
    (["I-ACTOR", "I-ACTOR", "O"], [("ACTOR", 0, 1)]),
    (["O", "I-WEAPON", "O"], [("WEAPON", 1, 1)]),
    # I- of another type cannot continue an entity
    (["B-ACTOR", "I-LOCATION", "O"], [("ACTOR", 0, 0), ("LOCATION", 1, 1)]),
    (["B-NUMBER", "B-ACTOR", "I-ACTOR"], [("NUMBER", 0, 0), ("ACTOR", 1, 2)]),
])
def test_invalid_greedy_tags_decode_to_valid_entities(greedy, expected):
    [(entities, scores)] = TagDecoder(TAGS, TYPES).decode([logits_for(greedy)])
    assert [(TYPES[t], first, last) for first, last, t in entities] == expected
    assert all(0.0 < s <= 1.0 for s in scores)


def test_decoded_paths_never_break_bio_on_random_scores():
    decoder = TagDecoder(TAGS, TYPES)
    torch.manual_seed(0)
    for _ in range(50):
        logits = torch.randn(12, len(TAGS)) * 4
        [path] = viterbi(logits.log_softmax(-1).numpy()[None], [12], decoder.transitions, decoder.start)
        tags = [TAGS[i] for i in path]
        assert all(allowed_transition(p, t) for p, t in itertools.pairwise(["O"] + tags))


def test_viterbi_finds_the_best_valid_path_an_exhaustive_search_finds():
    decoder = TagDecoder(TAGS, TYPES)
    rng = np.random.default_rng(0)
    for _ in range(20):
        log_probs = torch.tensor(rng.normal(size=(4, len(TAGS))) * 3).log_softmax(-1).numpy()
        valid = [p for p in itertools.product(range(len(TAGS)), repeat=4)
                 if all(allowed_transition(a, b) for a, b in itertools.pairwise(["O"] + [TAGS[i] for i in p]))]
        best = max(valid, key=lambda p: sum(log_probs[i, t] for i, t in enumerate(p)))
        assert tuple(viterbi(log_probs[None], [4], decoder.transitions, decoder.start)[0]) == best


def test_viterbi_prefers_the_best_valid_path_over_a_greedy_repair():
    # greedy says O, I-ACTOR; the valid path B-ACTOR, I-ACTOR scores better than O, B-ACTOR here
    logits = torch.tensor([[2.0 if t == "O" else (1.9 if t == "B-ACTOR" else 0.0) for t in TAGS],
                           [5.0 if t == "I-ACTOR" else 0.0 for t in TAGS]])
    [(entities, _)] = TagDecoder(TAGS, TYPES).decode([logits])
    assert entities == [(0, 1, TYPES.index("ACTOR"))]


def test_no_words_decode_to_no_entities():
    assert TagDecoder(TAGS, TYPES).decode([torch.zeros(0, len(TAGS))]) == [([], [])]


def test_documents_decoded_together_get_what_each_gets_alone():
    decoder = TagDecoder(TAGS, TYPES)
    torch.manual_seed(1)
    documents = [torch.randn(n, len(TAGS)) * 4 for n in (7, 1, 0, 12, 3)]
    assert decoder.decode(documents) == [decoder.decode([x])[0] for x in documents]
    assert [e for e, _ in decoder.decode(documents)] != [[]] * len(documents)
