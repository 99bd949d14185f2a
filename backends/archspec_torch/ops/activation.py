"""Activations → their ``nn`` modules (never in-place: a branch may read the same input)."""

from __future__ import annotations

from archspec.ir import Node
from archspec.ops import Op
from archspec.ops.activation import Gelu, LeakyRelu, Relu, Relu6, Sigmoid, Silu, Softmax, Tanh
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall

_PLAIN: dict[type[Op], str] = {
    Relu: "nn.ReLU",
    Relu6: "nn.ReLU6",
    Sigmoid: "nn.Sigmoid",
    Tanh: "nn.Tanh",
    Silu: "nn.SiLU",
}


@LOWERINGS.register(*_PLAIN)
def plain(node: Node, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall(_PLAIN[type(node.op)])


@LOWERINGS.register(LeakyRelu)
def leaky_relu(node: Node, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.LeakyReLU", kwargs=ctx.options(("negative_slope", ctx.attr("negative_slope"), 0.01)))


@LOWERINGS.register(Gelu)
def gelu(node: Node, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.GELU", kwargs=ctx.options(("approximate", ctx.attr("approximate"), "none")))


@LOWERINGS.register(Softmax)
def softmax(node: Node, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Softmax", kwargs=(("dim", ctx.attr("axis")),))
