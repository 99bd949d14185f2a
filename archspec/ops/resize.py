"""Resizing: ``upsample`` (2-D, NCHW) and ``upsample1d`` (NCL). Count 0 MACs (no parameters;
torchinfo counts none).

The meaning is PyTorch's ``nn.Upsample``, stated here so every backend computes it the same way:

* Exactly one of ``scale`` and ``size`` is given. With ``scale`` the output is
  ``floor(in * scale)`` along each axis and an output cell ``i`` reads the input at ``i / scale``
  (PyTorch passes the scale to its kernels, so a scale of 1.5 on 5 rows maps by 1/1.5, not by
  5/7); with ``size`` it reads at ``i * in / out``.
* ``nearest``: the input cell ``min(floor(i / scale), in - 1)``.
* ``bilinear`` (``linear`` in 1-D), ``align_corners=false``: half-pixel centres,
  ``(i + 0.5) / scale - 0.5``, clamped at 0, interpolated between the two cells around it (the
  last cell repeats past the end); ``align_corners=true``: ``i * (in - 1) / (out - 1)`` whatever
  the scale, so the corner cells of input and output coincide.
* PyTorch's kernels take shortcuts that ignore the scale, and so does the spec: (bi)linear
  interpolation, and ``upsample``'s nearest, copy an axis whose size the scale keeps
  (``upsample(1.1)`` on 5 rows gives the same 5 rows, where ``floor(i / 1.1)`` would repeat
  one), and ``upsample``'s nearest reads cell ``i // 2`` along an axis whose size it doubles
  (``upsample(2.1)`` on 5 rows: ``floor(8 / 2.1)`` is 3, but row 8 reads row 4).
  ``upsample1d``'s nearest takes neither shortcut in its values (PyTorch's 1-D backward takes
  both, so there it is not the gradient of PyTorch's forward; flax differentiates the forward).

``align_corners`` only has a meaning for interpolation: PyTorch refuses it with ``nearest``,
and so does archspec.

A size written as the block's input's own (``size=input.shape[2:]``, or ``[input.shape[2],
input.shape[3]]``) is that input's size whatever it is, as torchvision's DeepLab interpolates to
``x.shape[-2:]``: the expander makes that input the op's second input (see :attr:`_Upsample.follows`),
and every backend reads the size from it at run time, so compiled code serves inputs of other
sizes too.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from archspec.ir import TensorType
from archspec.ops._base import Op, ShapeError, expect_rank, register, static
from archspec.ops._window import PositiveInt

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Upsample(Op):
    """Resize [N, C, *S] to [N, C, *S'] by nearest-neighbour or (bi)linear interpolation.

    Arguments: ``scale`` (a number for every spatial axis, or one per axis) or ``size`` (an int
    for every axis, or one per axis): exactly one of them; ``mode`` (``'nearest'``, or
    ``'bilinear'`` for ``upsample`` and ``'linear'`` for ``upsample1d``); ``align_corners``
    (false; only with interpolation). Validated, ``scale`` is one float per axis and ``size``
    one int per axis (or None).
    """

    reads_channels = True
    follows = "size"

    misnamed: ClassVar[dict[str, str]] = {
        "scale_factor": "archspec calls PyTorch's scale_factor 'scale': upsample(scale=2)",
        "output_size": "archspec calls the output size 'size': upsample(size=[h, w])",
    }

    scale: tuple[PositiveFloat, ...] | None = Field(
        default=None, description="a number > 0, or one per spatial axis; or give size"
    )
    size: tuple[PositiveInt, ...] | None = Field(default=None, description="an int > 0, or one per spatial axis")
    mode: str = "nearest"  # each op's own Literal
    align_corners: bool = False

    @field_validator("scale", "size", mode="before")
    @classmethod
    def _one_per_axis(cls, value: object) -> object:
        """One number means every spatial axis; a list is a tuple (left to the field's type to check)."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (value,) * cls.spatial
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _check(self) -> _Upsample:
        given = [name for name in ("scale", "size") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "scale and size are both given; give one of them"
                if given
                else f"{self.op_name} needs a scale ({self.op_name}(2)) or a size ({self.op_name}(size={self._sizes}))"
            )
        (name,) = given
        count = len(getattr(self, name))
        if count != self.spatial:
            plural = "s" if self.spatial > 1 else ""
            raise ValueError(f"{name} needs {self.spatial} value{plural} (one per spatial axis), got {count}")
        if self.align_corners and not self.interpolates:
            raise ValueError(f"align_corners=true needs mode='{self.linear_mode}' (PyTorch refuses it with 'nearest')")
        return self

    @property
    def _sizes(self) -> str:
        """How a size is written for this op, in messages."""
        return "[h, w]" if self.spatial == 2 else "n"

    @property
    def linear_mode(self) -> str:
        """The name of this op's interpolating mode: ``'bilinear'`` in 2-D, ``'linear'`` in 1-D."""
        return "bilinear" if self.spatial == 2 else "linear"

    @property
    def interpolates(self) -> bool:
        """Whether the output blends neighbouring cells ((bi)linear) rather than copying one (nearest)."""
        return self.mode != "nearest"

    @property
    def copies_kept_axes(self) -> bool:
        """Whether an axis whose size the scale keeps is copied, whatever the scale (PyTorch's
        shortcut in every kernel but the 1-D nearest one)."""
        return self.interpolates or self.spatial == 2

    @property
    def halves_doubled_axes(self) -> bool:
        """Whether an axis whose size the scale doubles reads cell ``i // 2``, whatever the scale
        (PyTorch's shortcut in its 2-D nearest kernel)."""
        return not self.interpolates and self.spatial == 2

    def check_arity(self, count: int) -> None:
        if count != 2 or self.size is None:  # the second input gives the size: see the module docstring
            super().check_arity(count)

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        x = inputs[0]
        if len(inputs) == 2 and inputs[1].shape[2:] != self.size:
            raise ShapeError(
                f"{self.op_name} given a second input takes that input's size, but its size is {list(self.size or ())}",
                expected=f"size={list(inputs[1].shape[2:])}, the second input's",
                found=f"second input {inputs[1]}",
                hint="in a block, size=input.shape[2:] resizes to the block's input",
                attr="size",
            )
        rank = self.spatial + 2
        fitting = {3: "upsample1d", 4: "upsample"}.get(x.rank)
        hint = f"a {x.rank}-D input takes '{fitting}'" if fitting and fitting != self.op_name else None
        expect_rank(self, x, (rank,), "[N, C, H, W]" if self.spatial == 2 else "[N, C, L]", hint=hint)
        sizes = [static(d, "spatial size") for d in x.shape[2:]]
        for axis, (size, scale) in enumerate(zip(sizes, self.scale or (), strict=False)):
            if not math.isfinite(size * scale):  # no size at all; past any tensor bound
                raise ShapeError(
                    f"{self.op_name} scale {scale:g} along axis {axis + 2} gives no finite size",
                    expected="a scale whose output a tensor can hold",
                    found=f"input {x}",
                    attr="scale",
                )
        out = self.output_sizes(sizes)
        for axis, (size, length) in enumerate(zip(sizes, out, strict=True)):
            if length < 1:  # only a scale below 1 can do this: a size is at least 1
                raise ShapeError(
                    f"{self.op_name} leaves no cells along axis {axis + 2}: floor({size} * scale) is 0",
                    expected=f"a scale of at least 1/{size} along that axis",
                    found=f"input {x}, scale {list(self.scale or ())}",
                    hint="give a larger input or scale, or an explicit size",
                    attr="scale",
                )
        return TensorType((*x.shape[:2], *out), x.dtype)

    def output_sizes(self, sizes: list[int]) -> tuple[int, ...]:
        """The output's spatial sizes for an input of spatial ``sizes``: ``size``, or ``floor(in * scale)``."""
        if self.size is not None:
            return self.size
        assert self.scale is not None  # _check: exactly one is given
        return tuple(math.floor(n * s) for n, s in zip(sizes, self.scale, strict=True))


@register
class Upsample(_Upsample):
    __doc__ = _Upsample.__doc__
    op_name = "upsample"
    spatial = 2

    mode: Literal["nearest", "bilinear"] = "nearest"


@register
class Upsample1d(_Upsample):
    __doc__ = _Upsample.__doc__
    op_name = "upsample1d"
    spatial = 1

    mode: Literal["nearest", "linear"] = "nearest"
