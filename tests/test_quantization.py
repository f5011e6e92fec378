"""int8 inference: calibration stored with the model, SmoothQuant scaling, quantised layers."""

from __future__ import annotations

import copy
import logging
import shutil

import pytest
import torch
from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

from marsad import MarsadError
from marsad.cli import main
from marsad.inference import Predictor
from marsad.model import CALIBRATION_FILE, MarsadModel
from marsad.quantization import calibrate, down_projections, quantize_int8, smooth


@pytest.fixture(scope="module")
def model(tiny_model):
    return MarsadModel.from_pretrained(tiny_model)


def test_training_stores_the_down_projection_input_ranges(model):
    layers = down_projections(model.network)
    config = model.network.encoder.config
    assert len(layers) == config.num_hidden_layers
    assert set(model.calibration) == set(layers)
    for name, ranges in model.calibration.items():
        assert ranges.shape == (config.intermediate_size,)
        assert (ranges >= 0).all() and ranges.max() > 0


def test_calibration_is_the_maximum_over_the_texts(model, documents):
    texts = [d.text for d in documents]
    # one window a batch, so padding next to other texts cannot change a single rounding
    both = calibrate(model, texts, batch_size=1)
    first, second = calibrate(model, texts[:2], batch_size=1), calibrate(model, texts[2:], batch_size=1)
    for name in both:
        assert torch.equal(both[name], torch.maximum(first[name], second[name]))


def test_smoothing_keeps_the_function_and_rescues_an_outlier_channel():
    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Linear(64, 16)).requires_grad_(False)
    x = torch.randn(256, 64).abs()
    x[:, 3] *= 200   # one channel hundreds of times the others, as after GELU in real encoders
    expected = plain(x)
    smoothed = smooth(copy.deepcopy(plain[0]), x.amax(0))
    assert torch.allclose(smoothed(x.clone()), expected, rtol=1e-4, atol=1e-3)

    def int8_error(module):
        layers = {name: per_channel_dynamic_qconfig for name, m in module.named_modules()
                  if isinstance(m, torch.nn.Linear)}
        quantised = quantize_dynamic(module, layers, dtype=torch.qint8)
        return (quantised(x.clone()) - expected).abs().mean().item()

    assert int8_error(smoothed) < 0.5 * int8_error(plain)


def test_int8_with_calibration_quantises_every_linear_layer(model):
    network = quantize_int8(model.network, model.calibration)
    assert not [name for name, m in network.named_modules() if type(m) is torch.nn.Linear]
    assert sum(isinstance(m, QuantizedLinear) for m in network.modules()) > 2 * len(model.calibration)
    assert all(type(m) is torch.nn.Linear for m in model.network.modules() if isinstance(m, torch.nn.Linear)), \
        "the model's own network is left as it was"


def test_a_calibration_from_another_model_is_refused(model):
    other = {name: ranges[:-1] for name, ranges in model.calibration.items()}
    with pytest.raises(MarsadError, match="does not fit this model"):
        quantize_int8(model.network, other)


def test_without_calibration_the_down_projections_stay_float_with_a_warning(tiny_model, caplog):
    model = MarsadModel.from_pretrained(tiny_model)
    model.calibration = None
    with caplog.at_level(logging.WARNING, logger="marsad"):
        network = Predictor(model, precision="int8").network
    assert "marsad calibrate" in caplog.text
    config = network.encoder.config
    still_float = [m.in_features for m in network.modules() if type(m) is torch.nn.Linear]
    assert still_float == [config.intermediate_size] * config.num_hidden_layers


def test_calibration_survives_saving_in_half_precision(tmp_path, model):
    model.save_pretrained(tmp_path / "half", half=True)
    loaded = MarsadModel.from_pretrained(tmp_path / "half")
    assert all(torch.equal(loaded.calibration[k], v) for k, v in model.calibration.items())


def test_calibrate_cli_measures_a_model_folder_from_raw_inputs(tmp_path, tiny_model, documents, write_lines, capsys):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / CALIBRATION_FILE).unlink()
    source = write_lines("news.jsonl", ["{broken"] + [{"body": d.text, "title": "t"} for d in documents])
    assert main(["calibrate", str(source), "--model", str(folder), "--text-field", "body", "--documents", "2"]) == 0
    out, err = capsys.readouterr()
    assert "from 2 document(s)" in out
    assert "news.jsonl:1" in err and "skipped" in err
    stored = MarsadModel.from_pretrained(folder).calibration
    expected = calibrate(MarsadModel.from_pretrained(folder), [d.text for d in documents[:2]])
    assert set(stored) == set(expected) and all(torch.equal(stored[k], expected[k]) for k in stored)


def test_calibrate_cli_fails_clearly_without_usable_documents(tmp_path, tiny_model, write_lines, capsys):
    source = write_lines("news.jsonl", ["{broken", {"title": "no text"}])
    assert main(["calibrate", str(source), "--model", str(tiny_model)]) == 2
    assert "no usable documents" in capsys.readouterr().err
