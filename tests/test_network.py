"""The network's pair features."""

from __future__ import annotations

import json

import torch

from marsad.network import DISTANCE_BUCKETS, distance_bucket


def test_distance_buckets_are_exact_when_near_logarithmic_when_far_and_signed():
    distance = torch.tensor([1, 4, 5, 7, 8, 15, 16, 64, 5000])
    assert distance_bucket(distance).tolist() == [1, 4, 5, 5, 6, 6, 7, 9, 9]
    assert (distance_bucket(-distance) == distance_bucket(distance) + DISTANCE_BUCKETS).all()


def test_a_model_saved_before_distance_features_loads_without_them(tmp_path, tiny_encoder):
    from marsad import load_schema
    from marsad.config import ModelSettings
    from marsad.model import MarsadModel

    model = MarsadModel.from_encoder(str(tiny_encoder), load_schema(), ModelSettings(distance_dim=0, relation_dim=16))
    model.save_pretrained(tmp_path)
    settings = json.loads((tmp_path / "marsad.json").read_text())
    del settings["distance_dim"]
    (tmp_path / "marsad.json").write_text(json.dumps(settings))
    loaded = MarsadModel.from_pretrained(tmp_path)
    assert loaded.network.distance_embedding is None
