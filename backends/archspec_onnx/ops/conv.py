"""``conv`` and ``conv1d`` → ``Conv``, with the canonical ``((lo, hi), ...)`` padding written as
ONNX's ``pads`` (every begin, then every end), so asymmetric padding needs no extra Pad node;
``conv_transpose`` → ``ConvTranspose``, whose weight layout ([C_in, C_out/groups, kH, kW]),
``pads`` (cells cropped from the full output) and ``output_padding`` are PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.ops.conv import Conv, Conv1d, ConvTranspose
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


@LOWERINGS.register(ConvTranspose)
def conv_transpose(op: ConvTranspose, ctx: LoweringContext) -> None:
    """PyTorch's output is the full transposed convolution cropped by ``padding`` at both ends and
    extended by ``output_padding`` at the high end. It is written as a crop alone (``pads``
    ``[p, p - output_padding]``), because onnxruntime refuses an ``output_padding`` not below the
    stride, which PyTorch allows with a dilation; only where ``output_padding`` reaches past the
    full output do the cells it adds (zeros, plus the bias) need a ``Pad`` after the convolution."""
    crops = tuple((p, max(p - extra, 0)) for p, extra in zip(op.padding, op.output_padding, strict=True))
    beyond = [max(extra - p, 0) for p, extra in zip(op.padding, op.output_padding, strict=True)]
    attrs: dict[str, Any] = {
        "kernel_shape": list(op.kernel),
        "strides": list(op.stride),
        "pads": onnx_pads(crops),
        "dilations": list(op.dilation),
        "group": op.groups,
    }
    bias = [ctx.param("bias")] if ctx.has_param("bias") else []
    if not any(beyond):
        ctx.emit("ConvTranspose", [ctx.x, ctx.param("weight"), *bias], **attrs)
        return
    full = ctx.emit("ConvTranspose", [ctx.x, ctx.param("weight")], to=ctx.tmp("full"), **attrs)
    pads = ctx.const("pads", [0] * (2 + len(beyond)) + [0, 0, *beyond], np.int64)
    if not bias:
        ctx.emit("Pad", [full, pads])
        return
    padded = ctx.emit("Pad", [full, pads], to=ctx.tmp("padded"))
    per_channel = ctx.emit("Unsqueeze", [bias[0], ctx.const("axes", [1, 2], np.int64)], to=ctx.tmp("bias"))
    ctx.emit("Add", [padded, per_channel])
