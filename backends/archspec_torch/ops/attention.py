"""``attention`` → :class:`SelfAttention`, an ``nn.MultiheadAttention`` (``batch_first``) called on
one sequence, so its parameters are torch's own (``in_proj_weight``, ``out_proj.weight``, ...) and
it runs torch's fused kernels: ``scaled_dot_product_attention``, and in eval mode without
gradients the fast path torchvision's ViT gets.

``window_attention`` → :class:`WindowAttention`, torchvision's ``ShiftedWindowAttention`` written
out (the backend imports no torchvision): the same parameters and buffer, the same operations
in the same order, so the same outputs to the last bit.

A causal mask is passed both as the float mask nn.MultiheadAttention checks shapes against and
as ``is_causal``, with which it hands ``scaled_dot_product_attention`` the flag instead of the mask.
"""

from __future__ import annotations

from archspec.ops.attention import Attention, WindowAttention
from archspec_torch._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper, same_for_every_dim

register_helper(
    Helper(
        "SelfAttention",
        '''class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention (batch_first) of a [N, T, D] sequence attending to itself, giving the
    attended sequence alone; with ``causal``, position t attends to positions 0..t only."""

    def __init__(self, embed_dim: int, num_heads: int, *, causal: bool = False, **kwargs) -> None:
        super().__init__(embed_dim, num_heads, batch_first=True, **kwargs)
        self.causal = causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.causal:
            return super().forward(x, x, x, need_weights=False)[0]
        tokens = x.shape[1]
        mask = torch.full((tokens, tokens), float("-inf"), device=x.device, dtype=x.dtype).triu(1)
        return super().forward(x, x, x, need_weights=False, attn_mask=mask, is_causal=True)[0]''',
        needs=("torch",),
    )
)


@LOWERINGS.register(Attention)
def attention(op: Attention, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("causal", ctx.attr("causal"), False),
        ("dropout", ctx.attr("dropout"), 0.0),
        ("bias", ctx.attr("bias"), True),
    )
    return ModuleCall("SelfAttention", (ctx.attr("dim"), ctx.attr("heads")), options, helper="SelfAttention")


register_helper(
    Helper(
        "WindowAttention",
        '''class WindowAttention(nn.Module):
    """Swin's (shifted) window attention on [N, H, W, C], as torchvision's ShiftedWindowAttention:
    the map is padded to whole windows and rolled by ``shift_size``, each window of
    ``window_size`` positions attends to itself with a learned bias per relative position (and
    -100 between regions the roll put side by side), and the map is rolled back and cropped."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int | list[int],
        *,
        shift_size: int | list[int] = 0,
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.window_size = [window_size] * 2 if isinstance(window_size, int) else list(window_size)
        self.shift_size = [shift_size] * 2 if isinstance(shift_size, int) else list(shift_size)
        self.num_heads = num_heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        # for each query and key of a window, the table's row for their offset (query minus key)
        coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")).flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        index = (offsets[..., 0] + wh - 1) * (2 * ww - 1) + offsets[..., 1] + ww - 1
        self.register_buffer("relative_position_index", index.flatten())

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args) -> None:
        # the index follows from the window size: optional in a state dict, as BatchNorm's counter is
        state_dict.setdefault(prefix + "relative_position_index", self.relative_position_index)
        super()._load_from_state_dict(state_dict, prefix, *args)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, height, width, channels = x.shape
        wh, ww = self.window_size
        x = F.pad(x, (0, 0, 0, (ww - width % ww) % ww, 0, (wh - height % wh) % wh))
        padded_h, padded_w = x.shape[1], x.shape[2]
        # a window that covers the whole map along an axis leaves nothing to shift there
        sizes = (padded_h, padded_w)
        shift = [0 if w >= size else s for s, w, size in zip(self.shift_size, self.window_size, sizes, strict=True)]
        if sum(shift) > 0:
            x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
        windows, tokens = (padded_h // wh) * (padded_w // ww), wh * ww
        x = x.view(n, padded_h // wh, wh, padded_w // ww, ww, channels)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(n * windows, tokens, channels)
        qkv = self.qkv(x).reshape(n * windows, tokens, 3, self.num_heads, channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        q = q * (channels // self.num_heads) ** -0.5
        scores = q.matmul(k.transpose(-2, -1))
        bias = self.relative_position_bias_table[self.relative_position_index].view(tokens, tokens, -1)
        scores = scores + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if sum(shift) > 0:
            mask = self._shift_mask(x, padded_h, padded_w, shift)
            scores = scores.view(n, windows, self.num_heads, tokens, tokens) + mask.unsqueeze(1).unsqueeze(0)
            scores = scores.view(-1, self.num_heads, tokens, tokens)
        weights = F.dropout(F.softmax(scores, dim=-1), p=self.dropout, training=self.training)
        x = self.proj(weights.matmul(v).transpose(1, 2).reshape(n * windows, tokens, channels))
        x = x.view(n, padded_h // wh, padded_w // ww, wh, ww, channels)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(n, padded_h, padded_w, channels)
        if sum(shift) > 0:
            x = torch.roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))
        return x[:, :height, :width, :].contiguous()

    def _shift_mask(self, like: torch.Tensor, padded_h: int, padded_w: int, shift: list[int]) -> torch.Tensor:
        """[windows, tokens, tokens]: 0 between positions of one region of the rolled map, -100
        between positions the roll brought together from different ones."""
        wh, ww = self.window_size
        regions = like.new_zeros((padded_h, padded_w))
        h_slices = ((0, -wh), (-wh, -shift[0]), (-shift[0], None))
        w_slices = ((0, -ww), (-ww, -shift[1]), (-shift[1], None))
        for count, (h, w) in enumerate((h, w) for h in h_slices for w in w_slices):
            regions[h[0] : h[1], w[0] : w[1]] = count
        regions = regions.view(padded_h // wh, wh, padded_w // ww, ww).permute(0, 2, 1, 3).reshape(-1, wh * ww)
        apart = regions.unsqueeze(1) - regions.unsqueeze(2)
        return apart.masked_fill(apart != 0, -100.0).masked_fill(apart == 0, 0.0)''',
        needs=("torch", "F"),
    )
)


@LOWERINGS.register(WindowAttention)
def window_attention(op: WindowAttention, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("shift_size", ctx.attr("shift", same_for_every_dim(op.shift)), 0),
        ("dropout", ctx.attr("dropout"), 0.0),
        ("bias", ctx.attr("bias"), True),
    )
    args = (ctx.attr("dim"), ctx.attr("heads"), ctx.attr("window", same_for_every_dim(op.window)))
    return ModuleCall("WindowAttention", args, options, helper="WindowAttention")
