"""``batchnorm`` → ``BatchNormalization`` with the running statistics (the eval graph),
``layernorm`` → ``LayerNormalization`` (opset ≥ 17; over one inner axis between two ``Transpose``),
``lrn`` → ``LRN`` or its composition.

ONNX's BatchNormalization ``momentum`` is the weight of the *old* running value, so
archspec's ``update_rate`` is written as ``momentum = 1 - update_rate`` (it documents the
model; inference does not read it). Without ``affine`` the scale and shift are constant
ones and zeros, not initializers, since they are not canonical weights.

PyTorch's LocalResponseNorm sums the window ``c - size//2 .. c + (size-1)//2``; ONNX's LRN
sums ``c - (size-1)//2 .. c + size//2``. They agree for odd sizes on 4-D inputs (where
onnxruntime implements LRN); otherwise the lowering writes PyTorch's own computation: the
squares, zero-padded along channels, averaged by a ``size x 1 x ...`` pool.
"""

from __future__ import annotations

import numpy as np

from archspec.ops._base import static
from archspec.ops.norm import BatchNorm, LayerNorm, LocalResponseNorm
from archspec_onnx._lowering import LOWERINGS, LoweringContext

#: The first opset with LayerNormalization.
LAYERNORM_OPSET = 17


@LOWERINGS.register(BatchNorm)
def batchnorm(op: BatchNorm, ctx: LoweringContext) -> None:
    channels = static(ctx.input.shape[1], "channels")
    if op.affine:
        scale, shift = ctx.param("weight"), ctx.param("bias")
    else:
        scale, shift = ctx.const("scale", np.ones(channels)), ctx.const("shift", np.zeros(channels))
    ctx.emit(
        "BatchNormalization",
        [ctx.x, scale, shift, ctx.param("running_mean"), ctx.param("running_var")],
        epsilon=op.eps,
        momentum=1.0 - op.update_rate,
    )


@LOWERINGS.register(LayerNorm)
def layernorm(op: LayerNorm, ctx: LoweringContext) -> None:
    ctx.require_opset(LAYERNORM_OPSET, "LayerNormalization")
    rank = ctx.input.rank
    axes = op.normalised_axes(rank)
    if op.affine:
        scale_and_shift = [ctx.param("weight"), ctx.param("bias")]
    else:
        shape = [static(ctx.input.shape[axis], "normalised axis") for axis in axes]
        scale_and_shift = [ctx.const("scale", np.ones(shape))]
    if axes[-1] == rank - 1:  # LayerNormalization normalises from its axis to the last one
        ctx.emit("LayerNormalization", [ctx.x, *scale_and_shift], axis=axes[0] - rank, epsilon=op.eps)
        return
    # one inner axis (the channels of NCHW): moved last and back, as torchvision's LayerNorm2d permutes
    (axis,) = axes
    to_last = [a for a in range(rank) if a != axis] + [axis]
    back = [to_last.index(a) for a in range(rank)]
    moved = ctx.emit("Transpose", [ctx.x], to=ctx.tmp("axis_last"), perm=to_last)
    normalised = ctx.emit(
        "LayerNormalization", [moved, *scale_and_shift], to=ctx.tmp("normalised"), axis=-1, epsilon=op.eps
    )
    ctx.emit("Transpose", [normalised], perm=back)


@LOWERINGS.register(LocalResponseNorm)
def lrn(op: LocalResponseNorm, ctx: LoweringContext) -> None:
    if op.size % 2 == 1 and ctx.input.rank == 4:
        ctx.emit("LRN", [ctx.x], size=op.size, alpha=op.alpha, beta=op.beta, bias=op.k)
        return
    rank = ctx.input.rank
    square = ctx.emit("Mul", [ctx.x, ctx.x], to=ctx.tmp("square"))
    lifted = ctx.emit("Unsqueeze", [square, ctx.const("axis", [1], np.int64)], to=ctx.tmp("lifted"))
    begins = [0, 0, op.size // 2] + [0] * (rank - 2)
    ends = [0, 0, (op.size - 1) // 2] + [0] * (rank - 2)
    padded = ctx.emit("Pad", [lifted, ctx.const("pads", begins + ends, np.int64)], to=ctx.tmp("padded"))
    kernel = [op.size] + [1] * (rank - 2)
    mean = ctx.emit("AveragePool", [padded], to=ctx.tmp("window_mean"), kernel_shape=kernel)
    mean = ctx.emit("Squeeze", [mean, ctx.const("axis", [1], np.int64)], to=ctx.tmp("mean"))
    scaled = ctx.emit("Mul", [mean, ctx.const("alpha", op.alpha)], to=ctx.tmp("scaled"))
    shifted = ctx.emit("Add", [scaled, ctx.const("k", op.k)], to=ctx.tmp("shifted"))
    divisor = ctx.emit("Pow", [shifted, ctx.const("beta", op.beta)], to=ctx.tmp("divisor"))
    ctx.emit("Div", [ctx.x, divisor])
