"""Candidate pairs: what the relation head is asked to score."""

from __future__ import annotations

from marsad import load_schema
from marsad.features import LabelSpace, candidate_pairs

LABELS = LabelSpace(load_schema())
ACTOR, LOCATION, WEAPON, NUMBER = (LABELS.entity_types.index(t) for t in ("ACTOR", "LOCATION", "WEAPON", "NUMBER"))


def relations_of(mask_row) -> set[str]:
    return {LABELS.relations[k] for k, allowed in enumerate(mask_row.tolist()) if allowed}


def test_pairs_follow_the_schema_stay_in_one_sentence_and_score_symmetric_relations_once():
    # words 0-5 are sentence 0, words 6-9 sentence 1
    entities = [(0, 0, ACTOR), (2, 3, ACTOR), (5, 5, NUMBER), (7, 7, LOCATION)]
    heads, tails, masks = candidate_pairs(entities, [0] * 6 + [1] * 4, LABELS)
    pairs = {(h, t): relations_of(m) for h, t, m in zip(heads.tolist(), tails.tolist(), masks)}
    assert set(pairs) == {(0, 1), (1, 0), (2, 0), (2, 1)}          # nothing crosses into sentence 1
    assert "allied_with" in pairs[(0, 1)] and "allied_with" not in pairs[(1, 0)]
    assert "affiliated_with" in pairs[(0, 1)] and "affiliated_with" in pairs[(1, 0)]
    assert pairs[(2, 0)] == {"killed", "injured", "quantity"}


def test_no_entities_give_no_pairs():
    heads, tails, masks = candidate_pairs([], [0, 0], LABELS)
    assert heads.numel() == tails.numel() == 0 and masks.shape == (0, len(LABELS.relations))
