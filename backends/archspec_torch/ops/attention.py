"""``attention`` → :class:`SelfAttention`, an ``nn.MultiheadAttention`` (``batch_first``) called on
one sequence, so its parameters are torch's own (``in_proj_weight``, ``out_proj.weight``, ...) and
it runs torch's fused kernels: ``scaled_dot_product_attention``, and in eval mode without
gradients the fast path torchvision's ViT gets.

A causal mask is passed both as the float mask nn.MultiheadAttention checks shapes against and
as ``is_causal``, with which it hands ``scaled_dot_product_attention`` the flag instead of the mask.
"""

from __future__ import annotations

from archspec.ops.attention import Attention
from archspec_torch._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

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
