"""Pools → helper modules over channels-last input, with the spec's (PyTorch's) semantics.

Flax's ``nnx.max_pool``/``nnx.avg_pool`` have neither ``ceil_mode`` nor
``count_include_pad=False``, so the helpers call ``lax.reduce_window`` with explicit
padding: max pooling pads with -inf; average pooling sums with zero padding and
divides by a per-position count that is computed, from static shapes, as the window's
overlap with the padded input (``count_include_pad=True``) or with the input itself
(``False``), exactly as PyTorch does. ``ceil_mode`` adds right padding so the last
window may overhang, but never starts in the right padding. The adaptive average pool
uses PyTorch's windows: output cell i covers rows floor(i*H/h) .. ceil((i+1)*H/h).
"""

from __future__ import annotations

from archspec.ops.pool import (
    AdaptiveAvgPool,
    AvgPool,
    AvgPool1d,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
    MaxPool1d,
)
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "pool_windows",
        '''def pool_windows(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool):
    """PyTorch's pooled length along one axis and the right padding that reaches it."""
    span = dilation * (kernel - 1) + 1
    steps = size + 2 * pad - span
    out = (-(-steps // stride) if ceil_mode else steps // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window would start in the right padding
    return out, max(0, (out - 1) * stride + span - size - pad)''',
    )
)

register_helper(
    Helper(
        "MaxPool",
        '''class MaxPool(nnx.Module):
    """Max pooling over the spatial axes of a channels-last array, padding counted as -inf."""

    def __init__(self, kernel, stride, padding, dilation=None, ceil_mode: bool = False) -> None:
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation or (1,) * len(kernel)
        self.ceil_mode = ceil_mode

    def __call__(self, x: jax.Array) -> jax.Array:
        pads, sizes = [], []
        for size, k, s, p, d in zip(x.shape[1:-1], self.kernel, self.stride, self.padding, self.dilation, strict=True):
            out, right = pool_windows(size, k, s, p, d, self.ceil_mode)
            pads.append((p, right))
            sizes.append(out)
        if any(d > 1 for d in self.dilation):
            return self.dilated(x, pads, sizes)
        return lax.reduce_window(
            x,
            -jnp.inf,
            lax.max,
            (1, *self.kernel, 1),
            (1, *self.stride, 1),
            ((0, 0), *pads, (0, 0)),
            window_dilation=(1, *self.dilation, 1),
        )

    def dilated(self, x: jax.Array, pads: list, sizes: list) -> jax.Array:
        """One axis at a time (a window's max is the max of its rows' maxima), as the max of the
        window's strided views: lax.reduce_window has no gradient with window dilation."""
        x = jnp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-jnp.inf)
        for axis, (k, s, d, n) in enumerate(zip(self.kernel, self.stride, self.dilation, sizes, strict=True), 1):
            views = [lax.slice_in_dim(x, i * d, i * d + (n - 1) * s + 1, s, axis) for i in range(k)]
            x = views[0]
            for view in views[1:]:
                x = jnp.maximum(x, view)
        return x''',
        needs=("jnp", "lax"),
        uses=("pool_windows",),
    )
)

register_helper(
    Helper(
        "AvgPool",
        '''class AvgPool(nnx.Module):
    """Average pooling over the spatial axes of a channels-last array, as PyTorch's AvgPool:
    zero padding, divided by the window's overlap with the padded input
    (count_include_pad=True) or with the input alone (False)."""

    def __init__(self, kernel, stride, padding, ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def __call__(self, x: jax.Array) -> jax.Array:
        pads, counts = [], []
        for size, k, s, p in zip(x.shape[1:-1], self.kernel, self.stride, self.padding, strict=True):
            out, right = pool_windows(size, k, s, p, 1, self.ceil_mode)
            lo, hi = (-p, size + p) if self.count_include_pad else (0, size)
            counts.append([min(i * s - p + k, hi) - max(i * s - p, lo) for i in range(out)])
            pads.append((p, right))
        window = (1, *self.kernel, 1)
        total = lax.reduce_window(x, 0.0, lax.add, window, (1, *self.stride, 1), ((0, 0), *pads, (0, 0)))
        divisor = jnp.ones((), x.dtype)
        for axis, count in enumerate(counts, start=1):
            shape = [1] * x.ndim
            shape[axis] = len(count)
            divisor = divisor * jnp.asarray(count, x.dtype).reshape(shape)
        return total / divisor''',
        needs=("jnp", "lax"),
        uses=("pool_windows",),
    )
)

register_helper(
    Helper(
        "global_avg_pool",
        '''def global_avg_pool(x: jax.Array) -> jax.Array:
    """Mean over the spatial axes of a channels-last array, kept as size 1."""
    return jnp.mean(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "global_max_pool",
        '''def global_max_pool(x: jax.Array) -> jax.Array:
    """Max over the spatial axes of a channels-last array, kept as size 1."""
    return jnp.max(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "AdaptiveAvgPool",
        '''class AdaptiveAvgPool(nnx.Module):
    """Average pooling of [N, H, W, C] to ``output_size`` with PyTorch's windows: output cell i
    covers input rows floor(i * H / h) to ceil((i + 1) * H / h)."""

    def __init__(self, output_size: tuple[int, int]) -> None:
        self.output_size = output_size

    def __call__(self, x: jax.Array) -> jax.Array:
        weights = []
        for size, out in zip(x.shape[1:3], self.output_size, strict=True):
            rows = []
            for i in range(out):
                start, end = (i * size) // out, -(-((i + 1) * size) // out)
                rows.append([1.0 / (end - start) if start <= j < end else 0.0 for j in range(size)])
            weights.append(jnp.asarray(rows, x.dtype))
        return jnp.einsum("nhwc,ih,jw->nijc", x, *weights, precision=lax.Precision.HIGHEST)''',
        needs=("jnp", "lax"),
    )
)


@LOWERINGS.register(MaxPool, MaxPool1d)
def maxpool(op: MaxPool | MaxPool1d, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("dilation", ctx.per_dim("dilation"), (1,) * op.spatial),
        ("ceil_mode", ctx.attr("ceil_mode"), False),
    )
    args = (ctx.per_dim("kernel"),)
    where = (("stride", ctx.per_dim("stride")), ("padding", ctx.per_dim("padding", op.padding_each_end)))
    return ModuleCall("MaxPool", args, (*where, *options), helper="MaxPool")


@LOWERINGS.register(AvgPool, AvgPool1d)
def avgpool(op: AvgPool | AvgPool1d, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("ceil_mode", ctx.attr("ceil_mode"), False),
        ("count_include_pad", ctx.attr("count_include_pad"), True),
    )
    args = (ctx.per_dim("kernel"),)
    where = (("stride", ctx.per_dim("stride")), ("padding", ctx.per_dim("padding", op.padding_each_end)))
    return ModuleCall("AvgPool", args, (*where, *options), helper="AvgPool")


@LOWERINGS.register(GlobalAvgPool)
def global_avgpool(op: GlobalAvgPool, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("global_avg_pool", helper="global_avg_pool", bare=True)


@LOWERINGS.register(GlobalMaxPool)
def global_maxpool(op: GlobalMaxPool, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("global_max_pool", helper="global_max_pool", bare=True)


@LOWERINGS.register(AdaptiveAvgPool)
def adaptive_avgpool(op: AdaptiveAvgPool, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("AdaptiveAvgPool", (ctx.per_dim("output_size"),), helper="AdaptiveAvgPool")
