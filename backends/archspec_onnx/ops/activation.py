"""Activations → ONNX ops; where ONNX has no op at the export's opset, a short composition.

* ``relu6`` → ``Clip(x, 0, 6)``; ``silu`` → ``x * Sigmoid(x)``.
* ``gelu`` → ``Gelu`` from opset 20; below it, ``0.5 x (1 + erf(x / √2))`` (or the tanh form
  for ``approximate='tanh'``), the same formulas PyTorch uses.
* ``hardsigmoid`` → ``HardSigmoid(alpha=1/6, beta=0.5)`` (ONNX's defaults are 0.2 and 0.5, not
  PyTorch's); ``hardswish`` → ``HardSwish`` from opset 14, ``x * HardSigmoid(x)`` below it.
* ``softmax`` → ``Softmax(axis)`` (opset ≥ 13: normalises along that one axis, like PyTorch).
"""

from __future__ import annotations

import math

from archspec.ops import Op
from archspec.ops.activation import (
    Gelu,
    Hardsigmoid,
    Hardswish,
    LeakyRelu,
    Relu,
    Relu6,
    Sigmoid,
    Silu,
    Softmax,
    Tanh,
)
from archspec_onnx._lowering import LOWERINGS, LoweringContext

_PLAIN: dict[type[Op], str] = {Relu: "Relu", Sigmoid: "Sigmoid", Tanh: "Tanh"}

#: The first opset with a Gelu op.
GELU_OPSET = 20
#: The first opset with a HardSwish op.
HARDSWISH_OPSET = 14


@LOWERINGS.register(Relu, Sigmoid, Tanh)
def plain(op: Relu | Sigmoid | Tanh, ctx: LoweringContext) -> None:
    ctx.emit(_PLAIN[type(op)], [ctx.x])


@LOWERINGS.register(Relu6)
def relu6(op: Relu6, ctx: LoweringContext) -> None:
    ctx.emit("Clip", [ctx.x, ctx.const("min", 0.0), ctx.const("max", 6.0)])


@LOWERINGS.register(LeakyRelu)
def leaky_relu(op: LeakyRelu, ctx: LoweringContext) -> None:
    ctx.emit("LeakyRelu", [ctx.x], alpha=op.negative_slope)


@LOWERINGS.register(Silu)
def silu(op: Silu, ctx: LoweringContext) -> None:
    ctx.emit("Mul", [ctx.x, ctx.emit("Sigmoid", [ctx.x], to=ctx.tmp("sigmoid"))])


def _hard_sigmoid(ctx: LoweringContext, to: str | None = None) -> str:
    return ctx.emit("HardSigmoid", [ctx.x], to=to, alpha=1 / 6, beta=0.5)


@LOWERINGS.register(Hardsigmoid)
def hardsigmoid(op: Hardsigmoid, ctx: LoweringContext) -> None:
    _hard_sigmoid(ctx)


@LOWERINGS.register(Hardswish)
def hardswish(op: Hardswish, ctx: LoweringContext) -> None:
    if ctx.opset >= HARDSWISH_OPSET:
        ctx.emit("HardSwish", [ctx.x])
    else:
        ctx.emit("Mul", [ctx.x, _hard_sigmoid(ctx, to=ctx.tmp("hardsigmoid"))])


@LOWERINGS.register(Gelu)
def gelu(op: Gelu, ctx: LoweringContext) -> None:
    if ctx.opset >= GELU_OPSET:
        ctx.emit("Gelu", [ctx.x], approximate=op.approximate)
        return
    x = ctx.x
    if op.approximate == "tanh":  # 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
        cube = ctx.emit("Mul", [x, ctx.emit("Mul", [x, x], to=ctx.tmp("square"))], to=ctx.tmp("cube"))
        inner = ctx.emit("Mul", [cube, ctx.const("c", 0.044715)], to=ctx.tmp("scaled_cube"))
        inner = ctx.emit("Add", [x, inner], to=ctx.tmp("poly"))
        inner = ctx.emit("Mul", [inner, ctx.const("sqrt_2_over_pi", math.sqrt(2 / math.pi))], to=ctx.tmp("arg"))
        curve = ctx.emit("Tanh", [inner], to=ctx.tmp("tanh"))
    else:  # 0.5 x (1 + erf(x / √2))
        scaled = ctx.emit("Div", [x, ctx.const("sqrt2", math.sqrt(2))], to=ctx.tmp("scaled"))
        curve = ctx.emit("Erf", [scaled], to=ctx.tmp("erf"))
    one_plus = ctx.emit("Add", [curve, ctx.const("one", 1.0)], to=ctx.tmp("one_plus"))
    half_x = ctx.emit("Mul", [x, ctx.const("half", 0.5)], to=ctx.tmp("half_x"))
    ctx.emit("Mul", [half_x, one_plus])


@LOWERINGS.register(Softmax)
def softmax(op: Softmax, ctx: LoweringContext) -> None:
    ctx.emit("Softmax", [ctx.x], axis=op.axis)
