"""``attention``'s rules beyond the op table: its MAC count, the errors a user meets, dropout on
the attention weights in train mode, and the ONNX opset its causal mask needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import archspec
from archspec.api import to_graph
from archspec.backends import get_backend
from archspec.errors import SpecError
from archspec.ir import TensorType
from archspec.ops.attention import Attention
from archspec.parity import draw_weights, without_dropout


def _spec(layer: str, shape: list[int | str]) -> dict[str, object]:
    return {"archspec": 1, "name": "attn", "input": shape, "network": {"attn": layer}}


@pytest.mark.parametrize("causal", [False, True])
def test_macs_are_the_projections_per_token_and_the_two_products(causal: bool) -> None:
    n, t, d = 3, 7, 8
    x = TensorType((n, t, d))
    projections = (3 * d * d + 3 * d) + (d * d + d)  # in_proj, out_proj: weights and biases, per token
    products = 2 * t * t * d  # q kᵀ and the weighted sum of v, all heads together
    assert Attention(dim=d, heads=2, causal=causal).macs((x,), x) == n * (t * projections + products)
    no_bias = Attention(dim=d, heads=4, bias=False)
    assert no_bias.macs((x,), x) == n * (t * 4 * d * d + products)


def test_a_symbolic_batch_and_length_count_per_sample_and_token() -> None:
    x = TensorType(("N", "T", 4))
    assert Attention(dim=4, heads=1).macs((x,), x) == 4 * 4 * 4 + 4 * 4 + 2 * 4


def test_tokens_of_another_width_are_refused_at_the_dim() -> None:
    with pytest.raises(SpecError, match=r"attention\(dim=8\) got tokens of width 6") as caught:
        archspec.shapes(_spec("attention(8, 2)", ["N", 5, 6]))
    assert caught.value.expected == "[N, T, 8]"
    assert "linear(8)" in (caught.value.hint or "")


def test_a_feature_map_is_refused_with_the_way_to_make_tokens() -> None:
    with pytest.raises(SpecError, match=r"attention expects a 3-D input") as caught:
        archspec.shapes(_spec("attention(8, 2)", ["N", 8, 4, 4]))
    assert "flatten(2) -> permute([0, 2, 1])" in (caught.value.hint or "")


def test_heads_must_divide_the_width() -> None:
    with pytest.raises(ValidationError, match="3 does not divide 8"):
        Attention(dim=8, heads=3)
    with pytest.raises(SpecError, match="3 does not divide 8"):
        archspec.shapes(_spec("attention(8, 3)", ["N", 5, 8]))


def test_torchs_argument_names_point_at_archspecs() -> None:
    with pytest.raises(SpecError) as caught:
        archspec.shapes(_spec("attention(8, num_heads=2)", ["N", 5, 8]))
    assert "'heads'" in (caught.value.hint or "")


def test_parity_zeroes_the_attention_dropout_in_train_mode() -> None:
    graph = to_graph(_spec("attention(8, 2, dropout=0.3)", ["N", 5, 8]))
    (node,) = without_dropout(graph).nodes
    assert isinstance(node.op, Attention) and node.op.dropout == 0.0


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_dropout_drops_attention_weights_in_train_mode_only(backend: str, tmp_path: Path) -> None:
    pytest.importorskip({"torch": "torch", "flax": "archspec_flax"}[backend])
    from safetensors.numpy import save_file

    spec = _spec("attention(8, 2, dropout=0.5)", ["N", 6, 8])
    weights = tmp_path / "weights.safetensors"
    save_file(draw_weights(archspec.shapes(spec, input_shape=[2, 6, 8])), str(weights))
    plain = _spec("attention(8, 2)", ["N", 6, 8])
    chosen = get_backend(backend)
    x = np.random.default_rng(0).standard_normal((2, 6, 8)).astype(np.float32)
    dropping = archspec.build(spec, backend=backend, weights=weights)
    reference = chosen.run(archspec.build(plain, backend=backend, weights=weights), x).output
    np.testing.assert_allclose(chosen.run(dropping, x).output, reference, rtol=1e-6, atol=1e-6)
    trained = chosen.run(dropping, x, train=True).output
    assert np.abs(trained - reference).max() > 1e-2, "half the attention weights dropped changes the output"


def test_onnx_needs_opset_14_for_the_causal_mask(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    spec = _spec("attention(8, 2, causal=true)", ["N", 5, 8])
    with pytest.raises(SpecError, match="needs ONNX opset 14 or later") as caught:
        archspec.build(spec, backend="onnx", options={"opset": 13})
    assert "--opset 17" in (caught.value.hint or "")
