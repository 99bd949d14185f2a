"""``batchnorm`` → :class:`BatchNorm` (``nnx.BatchNorm`` with PyTorch's variance update),
``layernorm`` → ``nnx.LayerNorm`` (on a channels-last map ``axis=1`` is its default last axis; on
tokens, held as the spec has them, so is the spec's last axis),
``lrn`` → :class:`LocalResponseNorm`.

The spec's ``update_rate`` (weight of the new batch statistic) is Flax's ``1 - momentum``.
``nnx.BatchNorm`` normalises with the biased batch variance, as the spec says, but also
updates its running variance with that biased one, while the spec (like PyTorch and
Caffe) updates it with the *unbiased* one; the generated ``BatchNorm`` subclass does the
train-mode step itself rather than rely on Flax's default. Variances are computed in
two passes (``use_fast_variance=False`` for LayerNorm), never as E[x²] - E[x]².
"""

from __future__ import annotations

from archspec.ops.norm import BatchNorm, LayerNorm, LocalResponseNorm
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, held_axis, register_helper

register_helper(
    Helper(
        "BatchNorm",
        '''class BatchNorm(nnx.BatchNorm):
    """nnx.BatchNorm over the last (channel) axis that, in train mode, updates the running
    variance with the unbiased batch variance, as PyTorch does (nnx.BatchNorm uses the biased
    one); it normalises with the biased one, as both do. ``momentum`` is Flax's: the weight
    of the old running value (PyTorch's momentum 0.1 is Flax's 0.9)."""

    def __call__(self, x: jax.Array) -> jax.Array:
        if self.use_running_average:
            return super().__call__(x)
        axes = tuple(range(x.ndim - 1))
        mean = jnp.mean(x, axis=axes)
        var = jnp.mean(jnp.square(x - mean), axis=axes)
        count = x.size // x.shape[-1]
        unbiased = var * (count / max(count - 1, 1))
        keep = self.momentum
        self.mean[...] = lax.stop_gradient(keep * self.mean[...] + (1 - keep) * mean)
        self.var[...] = lax.stop_gradient(keep * self.var[...] + (1 - keep) * unbiased)
        y = (x - mean) * lax.rsqrt(var + self.epsilon)
        if self.scale is not None:
            y = y * self.scale[...]
        if self.bias is not None:
            y = y + self.bias[...]
        return y''',
        needs=("jnp", "lax"),
    )
)

register_helper(
    Helper(
        "LayerNorm",
        '''class LayerNorm(nnx.LayerNorm):
    """nnx.LayerNorm over several axes (``axes`` of the array, which hold the spec's last axes),
    with its scale and bias shaped as those axes (nnx.LayerNorm keeps them flat). ``channels_last``:
    the array is a channels-last map, whose axes come in another order than the spec's."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        axes: tuple[int, ...],
        epsilon: float = 1e-5,
        use_scale: bool = True,
        use_bias: bool = True,
        channels_last: bool = True,
        rngs: nnx.Rngs,
    ) -> None:
        self.channels_last = channels_last
        size = 1
        for n in shape:
            size *= n
        super().__init__(
            size,
            epsilon=epsilon,
            use_scale=use_scale,
            use_bias=use_bias,
            reduction_axes=axes,
            feature_axes=axes,
            use_fast_variance=False,
            rngs=rngs,
        )
        if self.scale is not None:
            self.scale = nnx.Param(self.scale[...].reshape(shape))
        if self.bias is not None:
            self.bias = nnx.Param(self.bias[...].reshape(shape))''',
    )
)

register_helper(
    Helper(
        "LocalResponseNorm",
        '''class LocalResponseNorm(nnx.Module):
    """Local response normalisation across channels, as torch.nn.LocalResponseNorm:
    x / (k + alpha / size * sum of x**2 over ``size`` channels around each one) ** beta,
    the window zero-padded by size // 2 before and (size - 1) // 2 after."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def __call__(self, x: jax.Array) -> jax.Array:
        window = (1,) * (x.ndim - 1) + (self.size,)
        padding = ((0, 0),) * (x.ndim - 1) + ((self.size // 2, (self.size - 1) // 2),)
        summed = lax.reduce_window(jnp.square(x), 0.0, lax.add, window, (1,) * x.ndim, padding)
        return x / (self.k + self.alpha / self.size * summed) ** self.beta''',
        needs=("jnp", "lax"),
    )
)


@LOWERINGS.register(BatchNorm)
def batchnorm(op: BatchNorm, ctx: LoweringContext) -> ModuleCall:
    keep = round(1.0 - op.update_rate, 12)  # Flax's momentum: the weight of the old value
    options = (
        ("momentum", ctx.literal(keep)),
        *ctx.options(
            ("epsilon", ctx.attr("eps"), 1e-5),
            ("use_scale", ctx.attr("affine"), True),
            ("use_bias", ctx.attr("affine"), True),
        ),
    )
    return ModuleCall("BatchNorm", (ctx.channels(),), options, helper="BatchNorm", rngs=True)


@LOWERINGS.register(LayerNorm)
def layernorm(op: LayerNorm, ctx: LoweringContext) -> ModuleCall:
    # Over the spec's normalised axes, wherever the array holds them: on a channels-last map the
    # channels (axis=1) are the last axis, W of NCHW is axis -2 of NHWC, C, H, W are -3, -2, -1;
    # on tokens the axes are the spec's. Several axes get :class:`LayerNorm`, whose scale and bias
    # are shaped as those axes in the array's order ([H, W, C] on a channels-last map); the
    # canonical weight is in the spec's ([C, H, W]), and archspec_flax.weights transposes between
    # the two.
    rank = ctx.input.rank
    # Negative axes of the array (the weights' conversion reads -1 as the channels), in order.
    spec_axis_at = {held_axis(axis, ctx.input) - rank: axis for axis in op.normalised_axes(rank)}
    axes = sorted(spec_axis_at)
    shape = tuple(ctx.input.shape[spec_axis_at[axis]] for axis in axes)
    eps = ctx.attr("eps")
    affine = ctx.options(("use_scale", ctx.attr("affine"), True), ("use_bias", ctx.attr("affine"), True))
    if len(axes) > 1:
        as_spec = ctx.options(("channels_last", ctx.literal(not ctx.input.features_last), True))
        options = (("axes", ctx.literal(tuple(axes))), *ctx.options(("epsilon", eps, 1e-5)), *affine, *as_spec)
        return ModuleCall("LayerNorm", (ctx.literal(shape),), options, helper="LayerNorm", rngs=True)
    (axis,) = axes
    spec_axis = spec_axis_at[axis]
    size = ctx.features() if spec_axis == rank - 1 else ctx.channels() if spec_axis == 1 else ctx.literal(shape[0])
    # nnx.LayerNorm's axes default to the last one
    over = () if axis == -1 else (("reduction_axes", ctx.literal(axis)), ("feature_axes", ctx.literal(axis)))
    # epsilon always: nnx.LayerNorm's default is 1e-6, the spec's 1e-5
    options = (*over, ("epsilon", eps), *affine, ("use_fast_variance", ctx.literal(False)))
    return ModuleCall("nnx.LayerNorm", (size,), options, rngs=True)


@LOWERINGS.register(LocalResponseNorm)
def lrn(op: LocalResponseNorm, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("alpha", ctx.attr("alpha"), 1e-4), ("beta", ctx.attr("beta"), 0.75), ("k", ctx.attr("k"), 1.0)
    )
    return ModuleCall("LocalResponseNorm", (ctx.attr("size"),), options, helper="LocalResponseNorm")
