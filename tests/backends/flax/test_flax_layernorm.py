"""Layer norm on flax over the spec's last ``dims`` axes of any rank, although the module runs
channels-last inside: the same canonical weights give torch's outputs and gradients, and weights
load and save in the canonical [last dims...] layout."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.api import to_graph
from archspec.infer import infer_shapes
from archspec.parity import draw_weights, parity

archspec_flax = pytest.importorskip("archspec_flax")
pytest.importorskip("torch")

CASES = {
    "nchw_over_w": (["N", 3, 6, 5], "conv(4, 1) -> layernorm(1) -> relu -> flatten -> linear(3)"),
    "nchw_over_c": (["N", 3, 6, 5], "conv(4, 1) -> layernorm(axis=1) -> relu -> flatten -> linear(3)"),
    "nchw_over_hw": (["N", 3, 6, 5], "conv(4, 1) -> layernorm(2, eps=0.001) -> flatten -> linear(3)"),
    "nchw_over_chw": (["N", 3, 6, 5], "conv(4, 1) -> layernorm(3) -> flatten -> linear(3)"),
    "nchw_over_chw_no_affine": (["N", 3, 6, 5], "conv(4, 1) -> layernorm(3, affine=false) -> flatten -> linear(3)"),
    "ntd_over_d": (["N", 5, 7], "conv1d(6, 1) -> layernorm -> flatten -> linear(3)"),
    "ntd_over_td": (["N", 5, 7], "conv1d(6, 1) -> layernorm(2) -> flatten -> linear(3)"),
    "nf": (["N", 5], "linear(6) -> layernorm -> linear(3)"),
    # features of variance ~1e-3: the default eps (1e-5, not nnx.LayerNorm's 1e-6) shows
    "nf_small_variance": (["N", 5], "linear(6) -> sigmoid -> sigmoid -> layernorm -> linear(3)"),
}


def _spec(case: str) -> dict[str, object]:
    shape, body = CASES[case]
    return {"archspec": 1, "name": case, "input": shape, "network": {"body": body}}


@pytest.mark.parametrize("case", CASES)
def test_flax_matches_torch_with_the_same_canonical_weights(case: str) -> None:
    for mode in ("eval", "train"):
        report = parity(_spec(case), ["torch", "flax"], mode=mode, grad=True, batch=4)
        assert report.ok, [r for r in report.rows if not r.ok]
        assert any(r.kind == "grad" for r in report.rows)


def test_onnx_agrees_too() -> None:
    pytest.importorskip("onnxruntime")
    report = parity(_spec("nchw_over_chw"), ["torch", "flax", "onnx"])
    assert report.ok, [r for r in report.rows if not r.ok]


def test_weights_save_in_the_canonical_layout(tmp_path) -> None:
    from safetensors.numpy import load_file, save_file

    report = infer_shapes(to_graph(_spec("nchw_over_chw")))
    weights = draw_weights(report, seed=3)
    assert weights["body.1.weight"].shape == (4, 6, 5)  # [C, H, W], as torch keeps it
    save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, str(tmp_path / "in.safetensors"))
    backend = archspec_flax.backend
    model = backend.build(report.graph, report, tmp_path / "in.safetensors")
    backend.save_weights(model, tmp_path / "out.safetensors")
    saved = load_file(str(tmp_path / "out.safetensors"))
    assert saved.keys() == weights.keys()
    for name, value in weights.items():
        np.testing.assert_array_equal(saved[name], value, err_msg=name)
