"""torch and jax parity on CUDA (run when a GPU is present).

fp32 with TF32 off in both frameworks (torch's matmul and cuDNN flags; jax's default matmul
precision 'highest'), to the CPU tolerance. The bf16 check compares jax's bf16 forward with the
fp32 one: bf16 keeps 8 significant bits (relative rounding 2^-8 ≈ 3.9e-3 per op), so through a
few dozen layers the output is good to a few 1e-2 of its scale; 5e-2 of max|output| is the bound.
"""

from __future__ import annotations

import numpy as np
import pytest

from archspec.parity import parity

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture(autouse=True)
def _no_tf32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    with jax.default_matmul_precision("highest"):
        yield


@pytest.mark.parametrize("spec", ["specs/googlenet.yaml", "specs/resnet18.yaml", "specs/inception_small.yaml"])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_cuda_fp32_parity(spec, mode):
    report = parity(spec, ["torch", "flax"], mode=mode, grad=True, device="cuda", batch=4)
    assert report.ok, [r for r in report.rows if not r.ok]


def test_bf16_forward_close_to_fp32():
    import jax.numpy as jnp
    from flax import nnx

    from archspec.api import to_graph
    from archspec.infer import infer_shapes

    backend = pytest.importorskip("archspec_flax").backend
    report = infer_shapes(to_graph("specs/resnet18.yaml", {"classes": 10}, ["N", 3, 64, 64]))
    model = backend.build(report.graph, report)
    model.eval()
    x = np.random.default_rng(0).standard_normal((4, 3, 64, 64)).astype(np.float32)
    fp32 = np.asarray(model(jnp.asarray(x)))
    params = nnx.state(model, nnx.Param)
    nnx.update(model, jax.tree.map(lambda a: a.astype(jnp.bfloat16), params))
    bf16 = np.asarray(model(jnp.asarray(x, jnp.bfloat16)).astype(jnp.float32))
    assert np.max(np.abs(bf16 - fp32)) <= 5e-2 * np.max(np.abs(fp32))
