"""Helpers of the onnx backend tests (a module name no other test directory uses): spec paths,
the smaller inputs of the 224x224 specs (and sizes of GPT-2), lively batchnorm weights and seeded inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archspec.infer import ShapeReport
from archspec.parity import draw_input

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

#: Smaller inputs for the 224x224 specs (the layers are unchanged; only the sizes shrink).
INPUTS: dict[str, list[int | str]] = {
    "alexnet": ["N", 1, 96, 96],
    "nin": ["N", 1, 96, 96],
    "vgg11": ["N", 1, 32, 32],
    "resnet18": ["N", 3, 64, 64],
    "resnet50": ["N", 3, 64, 64],
    "resnext50_32x4d": ["N", 3, 64, 64],
    "mobilenet_v2": ["N", 3, 64, 64],
    "mobilenet_v3_small": ["N", 3, 64, 64],
    "efficientnet_b0": ["N", 3, 64, 64],
    "squeezenet1_1": ["N", 3, 64, 64],
    "shufflenet_v2_x1_0": ["N", 3, 64, 64],
    "densenet121": ["N", 3, 64, 64],
    "regnet_y_400mf": ["N", 3, 64, 64],
    "unet": ["N", 1, 32, 32],  # the smallest input its four poolings halve evenly
    "convnext_tiny": ["N", 3, 64, 64],
    "gpt2": ["N", 16],
    "vit_b_16": ["N", 3, 32, 32],
    "swin_t": ["N", 3, 64, 64],
    "deeplabv3_mobilenet_v3_large": ["N", 3, 64, 64],  # features 4x4, the ASPP's pooling branch 1x1
}

#: Smaller sizes for the specs whose full size is too slow to export and run here.
PARAMS: dict[str, dict[str, Any]] = {
    "gpt2": {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 97, "n_positions": 16},
    "vit_b_16": {
        "image_size": 32,
        "patch_size": 8,
        "num_layers": 2,
        "num_heads": 4,
        "hidden_dim": 64,
        "mlp_dim": 128,
        "classes": 10,
    },
    # two stages of two blocks, 16x16 and 8x8 maps of 4x4 windows: shifted windows in both
    "swin_t": {"embed_dim": 24, "depths": [2, 2], "num_heads": [2, 4], "window_size": 4, "classes": 10},
}


def lively_weights(weights: dict[str, Any], seed: int = 1) -> dict[str, Any]:
    """``weights`` with batchnorm scales, shifts and statistics drawn away from 1 and 0."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, value in weights.items():
        is_norm = name.rsplit(".", 1)[0] + ".running_mean" in weights
        if name.endswith("running_var") or (is_norm and name.endswith(".weight")):
            value = rng.uniform(0.5, 1.5, value.shape)
        elif name.endswith("running_mean") or (is_norm and name.endswith(".bias")):
            value = rng.uniform(-0.1, 0.1, value.shape)
        out[name] = np.asarray(value, dtype=np.float32)
    return out


def example_input(report: ShapeReport, batch: int = 2, seed: int = 0) -> Any:
    """A seeded input: N(0, 1) values, or ids in range for a network over token ids."""
    shape = tuple(batch if isinstance(d, str) else d for d in report.graph.input.shape)
    return draw_input(report.graph, shape, np.random.default_rng(seed))
