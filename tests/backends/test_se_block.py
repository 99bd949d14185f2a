"""A squeeze-and-excitation block, ``mul: [identity, gate]``, on every backend: the gate
``[N, C, 1, 1]`` scales each channel of ``[N, C, H, W]`` (in Flax ``[N, 1, 1, C]`` over
``[N, H, W, C]``), with the same canonical weights, outputs and gradients everywhere, and
the product is written inline in the generated ``forward``/``__call__``."""

from __future__ import annotations

from typing import Any

import pytest

import archspec
from archspec.parity import parity

SE_NET: dict[str, Any] = {
    "archspec": 1,
    "name": "se_net",
    "input": ["N", 3, 9, 7],  # H != W: a gate broadcast over the wrong axes cannot pass
    "blocks": {
        "se(c)": {"mul": ["identity", "global_avgpool -> conv(c // 4, 1) -> relu -> conv(c, 1) -> hardsigmoid"]},
    },
    "network": {
        "stem": "conv(8, 3, padding=1) -> batchnorm -> relu",
        "se": "se(8)",
        "excite": {"mul": {"x": "conv(8, 1)", "gate": "global_maxpool -> conv(8, 1) -> sigmoid"}},
        "head": "global_avgpool -> flatten -> linear(3)",
    },
}

#: What each backend needs to run here.
_RUNTIME = {"torch": "torch", "flax": "flax", "onnx": "onnxruntime"}


def _available(*names: str) -> list[str]:
    for name in names:
        pytest.importorskip(_RUNTIME[name])
    return list(names)


def test_every_backend_agrees_on_outputs_and_gradients() -> None:
    report = parity(SE_NET, _available("torch", "flax", "onnx"), grad=True, batch=3)
    assert report.ok, [r for r in report.rows if not r.ok]
    assert {r.backend for r in report.rows} == {"flax", "onnx"}
    assert {"se", "excite"} <= {r.name for r in report.rows}


def test_a_train_step_agrees() -> None:
    report = parity(SE_NET, _available("torch", "flax"), mode="train", grad=True, batch=4)
    assert report.ok, [r for r in report.rows if not r.ok]


@pytest.mark.parametrize(
    ("backend", "products"),
    [
        ("torch", ["return self.branch1(x) * self.branch2(x)", "return self.x(x) * self.gate(x)"]),
        ("flax", ["return self.branch1(x) * self.branch2(x)", "return self.x(x) * self.gate(x)"]),
    ],
)
def test_the_product_is_written_inline(backend: str, products: list[str]) -> None:
    pytest.importorskip(_RUNTIME[backend])
    source = archspec.emit(SE_NET, backend).source
    for product in products:
        assert product in source


def test_onnx_multiplies_with_one_mul_per_gate() -> None:
    pytest.importorskip("onnx")
    model = archspec.build(SE_NET, backend="onnx")
    assert [n.op_type for n in model.model.graph.node].count("Mul") == 2
