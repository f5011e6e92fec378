"""The model shipped in the package loads offline and finds the obvious entities of a sample."""

from __future__ import annotations

import json

import pytest

from marsad import predict
from marsad.embedded import embedded_model_path

SAMPLE = "قتل 12 مدنياً في غارة جوية شنتها قوات الدعم السريع على مدينة الفاشر، وفق ما أعلنت شبكة أطباء السودان."


@pytest.fixture(scope="module")
def doc():
    return predict(SAMPLE)


def test_shipped_model_is_small_and_self_describing():
    folder = embedded_model_path()
    assert (folder / "model.safetensors").stat().st_size < 60 * 2**20
    settings = json.loads((folder / "marsad.json").read_text())
    assert 0.0 < settings["relation_threshold"] < 1.0


@pytest.mark.parametrize("etype,text", [("NUMBER", "12"), ("ACTOR", "مدنياً"), ("WEAPON", "غارة جوية"),
                                        ("ACTOR", "قوات الدعم السريع"), ("LOCATION", "الفاشر")])
def test_shipped_model_finds_the_obvious_entities(doc, etype, text):
    start = SAMPLE.index(text)
    assert (etype, start, start + len(text), text) in {(e.type, e.start, e.end, e.text) for e in doc.entities}


def test_shipped_model_links_the_attacker_to_its_weapon_and_the_toll(doc):
    found = {(r.type, doc.entity(r.head).text, doc.entity(r.tail).text) for r in doc.relations}
    assert ("used", "قوات الدعم السريع", "غارة جوية") in found
    assert ("killed", "12", "مدنياً") in found
