"""``linear`` → ``Gemm`` with ``transB=1`` on [N, F]; from rank 3 on (``Gemm`` takes matrices
only) ``MatMul`` by the transposed weight, then ``Add`` of the bias. The canonical weight keeps
PyTorch's [out, in] layout either way."""

from __future__ import annotations

from archspec.ops.linear import Linear
from archspec_onnx._lowering import LOWERINGS, LoweringContext


@LOWERINGS.register(Linear)
def linear(op: Linear, ctx: LoweringContext) -> None:
    weight = ctx.param("weight")
    if ctx.input.rank == 2:
        ctx.emit("Gemm", [ctx.x, weight, *([ctx.param("bias")] if ctx.has_param("bias") else [])], transB=1)
        return
    transposed = ctx.emit("Transpose", [weight], to=ctx.tmp("weight_t"), perm=[1, 0])
    if not ctx.has_param("bias"):
        ctx.emit("MatMul", [ctx.x, transposed])
        return
    product = ctx.emit("MatMul", [ctx.x, transposed], to=ctx.tmp("product"))
    ctx.emit("Add", [product, ctx.param("bias")])
