"""Pools → ``MaxPool`` / ``AveragePool`` / global pools, with the spec's semantics made explicit.

* ONNX's MaxPool ignores padded positions, i.e. pads with -inf, as the spec says.
* ``AveragePool`` writes ``count_include_pad`` and ``ceil_mode`` always (ONNX's
  ``count_include_pad`` default, 0, is the opposite of the spec's).
* ``ceil_mode``: PyTorch drops a last window that would start in the right padding; ONNX's
  shape rule (onnx 1.23) keeps it. Where that changes the size, the pool is followed by a
  ``Slice`` that drops it, which is right whichever rule a runtime follows.
* ``adaptive_avgpool`` uses PyTorch's windows, cell i covering ``floor(i*H/h) ..
  ceil((i+1)*H/h)``. When those windows are one size at a fixed stride it is an
  ``AveragePool``; otherwise (say 5 → 3, where windows overlap unevenly) it is exactly
  the separable average ``A_h · X · A_wᵀ``, two ``MatMul``s with constant averaging
  matrices, which onnxruntime runs and shape inference follows.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from archspec.ops._base import static
from archspec.ops.pool import (
    AdaptiveAvgPool,
    AvgPool,
    AvgPool1d,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
    MaxPool1d,
)
from archspec_onnx._lowering import LOWERINGS, LoweringContext
from archspec_onnx.ops.conv import onnx_pads


def onnx_ceil_length(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int) -> int:
    """ONNX's output length with ``ceil_mode=1`` (it keeps a window starting in the right padding)."""
    return -(-(size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride) + 1


WindowPool = MaxPool | MaxPool1d | AvgPool | AvgPool1d


def pool(ctx: LoweringContext, op: WindowPool, op_type: str, **attrs: Any) -> None:
    """Emit ``op_type`` for a window pool, slicing off windows ONNX keeps and PyTorch drops."""
    attrs.update(kernel_shape=list(op.kernel), strides=list(op.stride), pads=onnx_pads(op.padding))
    attrs["ceil_mode"] = int(op.ceil_mode)
    sizes = [static(d, "spatial size") for d in ctx.input.shape[2:]]
    wanted = [static(d, "spatial size") for d in ctx.output.shape[2:]]
    windows = zip(sizes, op.kernel, op.stride, op.padding, op.dilation, strict=True)
    extra = [axis for axis, w in enumerate(windows) if op.ceil_mode and onnx_ceil_length(*w) != wanted[axis]]
    if not extra:
        ctx.emit(op_type, [ctx.x], **attrs)
        return
    pooled = ctx.emit(op_type, [ctx.x], to=ctx.tmp("pooled"), **attrs)
    starts = ctx.const("starts", [0] * len(extra), np.int64)
    ends = ctx.const("ends", [wanted[a] for a in extra], np.int64)
    axes = ctx.const("axes", [a + 2 for a in extra], np.int64)
    ctx.emit("Slice", [pooled, starts, ends, axes])


@LOWERINGS.register(MaxPool, MaxPool1d)
def maxpool(op: MaxPool | MaxPool1d, ctx: LoweringContext) -> None:
    pool(ctx, op, "MaxPool", dilations=list(op.dilation))


@LOWERINGS.register(AvgPool, AvgPool1d)
def avgpool(op: AvgPool | AvgPool1d, ctx: LoweringContext) -> None:
    pool(ctx, op, "AveragePool", count_include_pad=int(op.count_include_pad))


@LOWERINGS.register(GlobalAvgPool)
def global_avgpool(op: GlobalAvgPool, ctx: LoweringContext) -> None:
    ctx.emit("GlobalAveragePool", [ctx.x])


@LOWERINGS.register(GlobalMaxPool)
def global_maxpool(op: GlobalMaxPool, ctx: LoweringContext) -> None:
    ctx.emit("GlobalMaxPool", [ctx.x])


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows ``[start, end)`` for ``out`` cells over ``size``."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def uniform_window(size: int, out: int) -> tuple[int, int] | None:
    """``(kernel, stride)`` if every window has one size and they start a fixed stride apart."""
    windows = adaptive_windows(size, out)
    kernels = {end - start for start, end in windows}
    strides = {b[0] - a[0] for a, b in itertools.pairwise(windows)}
    if len(kernels) == 1 and len(strides) <= 1:
        kernel = kernels.pop()
        return kernel, strides.pop() if strides else kernel
    return None


def averaging_matrix(size: int, out: int) -> np.ndarray:
    """[out, size]: row i averages PyTorch's window i."""
    matrix = np.zeros((out, size), dtype=np.float32)
    for i, (start, end) in enumerate(adaptive_windows(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


@LOWERINGS.register(AdaptiveAvgPool)
def adaptive_avgpool(op: AdaptiveAvgPool, ctx: LoweringContext) -> None:
    sizes = [static(d, "spatial size") for d in ctx.input.shape[2:]]
    uniform = [uniform_window(s, o) for s, o in zip(sizes, op.output_size, strict=True)]
    if all(u is not None for u in uniform):
        kernels = [u[0] for u in uniform if u is not None]
        strides = [u[1] for u in uniform if u is not None]
        ctx.emit("AveragePool", [ctx.x], kernel_shape=kernels, strides=strides)
        return
    (height, width), (out_h, out_w) = sizes, op.output_size
    rows = ctx.const("rows", averaging_matrix(height, out_h))  # [h, H] @ [N, C, H, W] -> [N, C, h, W]
    cols = ctx.const("cols", averaging_matrix(width, out_w).T)  # [N, C, h, W] @ [W, w] -> [N, C, h, w]
    ctx.emit("MatMul", [ctx.emit("MatMul", [rows, ctx.x], to=ctx.tmp("rows_pooled")), cols])
