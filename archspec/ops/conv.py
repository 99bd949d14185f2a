"""Convolutions: ``conv`` (2-D, NCHW), ``conv1d`` (NCL) and ``conv_transpose`` (2-D, NCHW).

MACs follow torchinfo's "mult-adds": every weight and bias element is used once
per output position, so ``macs = (weight.numel + bias.numel) * N * prod(out_spatial)``
(for a transposed convolution too, as torchinfo counts it, although each weight meets
only the input's positions).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, ValidatorFunctionWrapHandler, field_validator, model_validator

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, ShapeError, batch, expect_rank, numel, register, static
from archspec.ops._window import (
    NonNegativeInt,
    Pad,
    PositiveInt,
    padding_pairs,
    same_padding,
    symmetric_padding,
    window_count,
)

_TOO_SMALL = "the input is too small here: give a larger input, or fewer strides and pools before it"


class _ConvBase(Op):
    """Convolution over ``spatial`` dims: input [N, C_in, *S], weight [C_out, C_in/groups, *K].

    Arguments: ``out_channels``, ``kernel`` (int or one per dim, e.g. ``[1, 3]``),
    ``stride`` (1), ``padding`` (0; an int, one per dim, ``[lo, hi]`` pairs per dim,
    ``'same'`` for stride 1, or ``'valid'``), ``dilation`` (1), ``groups`` (1; equal to
    the input channels for a depthwise conv), ``bias`` (true). Validated, ``padding`` is one
    ``(lo, hi)`` pair per spatial dim whichever form the spec used.
    """

    reads_channels = True

    spatial_fields = ("kernel", "stride", "dilation")

    out_channels: PositiveInt
    kernel: tuple[PositiveInt, ...]
    stride: tuple[PositiveInt, ...] = (1,)
    padding: tuple[Pad, ...] = Field(
        default=0,
        validate_default=True,
        description="an int >= 0, one per spatial dim, a [lo, hi] pair per dim, 'same' (stride 1) or 'valid'",
    )
    dilation: tuple[PositiveInt, ...] = (1,)
    groups: PositiveInt = 1
    bias: bool = True

    @field_validator("padding", mode="before")
    @classmethod
    def _padding_pairs(cls, value: object) -> object:
        return padding_pairs(0 if value == "valid" else value, cls.spatial)

    @model_validator(mode="after")
    def _check(self) -> _ConvBase:
        n = self.spatial
        for name in ("kernel", "stride", "dilation", "padding"):
            value = getattr(self, name)
            if len(value) != n:
                pairs = "; [lo, hi] pairs are written one per dim: [[lo, hi], ...]" if name == "padding" else ""
                raise ValueError(
                    f"{name} needs {n} value{'s' if n > 1 else ''} (one per spatial dim), got {len(value)}{pairs}"
                )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _resolve_same(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> _ConvBase:
        """``padding='same'`` depends on the kernel and dilation: validate them, then store the pairs.

        Declared after ``_check`` so that ``handler`` runs it: a kernel of the wrong length is
        reported as such before any padding is worked out from it.
        """
        if not (isinstance(data, dict) and data.get("padding") == "same"):
            return handler(data)
        unpadded: _ConvBase = handler({**data, "padding": 0})
        if any(s != 1 for s in unpadded.stride):
            raise ValueError("padding='same' needs stride 1 (as in PyTorch); give explicit padding")
        return handler({**data, "padding": same_padding(unpadded.kernel, unpadded.dilation)})

    @property
    def padding_each_end(self) -> tuple[int, ...] | None:
        """The padding at either end of each spatial axis when every axis is padded alike at both
        ends (PyTorch's ``padding=1``); None when some axis is not (``'same'`` with an even kernel)."""
        return symmetric_padding(self.padding)

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        n = self.spatial
        layout = "[N, C, H, W]" if n == 2 else "[N, C, L]"
        expect_rank(self, x, (n + 2,), layout, hint=_rank_hint(self.op_name, x.rank))
        _check_groups(self.op_name, x, self.groups, self.out_channels)
        out: list[int | str] = [x.shape[0], self.out_channels]
        for axis, (size, k, s, pad, d) in enumerate(
            zip(x.shape[2:], self.kernel, self.stride, self.padding, self.dilation, strict=True)
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
            out.append(window_count(size, k, s, pad, d, ceil_mode=False))
        return TensorType(tuple(out), x.dtype)

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        channels = static(inputs[0].shape[1], "input channels")
        shapes: dict[str, Shape] = {"weight": (self.out_channels, channels // self.groups, *self.kernel)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        return _macs(self.params(inputs), output)


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


@register
class ConvTranspose(Op):
    """Transposed convolution (the gradient of ``conv`` with respect to its input), as PyTorch's
    ``ConvTranspose2d``: input [N, C_in, H, W], weight [C_in, C_out/groups, kH, kW].

    Arguments: ``out_channels``, ``kernel`` (int or one per dim), ``stride`` (1: the spacing of the
    input's cells in the output), ``padding`` (0: cells cropped from both ends of each axis),
    ``output_padding`` (0: cells added at the high end, to reach a size a stride leaves
    ambiguous; smaller than the stride or the dilation), ``groups`` (1), ``dilation`` (1),
    ``bias`` (true). Each spatial size becomes
    ``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.
    """

    reads_channels = True

    op_name = "conv_transpose"
    spatial = 2
    spatial_fields = ("kernel", "stride", "padding", "output_padding", "dilation")

    out_channels: PositiveInt
    kernel: tuple[PositiveInt, ...]
    stride: tuple[PositiveInt, ...] = (1,)
    padding: tuple[NonNegativeInt, ...] = (0,)
    output_padding: tuple[NonNegativeInt, ...] = (0,)
    groups: PositiveInt = 1
    dilation: tuple[PositiveInt, ...] = (1,)
    bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> ConvTranspose:
        for name in self.spatial_fields:
            count = len(getattr(self, name))
            if count != self.spatial:
                raise ValueError(f"{name} needs {self.spatial} values (one per spatial dim), got {count}")
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if extra >= max(s, d):
                raise ValueError(
                    f"output_padding {extra} must be smaller than the stride ({s}) or the dilation ({d}) "
                    "along its axis, as PyTorch requires"
                )
        return self

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (self.spatial + 2,), "[N, C, H, W]")
        _check_groups(self.op_name, x, self.groups, self.out_channels)
        out: list[int | str] = [x.shape[0], self.out_channels]
        for axis, (size, k, s, p, extra, d) in enumerate(
            zip(x.shape[2:], self.kernel, self.stride, self.padding, self.output_padding, self.dilation, strict=True)
        ):
            size = static(size, "spatial size")
            full = (size - 1) * s + d * (k - 1) + extra + 1
            if full - 2 * p < 1:
                raise ShapeError(
                    f"conv_transpose padding {p} crops all {full} cells along axis {axis + 2}",
                    expected=f"padding below {(full + 1) // 2} along that axis",
                    found=f"input {x}",
                    hint="padding crops the output at both ends: give less padding, or a larger input",
                    attr="padding",
                )
            out.append(full - 2 * p)
        return TensorType(tuple(out), x.dtype)

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        channels = static(inputs[0].shape[1], "input channels")
        shapes: dict[str, Shape] = {"weight": (channels, self.out_channels // self.groups, *self.kernel)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        return _macs(self.params(inputs), output)


def _macs(params: dict[str, Shape], output: TensorType) -> int:
    """torchinfo's mult-adds of a convolution: each parameter element once per output position."""
    positions = math.prod(static(d, "size") for d in output.shape[2:])
    return sum(numel(s) for s in params.values()) * positions * batch(output)


def _rank_hint(op_name: str, rank: int) -> str | None:
    """What to do when a convolution gets an input of the wrong rank."""
    fitting = {3: "conv1d", 4: "conv"}.get(rank)
    if fitting is not None and fitting != op_name:
        return f"a {rank}-D input takes '{fitting}'"
    if rank == 2:
        return "a [N, F] input comes from flatten or linear: put the convolutions before them"
    return None


def _check_groups(op_name: str, x: TensorType, groups: int, out_channels: int) -> None:
    """A convolution's ``groups`` must divide both its input and its output channels."""
    channels = static(x.shape[1], f"{op_name} input channels")
    if channels % groups or out_channels % groups:
        raise ShapeError(
            f"groups={groups} must divide the input channels ({channels}) and out_channels ({out_channels})",
            found=f"input {x}",
            attr="groups",
        )
