"""Activations → their ``nn`` modules; ``relu`` and ``relu6`` in place where that is safe.

``nn.ReLU(inplace=True)`` only when the lowering context says the input is overwritable
(a fresh tensor no other node reads: see :mod:`archspec_torch._inplace`), as torchvision's
models do after a convolution or BatchNorm; never on an input that a branch shares.
"""

from __future__ import annotations

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
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall

_IN_PLACE: dict[type[Op], str] = {Relu: "nn.ReLU", Relu6: "nn.ReLU6"}
_PLAIN: dict[type[Op], str] = {
    Sigmoid: "nn.Sigmoid",
    Tanh: "nn.Tanh",
    Silu: "nn.SiLU",
    Hardsigmoid: "nn.Hardsigmoid",
    Hardswish: "nn.Hardswish",
}


@LOWERINGS.register(Relu, Relu6)
def in_place(op: Relu | Relu6, ctx: LoweringContext) -> ModuleCall:
    inplace = (("inplace", ctx.literal(True)),) if ctx.overwritable else ()
    return ModuleCall(_IN_PLACE[type(op)], kwargs=inplace)


@LOWERINGS.register(Sigmoid, Tanh, Silu, Hardsigmoid, Hardswish)
def plain(op: Sigmoid | Tanh | Silu | Hardsigmoid | Hardswish, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall(_PLAIN[type(op)])


@LOWERINGS.register(LeakyRelu)
def leaky_relu(op: LeakyRelu, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.LeakyReLU", kwargs=ctx.options(("negative_slope", ctx.attr("negative_slope"), 0.01)))


@LOWERINGS.register(Gelu)
def gelu(op: Gelu, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.GELU", kwargs=ctx.options(("approximate", ctx.attr("approximate"), "none")))


@LOWERINGS.register(Softmax)
def softmax(op: Softmax, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Softmax", kwargs=(("dim", ctx.attr("axis")),))
