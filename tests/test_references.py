"""The reference models load on these machines (tests/references.py) and the zoo specs have
their parameter counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from references import torchvision

from archspec import api

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("spec", "reference"),
    [
        ("resnet18", "resnet18"),
        ("resnet50", "resnet50"),
        ("resnext50_32x4d", "resnext50_32x4d"),
        ("mobilenet_v2", "mobilenet_v2"),
        ("mobilenet_v3_small", "mobilenet_v3_small"),
        ("efficientnet_b0", "efficientnet_b0"),
        ("squeezenet1_1", "squeezenet1_1"),
        ("shufflenet_v2_x1_0", "shufflenet_v2_x1_0"),
        ("densenet121", "densenet121"),
        ("regnet_y_400mf", "regnet_y_400mf"),
        ("convnext_tiny", "convnext_tiny"),
        ("vit_b_16", "vit_b_16"),
        ("swin_t", "swin_t"),
    ],
)
def test_zoo_specs_have_the_reference_parameter_count(spec: str, reference: str) -> None:
    model = getattr(torchvision().models, reference)()
    expected = sum(p.numel() for p in model.parameters())
    assert api.shapes(ROOT / "specs" / f"{spec}.yaml").total_params == expected


def test_deeplabv3_has_the_reference_parameter_count() -> None:
    """torchvision's segmentation model without its aux head (weights_backbone=None: no download)."""
    model = torchvision().models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None)
    expected = sum(p.numel() for p in model.parameters())
    assert api.shapes(ROOT / "specs" / "deeplabv3_mobilenet_v3_large.yaml").total_params == expected
