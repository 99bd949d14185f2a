"""Each op's ONNX lowering against PyTorch, one small network per case, at several opsets.

Cases cover what parity depends on: asymmetric conv padding, -inf max padding,
``count_include_pad`` and ``ceil_mode``, adaptive pooling with uneven windows, LRN with
even sizes (where ONNX's window differs from PyTorch's), gelu below and above opset 20,
hardswish below and above opset 14, attention's decomposition with and without its causal mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx_support import lively_weights

import archspec
from archspec import api
from archspec.backends import get_backend

torch = pytest.importorskip("torch")

CASES: dict[str, tuple[list[int | str], list[Any]]] = {
    "conv_asymmetric_pad": (["N", 3, 9, 8], ["conv(4, [3, 2], padding=[[0, 2], [1, 0]], stride=2)"]),
    "conv_same_even": (["N", 3, 8, 8], ["conv(4, 4, padding='same', dilation=2)"]),
    "conv_groups": (["N", 4, 8, 8], ["conv(8, 3, groups=4, bias=false) -> batchnorm -> relu6"]),
    "conv1d_pools": (["N", 3, 17], ["conv1d(4, 3, padding=1) -> maxpool1d(3, stride=2, padding=1) -> avgpool1d(2)"]),
    "maxpool_neg_inf_pad": (["N", 2, 7, 7], ["maxpool(3, stride=2, padding=1)"]),
    "maxpool_ceil": (["N", 2, 8, 8], ["maxpool(3, stride=2, padding=1, ceil_mode=true)"]),
    "maxpool_ceil_dilated": (["N", 2, 9, 9], ["maxpool(2, stride=2, dilation=2, ceil_mode=true)"]),
    "avgpool_exclude_pad": (["N", 2, 7, 7], ["avgpool(3, stride=2, padding=1, count_include_pad=false)"]),
    "avgpool_include_pad": (["N", 2, 7, 7], ["avgpool(3, stride=2, padding=1)"]),
    "avgpool_ceil": (["N", 2, 8, 8], ["avgpool(3, stride=2, padding=1, ceil_mode=true)"]),
    "avgpool_ceil_exclude": (
        ["N", 2, 8, 8],
        ["avgpool(3, stride=2, padding=1, ceil_mode=true, count_include_pad=false)"],
    ),
    "avgpool_ceil_overhang": (["N", 2, 6, 6], ["avgpool(2, stride=2, padding=1, ceil_mode=true)"]),
    "maxpool_ceil_drops_last": (["N", 2, 5, 5], ["maxpool(2, stride=2, padding=1, ceil_mode=true)"]),
    "avgpool_ceil_drops_last": (["N", 2, 5, 5], ["avgpool(2, stride=2, padding=1, ceil_mode=true)"]),
    "adaptive_uniform": (["N", 2, 8, 12], ["adaptive_avgpool([4, 3])"]),
    "adaptive_uneven": (["N", 2, 5, 7], ["adaptive_avgpool([3, 4])"]),
    "global_pools": (["N", 2, 5, 7], [{"concat": ["global_avgpool", "global_maxpool"]}]),
    "lrn_odd": (["N", 7, 5, 5], ["lrn(5, alpha=0.001, beta=0.75, k=2.0)"]),
    "lrn_even": (["N", 7, 5, 5], ["lrn(4, alpha=0.01, beta=0.5, k=1.0)"]),
    "lrn_3d_input": (["N", 6, 9], ["lrn(3)"]),
    "activations": (["N", 10], ["linear(8) -> gelu -> linear(8) -> silu -> leaky_relu(0.2) -> tanh -> sigmoid"]),
    "gelu_tanh": (["N", 10], ["linear(8) -> gelu(approximate='tanh')"]),
    "softmax_channels": (["N", 3, 4, 4], ["softmax(1)"]),
    "softmax_last": (["N", 3, 4, 4], ["softmax(-1)"]),
    "layernorm": (["N", 6], ["linear(8) -> layernorm -> relu"]),
    "layernorm_no_affine": (["N", 3, 4, 5], ["layernorm(2, affine=false)"]),
    "batchnorm_1d_features": (["N", 6], ["linear(5) -> batchnorm -> dropout(0.3)"]),
    "batchnorm_no_affine": (["N", 3, 6, 6], ["conv(4, 3) -> batchnorm(affine=false)"]),
    "flatten_start_2": (["N", 2, 3, 4], ["flatten(2)"]),
    "tokens_linear": (["N", 3, 8, 8], ["conv(8, 4, stride=4) -> flatten(2) -> permute([0, 2, 1]) -> linear(6)"]),
    "tokens_no_bias_select": (["N", 4, 6], ["permute([0, 2, 1]) -> linear(5, bias=false) -> select(1, -1)"]),
    "reshape_flatten_end": (["N", 2, 3, 4], ["reshape([0, 6, -1]) -> flatten(1, 2) -> select(1, 3)"]),
    "residual_add": (["N", 4, 6, 6], [{"add": ["conv(4, 3, padding=1) -> batchnorm", "identity"]}, "relu"]),
    "hard_activations": (["N", 3, 5, 5], ["conv(4, 3, padding=1) -> hardswish -> conv(4, 1) -> hardsigmoid"]),
    "attention": (["N", 5, 8], ["attention(8, 2) -> linear(4)"]),
    "attention_causal_no_bias": (["N", 6, 8], ["attention(8, 4, causal=true, bias=false)"]),
}


def _spec(name: str) -> dict[str, Any]:
    shape, network = CASES[name]
    return {"archspec": 1, "name": name, "input": shape, "network": network}


def _models(name: str, tmp_path, **options):
    from archspec_onnx import random_weights, save_weights

    spec = _spec(name)
    report = api.shapes(spec)
    weights = tmp_path / "w.safetensors"
    save_weights(lively_weights(random_weights(report, seed=2)), weights)
    model = get_backend("onnx").build(report.graph, report, weights, options)
    return report, model, archspec.build(spec, backend="torch", weights=weights)


@pytest.mark.parametrize("opset", [13, 17, 20])
@pytest.mark.parametrize("name", list(CASES))
def test_op_matches_torch(name, opset, tmp_path):
    _matches_torch(name, opset, tmp_path)


@pytest.mark.parametrize("name", ["attention", "attention_causal_no_bias"])
def test_attention_is_the_fused_op_from_opset_23(name, tmp_path):
    model = _matches_torch(name, 23, tmp_path)
    assert "Attention" in {n.op_type for n in model.model.graph.node}
    assert "Softmax" not in {n.op_type for n in model.model.graph.node}


def _matches_torch(name, opset, tmp_path):
    if name.startswith("layernorm") and opset < 17:
        pytest.skip("layernorm needs opset 17 (tested as an error below)")
    if "causal" in name and opset < 14:
        pytest.skip("the causal mask needs Trilu, opset 14 (tested as an error in tests/ops/test_attention.py)")
    report, model, reference = _models(name, tmp_path, opset=opset)
    onnx.checker.check_model(model.model, full_check=True)
    shape = [3 if isinstance(d, str) else d for d in report.graph.input.shape]
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    want = get_backend("torch").run(reference, x).output
    got = get_backend("onnx").run(model, x).output
    assert got.shape == want.shape == tuple(3 if isinstance(d, str) else d for d in report.output.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    return model


@pytest.mark.parametrize("name", ["conv_groups", "batchnorm_no_affine", "residual_add", "conv1d_pools"])
def test_folded_op_matches_torch(name, tmp_path):
    report, model, reference = _models(name, tmp_path, fold_bn=True)
    onnx.checker.check_model(model.model, full_check=True)
    if any(n.op_name == "batchnorm" for n in report.graph.nodes):
        assert model.exported.folded
        assert "BatchNormalization" not in {n.op_type for n in model.model.graph.node}
    shape = [3 if isinstance(d, str) else d for d in report.graph.input.shape]
    x = np.random.default_rng(8).standard_normal(shape).astype(np.float32)
    want = get_backend("torch").run(reference, x).output
    np.testing.assert_allclose(get_backend("onnx").run(model, x).output, want, rtol=1e-4, atol=1e-5)


def test_gelu_is_one_op_from_opset_20_and_erf_below(tmp_path):
    _, old, _ = _models("activations", tmp_path, opset=17)
    _, new, _ = _models("activations", tmp_path, opset=20)
    assert "Erf" in {n.op_type for n in old.model.graph.node} and "Gelu" not in {
        n.op_type for n in old.model.graph.node
    }
    assert "Gelu" in {n.op_type for n in new.model.graph.node}


def test_hardswish_is_one_op_from_opset_14_and_a_product_below(tmp_path):
    _, old, _ = _models("hard_activations", tmp_path, opset=13)
    _, new, _ = _models("hard_activations", tmp_path, opset=14)
    assert [n.op_type for n in old.model.graph.node] == ["Conv", "HardSigmoid", "Mul", "Conv", "HardSigmoid"]
    assert [n.op_type for n in new.model.graph.node] == ["Conv", "HardSwish", "Conv", "HardSigmoid"]
    # ONNX's HardSigmoid defaults to alpha=0.2; PyTorch's slope is 1/6
    alphas = [a.f for n in new.model.graph.node if n.op_type == "HardSigmoid" for a in n.attribute if a.name == "alpha"]
    assert alphas == [pytest.approx(1 / 6)]


def test_relu6_is_a_clip_and_dropout_is_gone(tmp_path):
    _, model, _ = _models("conv_groups", tmp_path)
    assert [n.op_type for n in model.model.graph.node if n.op_type != "Constant"] == [
        "Conv",
        "BatchNormalization",
        "Clip",
    ]
    _, model, _ = _models("batchnorm_1d_features", tmp_path)
    assert [n.op_type for n in model.model.graph.node][-1] == "Identity"  # names the output of the removed dropout


def test_linear_is_one_gemm_on_vectors_and_a_matmul_by_the_transposed_weight_on_tokens(tmp_path):
    _, vectors, _ = _models("activations", tmp_path)
    assert "Gemm" in {n.op_type for n in vectors.model.graph.node}
    _, tokens, _ = _models("tokens_linear", tmp_path)
    assert [n.op_type for n in tokens.model.graph.node if n.op_type != "Constant"][-4:] == [
        "Transpose",  # the token axis next to the features
        "Transpose",  # the weight, [out, in] to [in, out]
        "MatMul",
        "Add",
    ]


def test_layernorm_below_opset_17_is_a_clear_error(tmp_path):
    with pytest.raises(archspec.SpecError, match="needs ONNX opset 17 or later"):
        _models("layernorm", tmp_path, opset=13)


def test_fold_bn_keeps_a_batchnorm_whose_conv_has_other_readers(tmp_path):
    spec = {
        "archspec": 1,
        "name": "shared",
        "input": ["N", 3, 6, 6],
        "network": [
            {"dag": {"c": "conv(4, 3, padding=1)", "bn": "batchnorm", "out": {"in": ["c", "bn"], "do": "add"}}}
        ],
    }
    report = api.shapes(spec)
    model = get_backend("onnx").build(report.graph, report, options={"fold_bn": True})
    assert not model.exported.folded
    assert "BatchNormalization" in {n.op_type for n in model.model.graph.node}
