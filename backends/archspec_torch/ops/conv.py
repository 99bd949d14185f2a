"""``conv`` and ``conv1d`` → ``nn.Conv2d`` / ``nn.Conv1d``; ``conv_transpose`` → ``nn.ConvTranspose2d``.

Symmetric padding uses torch's ``padding=``; asymmetric pairs (``'same'`` with an even
kernel, or explicit ``[lo, hi]``) use :class:`PaddedConv2d`, an ``nn.Conv2d`` that
zero-pads with ``F.pad`` first, so the weights keep their canonical names.
"""

from __future__ import annotations

from archspec.ops.conv import Conv, Conv1d, ConvTranspose
from archspec_torch._lowering import (
    LOWERINGS,
    Helper,
    LoweringContext,
    ModuleCall,
    register_helper,
    same_for_every_dim,
)

_PADDED = """\
class PaddedConv{n}d(nn.Conv{n}d):
    \"\"\"nn.Conv{n}d after explicit zero padding ``pad`` (F.pad order: last axis first, low then high).\"\"\"

    def __init__(self, *args, pad: tuple[int, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pad))
"""

for _n in (1, 2):
    register_helper(Helper(f"PaddedConv{_n}d", _PADDED.format(n=_n), needs=("torch", "F")))


@LOWERINGS.register(Conv, Conv1d)
def conv(op: Conv | Conv1d, ctx: LoweringContext) -> ModuleCall:
    n = op.spatial
    each_end = op.padding_each_end
    padding = ctx.literal(0) if each_end is None else ctx.attr("padding", same_for_every_dim(each_end))
    options = ctx.options(
        ("stride", ctx.attr("stride", same_for_every_dim(op.stride)), 1),
        ("padding", padding, 0),
        ("dilation", ctx.attr("dilation", same_for_every_dim(op.dilation)), 1),
        ("groups", ctx.attr("groups"), 1),
        ("bias", ctx.attr("bias"), True),
    )
    args = (ctx.channels(), ctx.attr("out_channels"), ctx.attr("kernel", same_for_every_dim(op.kernel)))
    if each_end is not None:
        return ModuleCall(f"nn.Conv{n}d", args, options)
    pad = tuple(v for lo, hi in reversed(op.padding) for v in (lo, hi))
    return ModuleCall(f"PaddedConv{n}d", args, (*options, ("pad", ctx.literal(pad))), helper=f"PaddedConv{n}d")


@LOWERINGS.register(ConvTranspose)
def conv_transpose(op: ConvTranspose, ctx: LoweringContext) -> ModuleCall:
    options = ctx.options(
        ("stride", ctx.attr("stride", same_for_every_dim(op.stride)), 1),
        ("padding", ctx.attr("padding", same_for_every_dim(op.padding)), 0),
        ("output_padding", ctx.attr("output_padding", same_for_every_dim(op.output_padding)), 0),
        ("groups", ctx.attr("groups"), 1),
        ("bias", ctx.attr("bias"), True),
        ("dilation", ctx.attr("dilation", same_for_every_dim(op.dilation)), 1),
    )
    args = (ctx.channels(), ctx.attr("out_channels"), ctx.attr("kernel", same_for_every_dim(op.kernel)))
    return ModuleCall("nn.ConvTranspose2d", args, options)
