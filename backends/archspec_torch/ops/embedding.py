"""``embedding`` → ``nn.Embedding`` (weight [num, dim], the canonical layout), ``positions`` →
:class:`Positions`, the arange a learned position embedding looks up."""

from __future__ import annotations

from archspec.ops.embedding import Embedding, Positions
from archspec_torch._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "Positions",
        '''class Positions(nn.Module):
    """The position of each element along axis 1, for every sample: [N, T, ...] -> [N, T] int64
    holding 0, 1, ..., T - 1 (an expanded view of one arange, as Hugging Face's position_ids)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.arange(x.shape[1], device=x.device).expand(x.shape[0], -1)''',
        needs=("torch",),
    )
)


@LOWERINGS.register(Embedding)
def embedding(op: Embedding, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Embedding", (ctx.attr("num"), ctx.attr("dim")))


@LOWERINGS.register(Positions)
def positions(op: Positions, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Positions", helper="Positions")
