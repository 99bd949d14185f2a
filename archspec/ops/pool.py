"""Pooling: ``maxpool``, ``avgpool`` (2-D) and their 1-D forms, global and adaptive pools.

Semantics are PyTorch's, stated explicitly so every backend matches them: max
pooling pads with -inf; average pooling divides by the window including padding
unless ``count_include_pad=false``; ``ceil_mode`` lets the last window start
inside the input or the left padding (never only in the right padding). Windows
default to ``stride = kernel``. Pools count 0 MACs (torchinfo counts none).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from archspec.ir import TensorType
from archspec.ops._base import Op, ShapeError, expect_rank, register, static
from archspec.ops._window import Pad, PositiveInt, padding_pairs, window_count


class _WindowPool(Op):
    """Sliding-window pooling over the last ``spatial`` axes of [N, C, *S].

    Validated, ``stride`` is always set (the kernel's by default) and ``padding`` is one
    ``(lo, hi)`` pair per spatial axis, both ends alike, as for convolutions.
    """

    reads_channels = True

    spatial_fields = ("kernel", "stride", "dilation")

    kernel: tuple[PositiveInt, ...]
    stride: tuple[PositiveInt, ...]  # the kernel when not given (see _stride_defaults_to_kernel)
    padding: tuple[Pad, ...] = Field(
        default=0, validate_default=True, description="an int >= 0, or one per spatial dim (both ends of it)"
    )
    dilation: tuple[PositiveInt, ...] = (1,)
    ceil_mode: bool = False

    @model_validator(mode="before")
    @classmethod
    def _stride_defaults_to_kernel(cls, data: Any) -> Any:
        """Windows side by side unless the spec says otherwise, as in PyTorch (a missing kernel is
        reported as missing; no stride is made up from it)."""
        if isinstance(data, dict) and data.get("stride") is None and "kernel" in data:
            return {**data, "stride": data["kernel"]}
        return data

    @field_validator("padding", mode="before")
    @classmethod
    def _padding_pairs(cls, value: object) -> object:
        return padding_pairs(value, cls.spatial)

    @model_validator(mode="after")
    def _check(self) -> _WindowPool:
        n = self.spatial
        for name in ("kernel", "stride", "padding", "dilation"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} needs {n} value{'s' if n > 1 else ''} (one per spatial dim)")
        for k, (lo, hi) in zip(self.kernel, self.padding, strict=True):
            if lo != hi:
                raise ValueError(
                    f"padding [{lo}, {hi}] differs at the two ends; pools pad both ends alike (as PyTorch)"
                )
            if lo > k // 2:
                raise ValueError(f"padding {lo} is more than half the kernel {k} (PyTorch refuses it)")
        return self

    @property
    def padding_each_end(self) -> tuple[int, ...]:
        """The padding at either end of each spatial axis (pools pad both ends alike)."""
        return tuple(lo for lo, _ in self.padding)

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        n = self.spatial
        expect_rank(self, x, (n + 2,), "[N, C, H, W]" if n == 2 else "[N, C, L]")
        out: list[int | str] = list(x.shape[:2])
        for axis, (size, k, s, pad, d) in enumerate(
            zip(x.shape[2:], self.kernel, self.stride, self.padding, self.dilation, strict=True)
        ):
            size = static(size, "spatial size")
            span = d * (k - 1) + 1
            length = window_count(size, k, s, pad, d, self.ceil_mode)
            if length < 1:  # as in PyTorch, ceil_mode lets a window overhang the padded input by < stride
                overhang = s - 1 if self.ceil_mode else 0
                raise ShapeError(
                    f"{self.op_name} window ({span}) is larger than its padded input along axis {axis + 2} "
                    f"({size} + padding {pad[0]}+{pad[1]})",
                    expected=f"an input of at least {span - pad[0] - pad[1] - overhang} along that axis",
                    found=f"input {x}",
                    hint="the input is too small here: give a larger input, or fewer strides and pools before it",
                )
            out.append(length)
        return TensorType(tuple(out), x.dtype)


class _MaxPool(_WindowPool):
    """Max over each window; padding counts as -inf. Arguments: ``kernel``, ``stride`` (=kernel),
    ``padding`` (0), ``dilation`` (1), ``ceil_mode`` (false)."""


class _AvgPool(_WindowPool):
    """Mean over each window. Arguments: ``kernel``, ``stride`` (=kernel), ``padding`` (0),
    ``ceil_mode`` (false), ``count_include_pad`` (true: divide by the full window size)."""

    dilation: tuple[PositiveInt, ...] = (1,)  # always 1 per dim; not an argument (see positional)
    count_include_pad: bool = True

    @classmethod
    def positional(cls) -> tuple[str, ...]:
        """PyTorch's order: kernel, stride, padding, ceil_mode, count_include_pad."""
        return tuple(name for name in cls.model_fields if name != "dilation")

    @model_validator(mode="after")
    def _no_dilation(self) -> _AvgPool:
        if any(d != 1 for d in self.dilation):
            raise ValueError("average pooling has no dilation")
        return self


@register
class MaxPool(_MaxPool):
    __doc__ = _MaxPool.__doc__
    op_name = "maxpool"
    spatial = 2


@register
class MaxPool1d(_MaxPool):
    __doc__ = _MaxPool.__doc__
    op_name = "maxpool1d"
    spatial = 1


@register
class AvgPool(_AvgPool):
    __doc__ = _AvgPool.__doc__
    op_name = "avgpool"
    spatial = 2


@register
class AvgPool1d(_AvgPool):
    __doc__ = _AvgPool.__doc__
    op_name = "avgpool1d"
    spatial = 1


class _GlobalPool(Op):
    reads_channels = True

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (3, 4, 5), "[N, C, ...]")
        return TensorType((*x.shape[:2], *(1,) * (x.rank - 2)), x.dtype)


@register
class GlobalAvgPool(_GlobalPool):
    """Mean over all spatial axes, keeping them as size 1: [N, C, H, W] → [N, C, 1, 1]."""

    op_name = "global_avgpool"


@register
class GlobalMaxPool(_GlobalPool):
    """Max over all spatial axes, keeping them as size 1: [N, C, H, W] → [N, C, 1, 1]."""

    op_name = "global_maxpool"


@register
class AdaptiveAvgPool(Op):
    """Average pooling to a fixed ``output_size`` (int or [h, w]), windows as in PyTorch:
    output cell i covers input rows floor(i*H/h) .. ceil((i+1)*H/h)."""

    reads_channels = True

    op_name = "adaptive_avgpool"
    spatial = 2
    spatial_fields = ("output_size",)

    output_size: tuple[PositiveInt, ...]

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (4,), "[N, C, H, W]")
        if len(self.output_size) != 2:
            raise ShapeError(
                "adaptive_avgpool output_size needs 2 values", found=str(list(self.output_size)), attr="output_size"
            )
        for d in x.shape[2:]:
            static(d, "spatial size")
        return TensorType((*x.shape[:2], *self.output_size), x.dtype)
