"""``upsample`` and ``upsample1d`` → ``Resize``, with the coordinate conventions chosen to be
PyTorch's.

* ``nearest``: ``coordinate_transformation_mode='asymmetric'`` (an output cell i reads i / scale)
  with ``nearest_mode='floor'``.
* ``bilinear`` (``linear`` in 1-D): ``'half_pixel'`` ((i + 0.5) / scale - 0.5, clamped into the
  input), or ``'align_corners'``. Not ``'pytorch_half_pixel'``: it maps a one-cell output to the
  input's first cell, where PyTorch samples the centre, as ``'half_pixel'`` does (the op table's
  ``bilinear-to-1`` case).

A scale is given as Resize's ``scales`` input, so the runtime maps by the scale itself, as
PyTorch does (except along an axis the scale leaves its size, which PyTorch copies: its scale is
written as 1); a size as the ``sizes`` input, which opset 17 needs for every axis: the batch and
channels are read from the input's shape (the batch is symbolic). A size that is another
tensor's (see :mod:`archspec.ops.resize`) is read from that tensor's shape too.
"""

from __future__ import annotations

import numpy as np

from archspec.ops._base import static
from archspec.ops.resize import Upsample, Upsample1d
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Upsample, Upsample1d)
def upsample(op: Upsample | Upsample1d, ctx: LoweringContext) -> None:
    ctx.declare_output()  # onnx.shape_inference gives Resize's output a batch of its own
    if op.size is not None:
        shape = ctx.emit("Shape", [ctx.x], to=ctx.tmp("shape"))
        start, end = ctx.const("start", [0], np.int64), ctx.const("end", [2], np.int64)
        batch_channels = ctx.emit("Slice", [shape, start, end], to=ctx.tmp("batch_channels"))
        if len(ctx.inputs) == 2:  # the second input's size (Shape's own start= is opset 15's)
            like = ctx.emit("Shape", [ctx.values[1]], to=ctx.tmp("like_shape"))
            spatial = ctx.emit(
                "Slice", [like, end, ctx.const("last", [ctx.input.rank], np.int64)], to=ctx.tmp("like_size")
            )
        else:
            spatial = ctx.const("size", list(op.size), np.int64)
        target = ctx.emit("Concat", [batch_channels, spatial], to=ctx.tmp("sizes"), axis=0)
        ctx.emit("Resize", [ctx.x, "", "", target], **sampling(op))
        return
    sizes = [static(d, "spatial size") for d in ctx.input.shape[2:]]
    scales = resize_scales(op, sizes)
    if scales is not None:
        ctx.emit("Resize", [ctx.x, "", ctx.const("scales", [1.0, 1.0, *scales])], **sampling(op))
        return
    # an axis kept but not copied (upsample1d's nearest): onnxruntime would copy it, so the cells
    # PyTorch reads are gathered, computed as PyTorch computes them (in float32)
    (length,), (scale,) = sizes, op.scale or ()
    source = np.floor(np.arange(length, dtype=np.float32) * np.float32(1.0 / scale)).astype(np.int64)
    ctx.emit("Gather", [ctx.x, ctx.const("source", np.minimum(source, length - 1), np.int64)], axis=2)


def resize_scales(op: Upsample | Upsample1d, sizes: list[int]) -> list[float] | None:
    """The scales that make ``Resize`` read the cells PyTorch's kernels read (see
    :mod:`archspec.ops.resize`): 1 where PyTorch copies an axis that keeps its size, 2 where
    ``upsample``'s nearest doubles it; None where no scale can (``upsample1d``'s nearest keeping
    the size: onnxruntime copies an input whose size Resize keeps, PyTorch does not)."""
    out = op.output_sizes(sizes)
    if not op.copies_kept_axes and out == tuple(sizes):
        return None
    return [
        1.0 if o == n and op.copies_kept_axes else 2.0 if o == 2 * n and op.halves_doubled_axes else s
        for n, o, s in zip(sizes, out, op.scale or (), strict=True)
    ]


def sampling(op: Upsample | Upsample1d) -> dict[str, str]:
    """The attributes that make ``Resize`` sample where PyTorch's kernels do."""
    if not op.interpolates:
        return {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    return {"mode": "linear", "coordinate_transformation_mode": "align_corners" if op.align_corners else "half_pixel"}
