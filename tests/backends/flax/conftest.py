"""Shared settings for the Flax backend tests: every spec in specs/ at a size a 2-core CPU runs fast.

The 224x224 networks run at a smaller input (the input override; every shape still comes from
archspec's shape pass), and VGG-11 at the tutorial's narrow ``ratio=8``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("jax")
pytest.importorskip("flax")

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

#: Per spec: (input shape override or None, param overrides).
SMALL: dict[str, tuple[list[int | str] | None, dict[str, object]]] = {
    "alexnet": (["N", 1, 67, 67], {}),
    "convnext_tiny": (["N", 3, 64, 64], {"classes": 10, "depths": [1, 1, 2, 1]}),  # XLA compiles each block
    "deeplabv3_mobilenet_v3_large": (["N", 3, 64, 64], {}),  # features 4x4, the ASPP's pooling branch 1x1
    "densenet121": (["N", 3, 64, 64], {"classes": 10, "block_config": [2, 2, 2, 2]}),  # XLA compiles 2 of each
    "efficientnet_b0": (["N", 3, 64, 64], {"classes": 10}),
    "googlenet": (["N", 1, 32, 32], {}),
    "gpt2": (["N", 16], {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 97, "n_positions": 16}),
    "inception_small": (None, {}),
    "lenet_bn": (None, {}),
    "mobilenet_v2": (["N", 3, 32, 32], {"classes": 10}),
    # at 224x224 one hardswish input lies within float32 rounding of the kink at -3 or 3, where
    # the gradient jumps: flax's float32 lands on the other side of it and one gradient is O(1) off
    "mobilenet_v3_small": (["N", 3, 64, 64], {"classes": 10}),
    "nin": (["N", 1, 67, 67], {}),
    "resnet18": (["N", 3, 64, 64], {"classes": 10}),  # at 32x32 layer4 is 1x1: BN over 4 values
    "resnet50": (["N", 3, 64, 64], {"classes": 10}),
    "resnext50_32x4d": (["N", 3, 64, 64], {"classes": 10}),
    "shufflenet_v2_x1_0": (["N", 3, 64, 64], {"classes": 10}),
    # one or two blocks a stage (XLA compiles each block apart)
    "regnet_y_400mf": (
        ["N", 3, 64, 64],
        {"classes": 10, "stages": [[48, 2, 1, 8, 1.0], [104, 2, 2, 8, 1.0], [208, 2, 1, 8, 1.0], [440, 2, 1, 8, 1.0]]},
    ),
    "squeezenet1_1": (["N", 3, 64, 64], {"classes": 10}),
    "unet": (["N", 1, 32, 32], {"width": 8}),
    "vgg11": (["N", 1, 32, 32], {"ratio": 8}),
    # 16 patches of 8x8, two encoder blocks: the same structure as ViT-B/16
    "vit_b_16": (
        ["N", 3, 32, 32],
        {
            "image_size": 32,
            "patch_size": 8,
            "num_layers": 2,
            "num_heads": 4,
            "hidden_dim": 64,
            "mlp_dim": 128,
            "classes": 10,
        },
    ),
    # two stages of two blocks, 16x16 and 8x8 maps of 4x4 windows: shifted windows in both
    "swin_t": (
        ["N", 3, 64, 64],
        {"embed_dim": 24, "depths": [2, 2], "num_heads": [2, 4], "window_size": 4, "classes": 10},
    ),
}


@pytest.fixture(params=SPECS, ids=[p.stem for p in SPECS])
def spec_case(request) -> tuple[Path, list[int | str] | None, dict[str, object]]:
    """A spec, its input-shape override (or None) and its param overrides."""
    shape, params = SMALL.get(request.param.stem, (None, {}))
    return request.param, shape, params


@pytest.fixture
def spec_case_by_name():
    """A function: spec stem -> (spec path, input-shape override or None, param overrides)."""

    def case(name: str) -> tuple[Path, list[int | str] | None, dict[str, object]]:
        shape, params = SMALL.get(name, (None, {}))
        return ROOT / "specs" / f"{name}.yaml", shape, params

    return case
