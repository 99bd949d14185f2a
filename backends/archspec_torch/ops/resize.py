"""``upsample`` and ``upsample1d`` → ``nn.Upsample``, whose meaning the spec's is (see
:mod:`archspec.ops.resize`).

The scale is handed to ``nn.Upsample`` as ``scale_factor`` (never recomputed from the sizes), so
its kernels map output cells by the scale, as the spec says. A size that is another tensor's
(see :mod:`archspec.ops.resize`) is read from it in ``forward``, as torchvision's DeepLab does:
``F.interpolate(x, size=input.shape[-2:], mode="bilinear", align_corners=False)``.
"""

from __future__ import annotations

from typing import Any

from archspec.ops.resize import Upsample, Upsample1d
from archspec_torch._lowering import LOWERINGS, FunctionCall, LoweringContext, ModuleCall, same_for_every_dim


@LOWERINGS.register(Upsample, Upsample1d)
def upsample(op: Upsample | Upsample1d, ctx: LoweringContext) -> ModuleCall | FunctionCall:
    if len(ctx.inputs) == 2:  # the second input's size, read at run time
        sampling = f'mode="{op.mode}"' + (f", align_corners={op.align_corners}" if op.interpolates else "")
        spatial = f"-{op.spatial}:"
        return FunctionCall(
            lambda xs: f"F.interpolate({xs[0]}, size={xs[1]}.shape[{spatial}], {sampling})", needs=("F",)
        )
    options = ctx.options(  # the one of size and scale that is given: the other is None, left out
        ("size", ctx.attr("size", _given(op.size)), None),
        ("scale_factor", ctx.attr("scale", _given(op.scale)), None),
        ("mode", ctx.attr("mode"), "nearest"),
        ("align_corners", ctx.attr("align_corners"), False),
    )
    return ModuleCall("nn.Upsample", kwargs=options)


def _given(values: tuple[Any, ...] | None) -> Any:
    """One value for every axis as torch takes it (see :func:`same_for_every_dim`), or None."""
    return None if values is None else same_for_every_dim(values)
