"""``flatten`` → ``Flatten`` (NCHW row-major, as the spec says) or a ``Reshape`` keeping the
leading axes; ``dropout``, ``drop_path`` and ``identity`` compute nothing in the eval graph and are removed."""

from __future__ import annotations

import numpy as np

from archspec.ops.tensor import Dropout, DropPath, Flatten, Identity
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Flatten)
def flatten(op: Flatten, ctx: LoweringContext) -> None:
    if op.start_dim == ctx.input.rank - 1:
        ctx.emit("Identity", [ctx.x])
    elif op.start_dim == 1:
        ctx.emit("Flatten", [ctx.x], axis=1)
    else:  # keep axes before start_dim (0 copies an input dim, so a symbolic batch stays symbolic)
        shape = ctx.const("shape", [0] * op.start_dim + [-1], dtype=np.int64)
        ctx.emit("Reshape", [ctx.x, shape])


@LOWERINGS.register(Dropout, DropPath, Identity)
def passthrough(op: Dropout | DropPath | Identity, ctx: LoweringContext) -> str:
    return ctx.x
