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

``window_attention`` → :class:`WindowAttention`, torchvision's ``ShiftedWindowAttention`` in jnp
(the window partition and its inverse as reshapes and transposes, ``jnp.roll`` for the shift), the
relative-position index and the shift mask computed where it is traced.
"""

from __future__ import annotations

from archspec.ops.attention import Attention, WindowAttention
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


register_helper(
    Helper(
        "WindowAttention",
        '''class WindowAttention(nnx.Module):
    """Swin's (shifted) window attention with torchvision's parameters (``qkv`` and ``proj`` linear
    layers, ``relative_position_bias_table`` [(2 wh - 1) (2 ww - 1), heads]) on the spec's
    [N, H, W, C]: the map is padded to whole windows and rolled by ``shift_size``, each window
    attends to itself with a learned bias per relative position (and -100 between regions the
    roll put side by side), and the map is rolled back and cropped."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int | tuple[int, int],
        *,
        shift_size: int | tuple[int, int] = 0,
        dropout: float = 0.0,
        bias: bool = True,
        rngs: nnx.Rngs,
    ) -> None:
        self.window_size = (window_size, window_size) if isinstance(window_size, int) else tuple(window_size)
        self.shift_size = (shift_size, shift_size) if isinstance(shift_size, int) else tuple(shift_size)
        self.num_heads = num_heads
        self.qkv = nnx.Linear(dim, 3 * dim, use_bias=bias, rngs=rngs)
        self.proj = nnx.Linear(dim, dim, use_bias=bias, rngs=rngs)
        wh, ww = self.window_size
        init = nnx.initializers.truncated_normal(stddev=0.02)  # torchvision's init of the table
        self.relative_position_bias_table = nnx.Param(init(rngs.params(), ((2 * wh - 1) * (2 * ww - 1), num_heads)))
        self.dropout = nnx.Dropout(dropout, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        n, height, width, channels = x.shape  # features-last: held as the spec has it
        wh, ww = self.window_size
        padded_h, padded_w = -(-height // wh) * wh, -(-width // ww) * ww
        # a window that covers the whole map along an axis leaves nothing to shift there
        sizes = (padded_h, padded_w)
        shift = [0 if w >= size else s for s, w, size in zip(self.shift_size, self.window_size, sizes, strict=True)]
        x = jnp.pad(x, ((0, 0), (0, padded_h - height), (0, padded_w - width), (0, 0)))
        x = jnp.roll(x, (-shift[0], -shift[1]), axis=(1, 2))
        rows, cols, tokens = padded_h // wh, padded_w // ww, wh * ww
        x = x.reshape(n, rows, wh, cols, ww, channels).transpose(0, 1, 3, 2, 4, 5).reshape(-1, tokens, channels)
        qkv = self.qkv(x).reshape(-1, tokens, 3, self.num_heads, channels // self.num_heads)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]  # each [windows, tokens, heads, head_dim]
        scores = jnp.einsum("bqhd,bkhd->bhqk", q * (channels // self.num_heads) ** -0.5, k)
        scores = scores + self.relative_position_bias()
        if sum(shift) > 0:
            masked = scores.reshape(n, rows * cols, self.num_heads, tokens, tokens) + self.shift_mask(
                padded_h, padded_w, shift
            ).astype(scores.dtype)[:, None]
            scores = masked.reshape(-1, self.num_heads, tokens, tokens)
        weights = self.dropout(jax.nn.softmax(scores, axis=-1))
        x = self.proj(jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(-1, tokens, channels))
        x = x.reshape(n, rows, cols, wh, ww, channels).transpose(0, 1, 3, 2, 4, 5).reshape(n, padded_h, padded_w, -1)
        x = jnp.roll(x, (shift[0], shift[1]), axis=(1, 2))
        return x[:, :height, :width]

    def relative_position_bias(self) -> jax.Array:
        """[heads, tokens, tokens]: for query p and key q of a window, the table's row for p - q."""
        wh, ww = self.window_size
        rows, cols = jnp.divmod(jnp.arange(wh * ww), ww)
        index = (rows[:, None] - rows[None, :] + wh - 1) * (2 * ww - 1) + cols[:, None] - cols[None, :] + ww - 1
        return jnp.moveaxis(self.relative_position_bias_table[...][index], -1, 0)

    def shift_mask(self, padded_h: int, padded_w: int, shift: list[int]) -> jax.Array:
        """[windows, tokens, tokens]: 0 between positions of one region of the rolled map, -100
        between positions the roll brought together from different ones."""
        wh, ww = self.window_size
        regions = jnp.zeros((padded_h, padded_w))
        h_slices = ((0, -wh), (-wh, -shift[0]), (-shift[0], None))
        w_slices = ((0, -ww), (-ww, -shift[1]), (-shift[1], None))
        for count, (h, w) in enumerate((h, w) for h in h_slices for w in w_slices):
            regions = regions.at[h[0] : h[1], w[0] : w[1]].set(count)
        regions = regions.reshape(padded_h // wh, wh, padded_w // ww, ww).transpose(0, 2, 1, 3).reshape(-1, wh * ww)
        return jnp.where(regions[:, None, :] != regions[:, :, None], -100.0, 0.0)''',
        needs=("jnp",),
    )
)


def _one_if_square(sizes: tuple[int, ...]) -> int | tuple[int, ...]:
    """``(7, 7)`` as ``7``, as torchvision's Swin and its spec write a square window."""
    return sizes[0] if len(set(sizes)) == 1 else sizes


@LOWERINGS.register(WindowAttention)
def window_attention(op: WindowAttention, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("shift_size", ctx.attr("shift", _one_if_square(op.shift)), 0),
        ("dropout", ctx.attr("dropout"), 0.0),
        ("bias", ctx.attr("bias"), True),
    )
    args = (ctx.attr("dim"), ctx.attr("heads"), ctx.attr("window", _one_if_square(op.window)))
    return ModuleCall("WindowAttention", args, options, helper="WindowAttention", rngs=True)
