"""``linear`` → ``Gemm`` with ``transB=1``: the canonical weight keeps PyTorch's [out, in] layout."""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> None:
    inputs = [ctx.x, ctx.param("weight")]
    if ctx.has_param("bias"):
        inputs.append(ctx.param("bias"))
    ctx.emit("Gemm", inputs, transB=1)
