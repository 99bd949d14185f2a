"""Activations → NNX functions (``nnx.relu``), or small helper modules where an attribute matters.

``gelu`` is exact (erf) unless the spec says ``approximate='tanh'``: ``nnx.gelu``'s default is
the tanh approximation, so the helper always passes ``approximate`` explicitly.
``hardsigmoid`` and ``hardswish`` are ``nnx.hard_sigmoid`` and ``nnx.hard_swish``: PyTorch's
formulas, ``relu6(x + 3) / 6`` and ``x`` times it, with the same gradients at the kinks ±3.
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
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, held_axis, register_helper

_PLAIN: dict[type[Op], str] = {
    Relu: "nnx.relu",
    Relu6: "nnx.relu6",
    Sigmoid: "nnx.sigmoid",
    Tanh: "nnx.tanh",
    Silu: "nnx.silu",
}
#: Lowered like ``_PLAIN``, by a rule of their own: one rule is registered for at most five ops.
_HARD: dict[type[Op], str] = {Hardsigmoid: "nnx.hard_sigmoid", Hardswish: "nnx.hard_swish"}

register_helper(
    Helper(
        "Gelu",
        '''class Gelu(nnx.Module):
    """GELU; ``approximate=False`` is exact (erf), as torch.nn.GELU() (nnx.gelu defaults to tanh)."""

    def __init__(self, approximate: bool = False) -> None:
        self.approximate = approximate

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.gelu(x, approximate=self.approximate)''',
    )
)
register_helper(
    Helper(
        "LeakyRelu",
        '''class LeakyRelu(nnx.Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = negative_slope

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.leaky_relu(x, negative_slope=self.negative_slope)''',
    )
)
register_helper(
    Helper(
        "Softmax",
        '''class Softmax(nnx.Module):
    """Softmax along ``axis`` of the channels-last array."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.softmax(x, axis=self.axis)''',
    )
)


@LOWERINGS.register(Relu, Relu6, Sigmoid, Tanh, Silu)
def plain(op: Relu | Relu6 | Sigmoid | Tanh | Silu, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall(_PLAIN[type(op)], bare=True)


@LOWERINGS.register(Hardsigmoid, Hardswish)
def hard(op: Hardsigmoid | Hardswish, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall(_HARD[type(op)], bare=True)


@LOWERINGS.register(LeakyRelu)
def leaky_relu(op: LeakyRelu, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("LeakyRelu", (ctx.attr("negative_slope"),), helper="LeakyRelu")


@LOWERINGS.register(Gelu)
def gelu(op: Gelu, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Gelu", (ctx.literal(op.approximate == "tanh"),), helper="Gelu")


@LOWERINGS.register(Softmax)
def softmax(op: Softmax, ctx: LoweringContext) -> ModuleCall:
    rank = ctx.input.rank
    axis = held_axis(op.axis, ctx.input)
    written = axis - rank if axis == rank - 1 else axis  # the last axis as -1
    return ModuleCall("Softmax", kwargs=ctx.options(("axis", ctx.literal(written), -1)), helper="Softmax")
