"""``conv`` and ``conv1d`` → ``Conv``, with the canonical ``((lo, hi), ...)`` padding written as
ONNX's ``pads`` (every begin, then every end), so asymmetric padding needs no extra Pad node."""

from __future__ import annotations

from archspec.ops.conv import Conv, Conv1d
from archspec_onnx._lowering import LOWERINGS, LoweringContext


def onnx_pads(pairs: tuple[tuple[int, int], ...]) -> list[int]:
    """``((1, 2), (3, 4))`` → ``[1, 3, 2, 4]`` (ONNX: all begins, then all ends)."""
    return [lo for lo, _ in pairs] + [hi for _, hi in pairs]


@LOWERINGS.register(Conv, Conv1d)
def conv(op: Conv | Conv1d, ctx: LoweringContext) -> None:
    inputs = [ctx.x, ctx.param("weight")]
    if ctx.has_param("bias"):  # also a folded batchnorm's shift
        inputs.append(ctx.param("bias"))
    ctx.emit(
        "Conv",
        inputs,
        kernel_shape=list(op.kernel),
        strides=list(op.stride),
        pads=onnx_pads(op.padding),
        dilations=list(op.dilation),
        group=op.groups,
    )
