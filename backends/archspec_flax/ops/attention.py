"""``attention`` → :class:`SelfAttention`, an NNX module holding ``nn.MultiheadAttention``'s
parameters as torch lays them out (``in_proj_weight`` [3D, D], ``in_proj_bias``, ``out_proj`` an
``nnx.Linear``), so canonical weights load without conversion beyond ``out_proj``'s kernel.

It computes with ``jax.nn.dot_product_attention`` (XLA's fused attention, cuDNN's where jax picks
it), ``is_causal`` for the causal mask. Two cases take the explicit softmax(q kᵀ / sqrt(d)) v
instead: dropout on the attention weights (train mode, nonzero rate), which needs the weights the
fused kernel never forms, dropped as PyTorch drops them; and float64, since the fused kernel
computes its softmax in float32 whatever its inputs' dtype.

Tokens are features-last, held as the spec has them ([N, T, D]), so ``SelfAttention`` takes them as
they are; a [N, T, D] the spec reads channels-first (a network's float input) is held [N, D, T] and
gets :class:`TransposedSelfAttention`, which moves the tokens' features last around it.
"""

from __future__ import annotations

from archspec.ops.attention import Attention
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "SelfAttention",
        '''class SelfAttention(nnx.Module):
    """Multi-head self-attention of tokens [N, T, D] with nn.MultiheadAttention's parameters:
    ``in_proj_weight`` [3D, D] stacks the q, k and v projections, ``out_proj`` is a linear layer;
    with ``causal``, position t attends to positions 0..t only."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        causal: bool = False,
        dropout: float = 0.0,
        bias: bool = True,
        rngs: nnx.Rngs,
    ) -> None:
        self.num_heads = num_heads
        self.causal = causal
        init = nnx.initializers.xavier_uniform()  # torch's init of in_proj_weight
        self.in_proj_weight = nnx.Param(init(rngs.params(), (3 * embed_dim, embed_dim)))
        self.in_proj_bias = nnx.Param(jnp.zeros((3 * embed_dim,))) if bias else None
        self.out_proj = nnx.Linear(embed_dim, embed_dim, use_bias=bias, rngs=rngs)
        self.dropout = nnx.Dropout(dropout, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        n, tokens, width = x.shape
        qkv = x @ self.in_proj_weight[...].T
        if self.in_proj_bias is not None:
            qkv = qkv + self.in_proj_bias[...]
        heads = qkv.reshape(n, tokens, 3 * self.num_heads, width // self.num_heads)
        q, k, v = jnp.split(heads, 3, axis=2)  # each [N, T, heads, head_dim]
        dropping = not self.dropout.deterministic and self.dropout.rate > 0.0
        if not dropping and q.dtype != jnp.float64:  # the fused kernel's softmax is float32 whatever the input
            attended = jax.nn.dot_product_attention(q, k, v, is_causal=self.causal)
        else:
            scores = jnp.einsum("nqhd,nkhd->nhqk", q, k) / jnp.sqrt(q.shape[-1]).astype(q.dtype)
            if self.causal:
                scores = jnp.where(jnp.tril(jnp.ones((tokens, tokens), bool)), scores, -jnp.inf)
            weights = self.dropout(jax.nn.softmax(scores, axis=-1))
            attended = jnp.einsum("nhqk,nkhd->nqhd", weights, v)
        return self.out_proj(attended.reshape(n, tokens, width))''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "TransposedSelfAttention",
        '''class TransposedSelfAttention(SelfAttention):
    """SelfAttention of a [N, T, D] the spec reads channels-first, held channels-last as [N, D, T]."""

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.moveaxis(super().__call__(jnp.moveaxis(x, -2, -1)), -1, -2)''',
        needs=("jnp",),
        uses=("SelfAttention",),
    )
)


@LOWERINGS.register(Attention)
def attention(op: Attention, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("causal", ctx.attr("causal"), False),
        ("dropout", ctx.attr("dropout"), 0.0),
        ("bias", ctx.attr("bias"), True),
    )
    args = (ctx.attr("dim"), ctx.attr("heads"))
    held = "SelfAttention" if ctx.input.features_last else "TransposedSelfAttention"
    return ModuleCall(held, args, options, helper=held, rngs=True)
