"""specs/unet.yaml against its hand-written PyTorch twin (torchvision has no U-Net): the same
parameters under the same names, so each state dict loads into the other strictly, and the same
output in eval and train mode (the U-Net has no dropout or batch norm, so the modes agree too).
Reduced to width 4 at 32x32 (the smallest input four poolings halve evenly) to keep CI fast."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import archspec
from archspec.parity import parity

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "specs" / "unet.yaml"
sys.path.insert(0, str(ROOT / "tests" / "backends" / "torch" / "fixtures"))
from torch_unet import UNet  # noqa: E402

WIDTH = 4
INPUT = [2, 1, 32, 32]


def _pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    twin = UNet(width=WIDTH)
    ours = archspec.build(SPEC, "torch", input_shape=INPUT, params={"width": WIDTH})
    ours.load_state_dict(twin.state_dict(), strict=True)
    return twin, ours


def test_the_paper_sized_unet_has_the_twins_parameter_count() -> None:
    report = archspec.shapes(SPEC)
    assert report.total_params == sum(p.numel() for p in UNet().parameters()) == 31_030_658
    assert report.output.shape == ("N", 2, 256, 256)  # padded convolutions keep the input's size


def test_the_state_dicts_have_the_same_names_and_load_both_ways() -> None:
    twin, ours = _pair()
    assert list(ours.state_dict()) == list(twin.state_dict())
    assert twin.load_state_dict(ours.state_dict(), strict=True)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_the_outputs_are_identical(mode: str) -> None:
    twin, ours = _pair()
    x = torch.randn(INPUT, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        theirs, mine = twin.train(mode == "train")(x), ours.train(mode == "train")(x)
    assert mine.shape == (2, 2, 32, 32)
    assert torch.equal(mine, theirs)


def test_parity_on_every_backend() -> None:
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    report = parity(SPEC, ("torch", "flax", "onnx"), params={"width": WIDTH}, input_shape=INPUT)
    assert report.ok, report.to_dict()


def test_train_mode_parity_with_gradients() -> None:
    pytest.importorskip("flax")
    report = parity(SPEC, ("torch", "flax"), mode="train", grad=True, params={"width": WIDTH}, input_shape=INPUT)
    assert report.ok, report.to_dict()
