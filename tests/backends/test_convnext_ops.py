"""ConvNeXt's residual-branch ops on the backends that train: a fresh ``layer_scale`` holds its
``init`` under torchvision's name and layout. (Values and gradients with drawn weights are in the
op table, tests/ops.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import archspec


def _spec(network: str, shape: list[Any]) -> dict[str, Any]:
    return {"archspec": 1, "name": "t", "input": ["N", *shape], "network": network}


def test_a_fresh_torch_layer_scale_is_init_under_torchvisions_name_and_shape() -> None:
    pytest.importorskip("torch")
    state = archspec.build(_spec("conv(6, 1) -> layer_scale(init=0.25)", [3, 4, 4]), backend="torch").state_dict()
    assert tuple(state["1.layer_scale"].shape) == (6, 1, 1)
    np.testing.assert_array_equal(state["1.layer_scale"].numpy(), np.full((6, 1, 1), 0.25, np.float32))


def test_a_fresh_flax_layer_scale_is_init_in_the_canonical_layout() -> None:
    pytest.importorskip("archspec_flax")
    from archspec_flax.weights import canonical_state

    model = archspec.build(_spec("conv(6, 1) -> layer_scale", [3, 4, 4]), backend="flax")
    scale = canonical_state(model)["1.layer_scale"]
    assert scale.shape == (6, 1, 1)
    np.testing.assert_allclose(scale, np.full((6, 1, 1), 1e-6, np.float32))
