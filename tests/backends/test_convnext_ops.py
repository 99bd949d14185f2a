"""ConvNeXt's residual-branch ops on the backends that train: a fresh ``param`` (the layer scale)
holds its ``init`` under its step's name, in the spec's layout, as a bare parameter; ``drop_path``
in train mode drops whole samples with probability p and scales the rest by 1/(1-p), on torch and
on flax (each with its own RNG, so the law is tested, not the draws). Eval mode and values with
drawn weights are in the op table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import archspec


def _spec(network: str, shape: list[Any]) -> dict[str, Any]:
    return {"archspec": 1, "name": "t", "input": ["N", *shape], "network": network}


_LAYER_SCALE = {
    "dag": {
        "block": "conv(6, 1)",
        "layer_scale": "param([6, 1, 1], init=0.25)",
        "scaled": {"in": ["layer_scale", "block"], "do": "mul"},
    }
}


def test_a_fresh_torch_param_is_init_under_its_step_name_as_a_bare_parameter() -> None:
    torch = pytest.importorskip("torch")
    model = archspec.build(_spec(_LAYER_SCALE, [3, 4, 4]), backend="torch")
    assert isinstance(model.layer_scale, torch.nn.Parameter)  # an attribute, not a submodule
    assert [name for name, _ in model.named_children()] == ["block"]
    state = model.state_dict()
    np.testing.assert_array_equal(state["layer_scale"].numpy(), np.full((6, 1, 1), 0.25, np.float32))


def test_a_fresh_flax_param_is_init_in_the_canonical_layout() -> None:
    pytest.importorskip("archspec_flax")
    from archspec_flax.weights import canonical_state

    scale = canonical_state(archspec.build(_spec(_LAYER_SCALE, [3, 4, 4]), backend="flax"))["layer_scale"]
    np.testing.assert_array_equal(scale, np.full((6, 1, 1), 0.25, np.float32))
    # held channels-last inside ([1, 3, 5]), given back as the spec's [1, 5, 3]
    tokens = canonical_state(archspec.build(_spec({"add": ["identity", "param([1, 5, 3])"]}, [5, 3]), backend="flax"))
    assert tokens["branch2"].shape == (1, 5, 3)


def test_fresh_onnx_weights_init_a_param_as_it_says() -> None:
    pytest.importorskip("onnx")
    from archspec_onnx import random_weights

    fresh = random_weights(archspec.shapes(_spec(_LAYER_SCALE, [3, 4, 4])))
    np.testing.assert_array_equal(fresh["layer_scale"], np.full((6, 1, 1), 0.25, np.float32))
    drawn = random_weights(
        archspec.shapes(_spec({"add": ["identity", "param([1, 64, 64], init=normal, std=0.02)"]}, [64, 64]))
    )
    assert drawn["branch2"].dtype == np.float32 and abs(drawn["branch2"].std() - 0.02) < 0.02 * 0.06


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_a_param_set_from_an_int_expression_is_a_float_tensor(backend: str) -> None:
    pytest.importorskip("torch" if backend == "torch" else "archspec_flax")
    blocks = {
        "scaled(v)": {"dag": {"scale": "param([3, 1, 1], init=v + 1)", "y": {"in": ["scale", "input"], "do": "mul"}}}
    }
    spec = {**_spec("scaled(k)", [3, 2, 2]), "params": {"k": 1}, "blocks": blocks}
    model = archspec.build(spec, backend=backend)  # torch.full((3, 1, 1), k + 1) would be an int tensor
    if backend == "torch":
        value = model.state_dict()["scale"].numpy()
    else:
        from archspec_flax.weights import canonical_state

        value = canonical_state(model)["scale"]
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, np.full((3, 1, 1), 2.0, np.float32))


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_a_normal_param_is_drawn_with_its_std(backend: str) -> None:
    pytest.importorskip("torch" if backend == "torch" else "archspec_flax")
    network = {"add": ["identity", "param([1, 64, 64], init=normal, std=0.02)"]}
    model = archspec.build(_spec(network, [64, 64]), backend=backend)
    if backend == "torch":
        value = model.state_dict()["branch2"].numpy()
    else:
        from archspec_flax.weights import canonical_state

        value = canonical_state(model)["branch2"]
    assert value.shape == (1, 64, 64)
    assert abs(value.mean()) < 5 * 0.02 / 64  # 4096 samples: 5 sigma of the mean
    assert abs(value.std() - 0.02) < 0.02 * 0.06


# ------------------------------------------------------------------ drop_path in train mode
DROP_P = 0.25
SAMPLES = 4000


def _per_sample_factors(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each sample's output as a multiple of its input, checking that it is one multiple per sample."""
    factors = y.reshape(len(y), -1) / x.reshape(len(x), -1)
    np.testing.assert_allclose(factors, factors[:, :1].repeat(factors.shape[1], axis=1), rtol=1e-6)
    return factors[:, 0]


def _assert_the_law_of_stochastic_depth(factors: np.ndarray) -> None:
    # every sample dropped whole or kept scaled by 1 / (1 - p) ...
    kept = 1 / (1 - DROP_P)
    assert np.all(np.isclose(factors, 0) | np.isclose(factors, kept, rtol=1e-6))
    # ... dropped with probability p, so the mean is preserved: E[factor] = 1 (5 sigma bounds)
    dropped = np.isclose(factors, 0).mean()
    sigma = np.sqrt(DROP_P * (1 - DROP_P) / len(factors))
    assert abs(dropped - DROP_P) < 5 * sigma
    assert abs(factors.mean() - 1) < 5 * sigma * kept


def _train_input() -> np.ndarray:
    return np.random.default_rng(0).uniform(1, 2, (SAMPLES, 3, 2, 2)).astype(np.float32)  # no zeros to divide by


def test_torch_drop_path_drops_whole_samples_and_preserves_the_mean() -> None:
    torch = pytest.importorskip("torch")
    model = archspec.build(_spec(f"drop_path({DROP_P})", [3, 2, 2]), backend="torch").train()
    x = _train_input()
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    _assert_the_law_of_stochastic_depth(_per_sample_factors(x, y))


def test_flax_drop_path_follows_the_same_law_with_its_own_rng() -> None:
    pytest.importorskip("archspec_flax")
    model = archspec.build(_spec(f"drop_path({DROP_P})", [3, 2, 2]), backend="flax")
    model.train()
    x = _train_input()
    y = np.asarray(model(x))
    _assert_the_law_of_stochastic_depth(_per_sample_factors(x, y))
    model.eval()
    np.testing.assert_array_equal(np.asarray(model(x)), x)


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_drop_path_at_p_0_is_the_identity_in_train_mode(backend: str) -> None:
    pytest.importorskip("torch" if backend == "torch" else "archspec_flax")
    model = archspec.build(_spec("drop_path(0.0)", [3, 2, 2]), backend=backend)
    x = _train_input()[:8]
    if backend == "torch":
        import torch

        y = model.train()(torch.from_numpy(x)).detach().numpy()
    else:
        model.train()
        y = np.asarray(model(x))
    np.testing.assert_array_equal(y, x)


def test_train_mode_parity_sets_drop_path_to_0() -> None:
    from archspec.ops.tensor import DropPath
    from archspec.parity import without_dropout

    graph = without_dropout(archspec.to_graph(_spec("conv(4, 1) -> drop_path(0.3)", [3, 4, 4])))
    assert [n.op for n in graph.nodes if isinstance(n.op, DropPath)] == [DropPath(p=0.0)]
