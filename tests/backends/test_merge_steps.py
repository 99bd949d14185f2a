"""A numbered list that starts by merging several values (a DAG node ``{in: [a, b], do: add -> relu}``,
a U-Net decoder's ``concat -> double_conv(c)``, a block whose body is such a list) builds on every
backend, keeps its steps' canonical names (``c.1.weight``) and computes what the spec says."""

from __future__ import annotations

from typing import Any

import pytest

import archspec
from archspec.parity import parity

BACKENDS = ("torch", "flax", "onnx")

DAG_ADD: dict[str, Any] = {
    "archspec": 1,
    "name": "dag_add",
    "input": ["N", 3, 8, 8],
    "network": {
        "dag": {
            "a": "conv(4, 3, padding=1)",
            "b": {"in": ["input"], "do": "conv(4, 1)"},
            "c": {"in": ["a", "b"], "do": "add -> relu"},
            "d": {"in": ["c"], "do": "global_avgpool -> flatten -> linear(2)"},
        }
    },
}

UNET: dict[str, Any] = {
    "archspec": 1,
    "name": "tiny_unet",
    "input": ["N", 3, 8, 8],
    "params": {"width": 4},
    "blocks": {
        "double_conv(c)": ["conv(c, 3, padding=1) -> batchnorm -> relu", "conv(c, 3, padding=1) -> relu"],
        "join(c)": "concat -> double_conv(c)",  # a block whose body starts with the merge
    },
    "network": {
        "dag": {
            "enc": "double_conv(width)",
            "down": {"in": ["enc"], "do": "maxpool(2) -> double_conv(width * 2) -> conv(width, 1)"},
            "up": {"in": ["down"], "do": "adaptive_avgpool(8)"},
            "dec": {"in": ["up", "enc"], "do": "concat -> double_conv(width)"},  # a block call after the merge
            "dec2": {"in": ["dec", "enc"], "do": "join(width)"},
            "dec3": {"in": ["dec2", "enc", "dec"], "do": "join(width) -> conv(2, 1)"},  # nested: join merges first
        }
    },
}


#: What each backend needs to run here.
_RUNTIME = {"torch": "torch", "flax": "flax", "onnx": "onnxruntime"}


def _available(names: tuple[str, ...]) -> list[str]:
    for name in names:
        pytest.importorskip(_RUNTIME[name])
    return list(names)


@pytest.mark.parametrize("spec", [DAG_ADD, UNET], ids=["add_relu", "unet"])
def test_every_backend_builds_it_and_agrees(spec: dict[str, Any]) -> None:
    report = parity(spec, _available(BACKENDS), grad=True)
    assert report.ok, [r for r in report.rows if not r.ok]
    assert {r.backend for r in report.rows} == {"flax", "onnx"}  # loaded the same canonical weights


@pytest.mark.parametrize("spec", [DAG_ADD, UNET], ids=["add_relu", "unet"])
def test_train_steps_agree(spec: dict[str, Any]) -> None:
    report = parity(spec, _available(("torch", "flax")), mode="train", grad=True, batch=4)
    assert report.ok, [r for r in report.rows if not r.ok]


def test_the_steps_keep_their_numbers_and_the_caller_merges() -> None:
    pytest.importorskip("torch")
    source = archspec.emit(UNET, "torch").source
    assert "dec = self.dec(torch.cat([up, enc], dim=1))" in source
    assert "return self.dec3(torch.cat([dec2, enc, dec], dim=1))" in source
    assert "# 0: the concat of the inputs, done where this is called\n" in source
    assert "class Join(nn.Sequential):" in source and "DoubleConv(width + width, width)" in source
    names = set(archspec.build(UNET, backend="torch").state_dict())
    assert {"dec.1.0.0.weight", "dec2.1.1.0.weight", "dec3.0.1.0.0.weight", "dec3.1.weight"} <= names
