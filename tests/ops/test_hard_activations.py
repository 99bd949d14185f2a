"""``hardsigmoid`` and ``hardswish`` exactly at their kinks, on every backend, against PyTorch.

The op table draws random inputs, which never land on -3 or 3 exactly; these do. A subgradient
is a choice, and PyTorch's is the spec's: at -3 and 3 hardsigmoid's gradient is 0 and
hardswish's is 0 and 1, the slopes of the outer pieces.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import archspec  # noqa: E402
from archspec.backends import backend_entry_points, get_backend  # noqa: E402
from archspec.errors import SpecError  # noqa: E402

#: The kinks, their neighbours either side, and the middle.
POINTS = np.array([[-3.5, -3.0, -2.999, 0.0, 2.999, 3.0, 3.5, -6.0]], dtype=np.float32)

REFERENCES = {
    "hardsigmoid": torch.nn.functional.hardsigmoid,
    "hardswish": torch.nn.functional.hardswish,
}


@pytest.mark.parametrize("backend", sorted(backend_entry_points()))
@pytest.mark.parametrize("op", sorted(REFERENCES))
def test_values_and_gradients_at_the_kinks(op: str, backend: str) -> None:
    try:
        chosen = get_backend(backend)
    except SpecError as exc:
        pytest.skip(f"backend '{backend}' is not installed here: {exc.message}")
    spec = {"archspec": 1, "name": "kinks", "input": ["N", POINTS.shape[1]], "network": op}
    x = torch.tensor(POINTS, requires_grad=True)
    want = REFERENCES[op](x)
    want.sum().backward()
    assert x.grad is not None
    gradients = backend != "onnx"  # onnxruntime computes no gradients
    ones = np.ones_like(POINTS)
    run = chosen.run(archspec.build(spec, backend=backend), POINTS.copy(), cotangent=ones if gradients else None)
    np.testing.assert_allclose(np.asarray(run.output), want.detach().numpy(), rtol=1e-6, atol=1e-7)
    if gradients:
        np.testing.assert_allclose(np.asarray(run.grads["input"]), x.grad.numpy(), rtol=1e-6, atol=1e-7)
