"""``attention`` → the packed projection (``MatMul`` by the transposed ``in_proj_weight``, ``Add``
of ``in_proj_bias``), the attention itself, and the output projection. Dropout computes nothing
in the eval graph.

From opset 23 the attention itself is ONNX's fused ``Attention`` (its 3-D form: q, k and v sliced
from the projection as [N, T, D], ``q_num_heads = kv_num_heads = heads``, ``is_causal``), which
onnxruntime runs with its own kernel. Below, from opset 13, it is decomposed: a ``Reshape`` and
``Transpose`` to [3, N, heads, T, head_dim] split by ``Gather``, ``MatMul`` of q (scaled by
1 / sqrt(head_dim)) by kᵀ, ``Add`` of the causal mask (0 on and below the diagonal, -inf above,
built with ``Trilu`` from the input's length, so a symbolic length stays symbolic: opset 14),
``Softmax``, ``MatMul`` by v.
"""

from __future__ import annotations

import math

import numpy as np
from onnx import numpy_helper

from archspec.ops.attention import Attention
from archspec_onnx._lowering import LOWERINGS, LoweringContext

#: The first opset with Trilu, which builds the causal mask of the decomposition.
TRILU_OPSET = 14
#: The first opset with the fused Attention op.
ATTENTION_OPSET = 23


def _projection(ctx: LoweringContext, x: str, prefix: str, bias: bool, what: str | None) -> str:
    """``x @ weightᵀ (+ bias)`` with the parameters ``<prefix>weight``/``<prefix>bias``, as
    ``linear`` writes it from rank 3 on; ``what`` names the result, None: the node's own output."""
    weight = ctx.param(f"{prefix}weight")
    transposed = ctx.emit("Transpose", [weight], to=ctx.tmp(f"{what or 'out'}_weight_t"), perm=[1, 0])
    if not bias:
        return ctx.emit("MatMul", [x, transposed], to=what and ctx.tmp(what))
    product = ctx.emit("MatMul", [x, transposed], to=ctx.tmp(f"{what or 'out'}_product"))
    return ctx.emit("Add", [product, ctx.param(f"{prefix}bias")], to=what and ctx.tmp(what))


@LOWERINGS.register(Attention)
def attention(op: Attention, ctx: LoweringContext) -> None:
    qkv = _projection(ctx, ctx.x, "in_proj_", op.bias, "qkv")
    attend = _fused if ctx.opset >= ATTENTION_OPSET else _decomposed
    _projection(ctx, attend(op, ctx, qkv), "out_proj.", op.bias, None)


def _fused(op: Attention, ctx: LoweringContext, qkv: str) -> str:
    """ONNX's Attention on q, k, v [N, T, D] sliced from the projection; gives [N, T, D]."""
    last = ctx.const("last_axis", [-1], np.int64)
    q, k, v = (
        ctx.emit(
            "Slice",
            [
                qkv,
                ctx.const(f"{name}_start", [i * op.dim], np.int64),
                ctx.const(f"{name}_end", [(i + 1) * op.dim], np.int64),
                last,
            ],
            to=ctx.tmp(name),
        )
        for i, name in enumerate("qkv")
    )
    return ctx.emit(
        "Attention",
        [q, k, v],
        to=ctx.tmp("attended"),
        q_num_heads=op.heads,
        kv_num_heads=op.heads,
        is_causal=int(op.causal),
    )


def _decomposed(op: Attention, ctx: LoweringContext, qkv: str) -> str:
    """softmax(q kᵀ / sqrt(head_dim) + mask) v with MatMul and Softmax; gives [N, T, D]."""
    split_shape = ctx.const("split_shape", [0, 0, 3, op.heads, op.head_dim], np.int64)
    split = ctx.emit("Reshape", [qkv, split_shape], to=ctx.tmp("qkv_heads"))
    stacked = ctx.emit("Transpose", [split], to=ctx.tmp("qkv_stacked"), perm=[2, 0, 3, 1, 4])
    q, k, v = (
        ctx.emit("Gather", [stacked, ctx.const(f"{name}_index", i, np.int64)], to=ctx.tmp(name), axis=0)
        for i, name in enumerate("qkv")
    )  # each [N, heads, T, head_dim]
    scaled = ctx.emit("Mul", [q, ctx.const("scale", 1.0 / math.sqrt(op.head_dim))], to=ctx.tmp("q_scaled"))
    k_t = ctx.emit("Transpose", [k], to=ctx.tmp("k_t"), perm=[0, 1, 3, 2])
    scores = ctx.emit("MatMul", [scaled, k_t], to=ctx.tmp("scores"))  # [N, heads, T, T]
    if op.causal:
        ctx.require_opset(TRILU_OPSET, "the causal mask's Trilu")
        scores = ctx.emit("Add", [scores, _causal_mask(ctx)], to=ctx.tmp("masked_scores"))
    weights = ctx.emit("Softmax", [scores], to=ctx.tmp("weights"), axis=-1)
    attended = ctx.emit("MatMul", [weights, v], to=ctx.tmp("attended"))  # [N, heads, T, head_dim]
    tokens_first = ctx.emit("Transpose", [attended], to=ctx.tmp("tokens_first"), perm=[0, 2, 1, 3])
    joined_shape = ctx.const("joined_shape", [0, 0, op.dim], np.int64)
    return ctx.emit("Reshape", [tokens_first, joined_shape], to=ctx.tmp("joined"))


def _causal_mask(ctx: LoweringContext) -> str:
    """[T, T]: 0 where a query may see a key (at or before it), -inf after it."""
    shape = ctx.emit("Shape", [ctx.x], to=ctx.tmp("shape"))
    length = ctx.emit(
        "Slice", [shape, ctx.const("starts", [1], np.int64), ctx.const("ends", [2], np.int64)], to=ctx.tmp("length")
    )
    square = ctx.emit("Concat", [length, length], to=ctx.tmp("square"), axis=0)
    minus_infinity = numpy_helper.from_array(np.array([-np.inf], dtype=np.float32))
    blocked = ctx.emit("ConstantOfShape", [square], to=ctx.tmp("blocked"), value=minus_infinity)
    return ctx.emit("Trilu", [blocked, ctx.const("above_diagonal", 1, np.int64)], to=ctx.tmp("causal_mask"), upper=1)
