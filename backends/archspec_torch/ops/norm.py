"""``batchnorm`` → ``nn.BatchNorm{1,2,3}d``, ``layernorm`` → ``nn.LayerNorm``, ``lrn`` → ``nn.LocalResponseNorm``.

archspec's ``update_rate`` (weight of the new batch statistic) is exactly torch's
``momentum``; torch's BatchNorm updates the running variance with the unbiased batch
variance, as the spec says. ``num_batches_tracked`` is torch bookkeeping read only
when ``momentum=None``, which archspec never emits: it is not a canonical weight.
"""

from __future__ import annotations

from archspec.ops.norm import BatchNorm, LayerNorm, LocalResponseNorm
from archspec_torch._lowering import LOWERINGS, LoweringContext, ModuleCall

_BATCHNORM_BY_RANK = {2: 1, 3: 1, 4: 2, 5: 3}


@LOWERINGS.register(BatchNorm)
def batchnorm(op: BatchNorm, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("eps", ctx.attr("eps"), 1e-5),
        ("momentum", ctx.attr("update_rate"), 0.1),
        ("affine", ctx.attr("affine"), True),
    )
    return ModuleCall(f"nn.BatchNorm{_BATCHNORM_BY_RANK[ctx.input.rank]}d", (ctx.channels(),), options)


@LOWERINGS.register(LayerNorm)
def layernorm(op: LayerNorm, ctx: LoweringContext) -> ModuleCall:
    last = ctx.input.shape[-op.dims :]
    if op.dims == 1:
        shape = ctx.channels() if ctx.input.rank == 2 else ctx.literal(last[0])
    else:
        shape = ctx.literal(tuple(last))
    options = ctx.options(("eps", ctx.attr("eps"), 1e-5), ("elementwise_affine", ctx.attr("affine"), True))
    return ModuleCall("nn.LayerNorm", (shape,), options)


@LOWERINGS.register(LocalResponseNorm)
def lrn(op: LocalResponseNorm, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("alpha", ctx.attr("alpha"), 1e-4), ("beta", ctx.attr("beta"), 0.75), ("k", ctx.attr("k"), 1.0)
    )
    return ModuleCall("nn.LocalResponseNorm", (ctx.attr("size"),), options)
