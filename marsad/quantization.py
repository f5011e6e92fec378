"""Int8 inference on the CPU: dynamic quantisation, with the feed-forward down-projections smoothed.

Dynamic quantisation (``torch.ao``, fbgemm kernels) gives each Linear layer's input one int8 scale
per call. The encoder's feed-forward down-projections read GELU outputs in which a few channels
reach tens of times the median value (e5-small, layer 4: 64 against 1.8), so a single scale
leaves the other channels a handful of levels: quantised as they are, they cost the shipped model
3 points of test entity F1.

SmoothQuant (Xiao et al., 2023, "SmoothQuant: Accurate and Efficient Post-Training Quantization
for Large Language Models") moves that range into the weights, where per-channel quantisation
absorbs it: input channel j is divided by ``s_j = max|X_j|^a / max|W_j|^(1-a)`` and weight column j
multiplied by it, which leaves the layer's output unchanged in exact arithmetic. ``max|X_j|`` comes
from a calibration pass (:func:`calibrate`) stored with the model. torchao's SmoothQuant converts to
torchao's own int8 tensors, which ran no faster than fp32 on this project's CPU (230 against 245 ms
for a BERT-base feed-forward block; torch.ao's kernels 98 ms), hence the scaling here in front
of torch.ao's quantised layers.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from .errors import MarsadError
from .model import CALIBRATION_FILE, MarsadModel
from .network import JointNetwork

log = logging.getLogger(__name__)

# Migration strength a. On annotations/dev.jsonl (calibrated on 150 training articles), a = 0.6,
# 0.7, 0.75, 0.8, 0.9 gave int8 entity F1 0.899, 0.907, 0.912, 0.914, 0.908 (fp32 0.916).
SMOOTHING_ALPHA = 0.8


def down_projections(network: torch.nn.Module) -> dict[str, torch.nn.Linear]:
    """The encoder's feed-forward down-projections, by module name: the Linear layers that read
    the intermediate (GELU) activations."""
    width = getattr(network.encoder.config, "intermediate_size", None)
    return {name: m for name, m in network.named_modules()
            if isinstance(m, torch.nn.Linear) and m.in_features == width}


def calibrate(model: MarsadModel, texts: Sequence[str], batch_size: int = 16, device=None) -> dict[str, torch.Tensor]:
    """Per-channel maxima of ``|input|`` of every down-projection while ``model`` reads ``texts`` in fp32."""
    from .inference import Predictor   # here: inference imports this module

    ranges: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(module, args):
            seen = args[0].detach().abs().flatten(0, -2).amax(0).float().cpu()
            ranges[name] = torch.maximum(ranges[name], seen) if name in ranges else seen
        return hook

    hooks = [layer.register_forward_pre_hook(record(name)) for name, layer in down_projections(model.network).items()]
    try:
        Predictor(model, device=device, precision="fp32", batch_size=batch_size).predict(list(texts))
    finally:
        for h in hooks:
            h.remove()
    return ranges


def calibrate_folder(folder: str | Path, texts: Sequence[str], batch_size: int = 16, device=None) -> Path:
    """Calibrate the model saved in ``folder`` on ``texts`` and store the ranges there; returns their file."""
    model = MarsadModel.from_pretrained(folder)
    model.calibration = calibrate(model, texts, batch_size, device)
    model.save_calibration(folder)
    log.info("int8 calibration on %d documents written to %s", len(texts), Path(folder) / CALIBRATION_FILE)
    return Path(folder) / CALIBRATION_FILE


class _InputScale(torch.nn.Module):
    """Multiplies its input by a per-channel factor, in place (the GELU output it scales has no other reader)."""

    def __init__(self, factor: torch.Tensor):
        super().__init__()
        self.register_buffer("factor", factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(self.factor)


def smooth(linear: torch.nn.Linear, input_range: torch.Tensor, alpha: float = SMOOTHING_ALPHA) -> torch.nn.Sequential:
    """``linear`` with SmoothQuant scaling: the same function, its input range moved into its weights."""
    with torch.no_grad():
        weight_range = linear.weight.abs().amax(0)
        s = input_range.clamp(min=1e-5) ** alpha / weight_range.clamp(min=1e-5) ** (1 - alpha)
        linear.weight.mul_(s)
    return torch.nn.Sequential(_InputScale(1 / s), linear)


def quantize_int8(network: JointNetwork, input_ranges: dict[str, torch.Tensor] | None) -> JointNetwork:
    """A copy of ``network`` with every Linear layer quantised to int8 (weights per output channel,
    activations per tensor, on the fly).

    With ``input_ranges`` (from :func:`calibrate`) the down-projections are smoothed first; without,
    they stay in float, which keeps the accuracy but runs about 30% slower.
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    network = copy.deepcopy(network)
    skip = set()
    for name, linear in down_projections(network).items():
        if input_ranges is None:
            skip.add(linear)
        elif name not in input_ranges or input_ranges[name].shape != (linear.in_features,):
            raise MarsadError(f"the int8 calibration does not fit this model (layer {name}): "
                              "run `marsad calibrate --model DIR INPUT...` again")
        else:
            parent, _, child = name.rpartition(".")
            setattr(network.get_submodule(parent), child, smooth(linear, input_ranges[name]))
    layers = {name: per_channel_dynamic_qconfig for name, m in network.named_modules()
              if isinstance(m, torch.nn.Linear) and m not in skip}
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, whose int8 layers were not
        # faster on the CPU (see above); it still ships with the pinned torch, and the int8 tests
        # fail the day it stops working
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_.*are deprecated")
        return quantize_dynamic(network, layers, dtype=torch.qint8, inplace=True)
