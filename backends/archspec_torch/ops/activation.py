"""Activations → their ``nn`` modules; those with an ``inplace`` option run in place where that is safe.

``nn.ReLU(inplace=True)`` (and ``ReLU6``, ``SiLU``, ``Hardswish``, ``Hardsigmoid``) only when the
lowering context says the input is overwritable (a fresh tensor no other node reads: see
:mod:`archspec_torch._inplace`), as torchvision's models do after a convolution or BatchNorm
(``Conv2dNormActivation``); never on an input that a branch shares. On CPU this is not cosmetic:
EfficientNet-B0's expanded activations at batch 8 are tens of MiB each, and a fresh tensor that
large is fresh memory, faulted in page by page; before its SiLUs ran in place the compiled
EfficientNet-B0 took about a quarter more page faults per forward than torchvision's, and about 10%
longer (benchmarks/bench_zoo.py).
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

_IN_PLACE: dict[type[Op], str] = {
    Relu: "nn.ReLU",
    Relu6: "nn.ReLU6",
    Silu: "nn.SiLU",
    Hardsigmoid: "nn.Hardsigmoid",
    Hardswish: "nn.Hardswish",
}
#: torch's modules for these have no ``inplace`` option.
_PLAIN: dict[type[Op], str] = {Sigmoid: "nn.Sigmoid", Tanh: "nn.Tanh"}


@LOWERINGS.register(Relu, Relu6, Silu, Hardsigmoid, Hardswish)
def in_place(op: Relu | Relu6 | Silu | Hardsigmoid | Hardswish, ctx: LoweringContext) -> ModuleCall:
    inplace = (("inplace", ctx.literal(True)),) if ctx.overwritable else ()
    return ModuleCall(_IN_PLACE[type(op)], kwargs=inplace)


@LOWERINGS.register(Sigmoid, Tanh)
def plain(op: Sigmoid | Tanh, ctx: LoweringContext) -> ModuleCall:
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
