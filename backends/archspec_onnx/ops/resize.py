"""``upsample`` and ``upsample1d`` → ``Resize``, with the coordinate conventions chosen to be
PyTorch's.

* ``nearest``: ``coordinate_transformation_mode='asymmetric'`` (an output cell i reads i / scale)
  with ``nearest_mode='floor'``.
* ``bilinear`` (``linear`` in 1-D): ``'half_pixel'`` ((i + 0.5) / scale - 0.5, clamped into the
  input), or ``'align_corners'``. Not ``'pytorch_half_pixel'``: it maps a one-cell output to the
  input's first cell, where PyTorch samples the centre, as ``'half_pixel'`` does (the op table's
  ``bilinear-to-1`` case).

A scale is given as Resize's ``scales`` input, so the runtime maps by the scale itself, as
PyTorch does; a size as its ``sizes`` input, which opset 17 needs for every axis: the batch and
channels are read from the input's shape (the batch is symbolic).
"""

from __future__ import annotations

import numpy as np

from archspec.ops.resize import Upsample, Upsample1d
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Upsample, Upsample1d)
def upsample(op: Upsample | Upsample1d, ctx: LoweringContext) -> None:
    if op.scale is not None:
        ctx.emit("Resize", [ctx.x, "", ctx.const("scales", [1.0, 1.0, *op.scale])], **sampling(op))
        return
    shape = ctx.emit("Shape", [ctx.x], to=ctx.tmp("shape"))
    start, end = ctx.const("start", [0], np.int64), ctx.const("end", [2], np.int64)
    batch_channels = ctx.emit("Slice", [shape, start, end], to=ctx.tmp("batch_channels"))
    spatial = ctx.const("size", list(op.size or ()), np.int64)
    sizes = ctx.emit("Concat", [batch_channels, spatial], to=ctx.tmp("sizes"), axis=0)
    ctx.emit("Resize", [ctx.x, "", "", sizes], **sampling(op))


def sampling(op: Upsample | Upsample1d) -> dict[str, str]:
    """The attributes that make ``Resize`` sample where PyTorch's kernels do."""
    if not op.interpolates:
        return {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    return {"mode": "linear", "coordinate_transformation_mode": "align_corners" if op.align_corners else "half_pixel"}
