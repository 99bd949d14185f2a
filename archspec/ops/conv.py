"""Convolutions: ``conv`` (2-D, NCHW) and ``conv1d`` (NCL).

MACs follow torchinfo's "mult-adds": every weight and bias element is used once
per output position, so ``macs = (weight.numel + bias.numel) * N * prod(out_spatial)``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, ShapeError, batch, expect_rank, numel, register, static

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Pad = tuple[NonNegativeInt, NonNegativeInt]


_TOO_SMALL = "the input is too small here: give a larger input, or fewer strides and pools before it"


def conv_out(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int) -> int:
    """Output length of a convolution or pooling window along one axis (floor mode)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


class _ConvBase(Op):
    """Convolution over ``spatial`` dims: input [N, C_in, *S], weight [C_out, C_in/groups, *K].

    Arguments: ``out_channels``, ``kernel`` (int or one per dim, e.g. ``[1, 3]``),
    ``stride`` (1), ``padding`` (0; an int, one per dim, ``[lo, hi]`` pairs per dim,
    ``'same'`` for stride 1, or ``'valid'``), ``dilation`` (1), ``groups`` (1; equal to
    the input channels for a depthwise conv), ``bias`` (true).
    """

    spatial_fields = ("kernel", "stride", "dilation")
    shape_neutral = frozenset({"bias"})

    out_channels: PositiveInt
    kernel: tuple[PositiveInt, ...]
    stride: tuple[PositiveInt, ...] = (1,)
    padding: tuple[Pad, ...] | Literal["same"] = Field(
        default=0,
        validate_default=True,
        description="an int >= 0, one per spatial dim, a [lo, hi] pair per dim, 'same' (stride 1) or 'valid'",
    )
    dilation: tuple[PositiveInt, ...] = (1,)
    groups: PositiveInt = 1
    bias: bool = True

    @field_validator("padding", mode="before")
    @classmethod
    def _canonical_padding(cls, value: object) -> object:
        n = cls.spatial
        if value == "valid" or value == 0:
            return ((0, 0),) * n
        if isinstance(value, int) and not isinstance(value, bool):
            return ((value, value),) * n
        if isinstance(value, list | tuple):
            if all(isinstance(v, int) and not isinstance(v, bool) for v in value) and len(value) == n:
                return tuple((v, v) for v in value)
            if all(isinstance(v, list | tuple) for v in value):
                return tuple(tuple(v) for v in value)
        return value

    @model_validator(mode="after")
    def _check(self) -> _ConvBase:
        n = self.spatial
        for name in ("kernel", "stride", "dilation", "padding"):
            value = getattr(self, name)
            if value != "same" and len(value) != n:
                raise ValueError(
                    f"{name} needs {n} value{'s' if n > 1 else ''} (one per spatial dim), got {len(value)}"
                )
        if self.padding == "same":
            if any(s != 1 for s in self.stride):
                raise ValueError("padding='same' needs stride 1 (as in PyTorch); give explicit padding")
            pads = []
            for k, d in zip(self.kernel, self.dilation, strict=True):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            object.__setattr__(self, "padding", tuple(pads))
        return self

    @property
    def pads(self) -> tuple[tuple[int, int], ...]:
        assert self.padding != "same"
        return self.padding

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        n = self.spatial
        layout = "[N, C, H, W]" if n == 2 else "[N, C, L]"
        expect_rank(self, x, (n + 2,), layout, hint=_rank_hint(self.op_name, x.rank))
        channels = static(x.shape[1], f"{self.op_name} input channels")
        if channels % self.groups or self.out_channels % self.groups:
            raise ShapeError(
                f"groups={self.groups} must divide the input channels ({channels}) "
                f"and out_channels ({self.out_channels})",
                found=f"input {x}",
                attr="groups",
            )
        out: list[int | str] = [x.shape[0], self.out_channels]
        for axis, (size, k, s, pad, d) in enumerate(
            zip(x.shape[2:], self.kernel, self.stride, self.pads, self.dilation, strict=True)
        ):
            size = static(size, "spatial size")
            span = d * (k - 1) + 1
            if size + pad[0] + pad[1] < span:
                raise ShapeError(
                    f"{self.op_name} kernel ({span} wide with dilation) is larger than its padded input "
                    f"along axis {axis + 2} ({size} + padding {pad[0]}+{pad[1]})",
                    expected=f"an input of at least {span - pad[0] - pad[1]} along that axis",
                    found=f"input {x}",
                    hint=_TOO_SMALL,
                )
            out.append(conv_out(size, k, s, pad, d))
        return TensorType(tuple(out), x.dtype)

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        channels = static(inputs[0].shape[1], "input channels")
        shapes: dict[str, Shape] = {"weight": (self.out_channels, channels // self.groups, *self.kernel)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        per_position = sum(numel(s) for s in self.params(inputs).values())
        positions = math.prod(static(d, "size") for d in output.shape[2:])
        return per_position * positions * batch(output)


@register
class Conv(_ConvBase):
    __doc__ = _ConvBase.__doc__
    op_name = "conv"
    spatial = 2


@register
class Conv1d(_ConvBase):
    __doc__ = _ConvBase.__doc__
    op_name = "conv1d"
    spatial = 1


def _rank_hint(op_name: str, rank: int) -> str | None:
    """What to do when a convolution gets an input of the wrong rank."""
    fitting = {3: "conv1d", 4: "conv"}.get(rank)
    if fitting is not None and fitting != op_name:
        return f"a {rank}-D input takes '{fitting}'"
    if rank == 2:
        return "a [N, F] input comes from flatten or linear: put the convolutions before them"
    return None
