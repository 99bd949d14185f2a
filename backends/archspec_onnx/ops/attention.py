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

``window_attention`` → the same projections and products per window (see :func:`window_attention`),
from opset 13.
"""

from __future__ import annotations

import math

import numpy as np
from onnx import numpy_helper

from archspec.ops._base import static
from archspec.ops.attention import Attention, WindowAttention
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


@LOWERINGS.register(WindowAttention)
def window_attention(op: WindowAttention, ctx: LoweringContext) -> None:
    """torchvision's shifted_window_attention, step by step on static sizes: ``Pad``, the roll as
    ``Slice`` and ``Concat``, the window partition as ``Reshape`` and ``Transpose``, the attention
    of each window with ``MatMul``, the bias ``Gather``-ed from the table by a constant index, a
    constant shift mask, ``Softmax``; then the same steps backwards, and the crop as a ``Slice``.
    The windows stay an axis of their own ([N, windows, ...], not torchvision's [N * windows,
    ...]), so every shape keeps the symbolic batch."""
    height, width, channels = (static(size, "window_attention's map size") for size in ctx.input.shape[1:])
    (wh, ww), tokens = op.window, op.window[0] * op.window[1]
    padded_h, padded_w = op.padded(height, width)
    shift = op.effective_shift(height, width)
    rows, cols = padded_h // wh, padded_w // ww
    x = ctx.x
    if (padded_h, padded_w) != (height, width):
        pads = ctx.const("pads", [0, 0, 0, 0, 0, padded_h - height, padded_w - width, 0], np.int64)
        x = ctx.emit("Pad", [x, pads], to=ctx.tmp("padded"))
    x = _roll(ctx, x, (padded_h, padded_w), (-shift[0], -shift[1]))
    split = ctx.emit(
        "Reshape", [x, ctx.const("split", [0, rows, wh, cols, ww, channels], np.int64)], to=ctx.tmp("split")
    )
    grouped = ctx.emit("Transpose", [split], to=ctx.tmp("grouped"), perm=[0, 1, 3, 2, 4, 5])
    window_shape = ctx.const("window_shape", [0, rows * cols, tokens, channels], np.int64)
    windows = ctx.emit("Reshape", [grouped, window_shape], to=ctx.tmp("windows"))  # [N, windows, tokens, C]

    qkv = _projection(ctx, windows, "qkv.", op.bias, "qkv")
    heads_shape = ctx.const("heads_shape", [0, 0, tokens, 3, op.heads, op.head_dim], np.int64)
    split_heads = ctx.emit("Reshape", [qkv, heads_shape], to=ctx.tmp("qkv_heads"))
    stacked = ctx.emit("Transpose", [split_heads], to=ctx.tmp("qkv_stacked"), perm=[3, 0, 1, 4, 2, 5])
    q, k, v = (
        ctx.emit("Gather", [stacked, ctx.const(f"{name}_index", i, np.int64)], to=ctx.tmp(name), axis=0)
        for i, name in enumerate("qkv")
    )  # each [N, windows, heads, tokens, head_dim]
    scaled = ctx.emit("Mul", [q, ctx.const("scale", op.head_dim**-0.5)], to=ctx.tmp("q_scaled"))
    k_t = ctx.emit("Transpose", [k], to=ctx.tmp("k_t"), perm=[0, 1, 2, 4, 3])
    scores = ctx.emit("MatMul", [scaled, k_t], to=ctx.tmp("scores"))
    scores = ctx.emit("Add", [scores, _position_bias(op, ctx)], to=ctx.tmp("biased_scores"))
    if any(shift):  # [windows, 1, tokens, tokens], broadcast over the batch and the heads
        mask = ctx.const("shift_mask", _shift_mask(op, padded_h, padded_w, shift)[:, None])
        scores = ctx.emit("Add", [scores, mask], to=ctx.tmp("masked_scores"))
    weights = ctx.emit("Softmax", [scores], to=ctx.tmp("weights"), axis=-1)
    attended = ctx.emit("MatMul", [weights, v], to=ctx.tmp("attended"))  # [N, windows, heads, tokens, head_dim]
    tokens_first = ctx.emit("Transpose", [attended], to=ctx.tmp("tokens_first"), perm=[0, 1, 3, 2, 4])
    joined = ctx.emit("Reshape", [tokens_first, window_shape], to=ctx.tmp("joined"))
    projected = _projection(ctx, joined, "proj.", op.bias, "proj")

    unsplit_shape = ctx.const("unsplit", [0, rows, cols, wh, ww, channels], np.int64)
    unsplit = ctx.emit("Reshape", [projected, unsplit_shape], to=ctx.tmp("unsplit"))
    ungrouped = ctx.emit("Transpose", [unsplit], to=ctx.tmp("ungrouped"), perm=[0, 1, 3, 2, 4, 5])
    map_shape = ctx.const("map_shape", [0, padded_h, padded_w, channels], np.int64)
    x = ctx.emit("Reshape", [ungrouped, map_shape], to=ctx.tmp("map"))
    x = _roll(ctx, x, (padded_h, padded_w), shift)
    # torchvision's x[:, :H, :W]: the node's output, a copy where nothing was padded
    ends = ctx.const("crop_ends", [height, width], np.int64)
    ctx.emit("Slice", [x, ctx.const("crop_starts", [0, 0], np.int64), ends, ctx.const("crop_axes", [1, 2], np.int64)])


def _roll(ctx: LoweringContext, x: str, sizes: tuple[int, int], shifts: tuple[int, int]) -> str:
    """``torch.roll(x, shifts, dims=(1, 2))``: each element moves ``shift`` places along its axis,
    the ones pushed past the end coming back at the start (the end's ``Slice`` ``Concat``-ed first)."""
    for axis, (size, shift) in enumerate(zip(sizes, shifts, strict=True), start=1):
        cut = size - shift % size
        if cut == size:
            continue
        axes = ctx.const("roll_axis", [axis], np.int64)
        middle, end = ctx.const("roll_cut", [cut], np.int64), ctx.const("roll_end", [size], np.int64)
        tail = ctx.emit("Slice", [x, middle, end, axes], to=ctx.tmp("roll_tail"))
        head = ctx.emit("Slice", [x, ctx.const("roll_start", [0], np.int64), middle, axes], to=ctx.tmp("roll_head"))
        x = ctx.emit("Concat", [tail, head], to=ctx.tmp("rolled"), axis=axis)
    return x


def _position_bias(op: WindowAttention, ctx: LoweringContext) -> str:
    """[heads, tokens, tokens]: the bias table's rows gathered by torchvision's constant index."""
    tokens = op.window[0] * op.window[1]
    index = ctx.const("relative_position_index", op.relative_position_index(), np.int64)
    rows = ctx.emit("Gather", [ctx.param("relative_position_bias_table"), index], to=ctx.tmp("bias_rows"), axis=0)
    square = ctx.const("bias_square", [tokens, tokens, op.heads], np.int64)
    squared = ctx.emit("Reshape", [rows, square], to=ctx.tmp("bias_square"))
    return ctx.emit("Transpose", [squared], to=ctx.tmp("position_bias"), perm=[2, 0, 1])


def _shift_mask(op: WindowAttention, padded_h: int, padded_w: int, shift: tuple[int, int]) -> np.ndarray:
    """[windows, tokens, tokens], torchvision's attention mask: 0 between positions of one region
    of the rolled map, -100 between positions the roll brought together from different ones."""
    wh, ww = op.window
    regions = np.zeros((padded_h, padded_w), np.float32)
    h_slices = ((0, -wh), (-wh, -shift[0]), (-shift[0], None))
    w_slices = ((0, -ww), (-ww, -shift[1]), (-shift[1], None))
    for count, (h, w) in enumerate((h, w) for h in h_slices for w in w_slices):
        regions[h[0] : h[1], w[0] : w[1]] = count
    regions = regions.reshape(padded_h // wh, wh, padded_w // ww, ww).transpose(0, 2, 1, 3).reshape(-1, wh * ww)
    return np.where(regions[:, None, :] != regions[:, :, None], np.float32(-100.0), np.float32(0.0))
