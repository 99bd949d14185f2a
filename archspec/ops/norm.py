"""Normalisation: ``batchnorm``, ``layernorm``, ``lrn`` (local response norm).

MACs follow torchinfo, which counts each learnable element once per sample:
``N * (weight.numel + bias.numel)`` for batchnorm and layernorm, 0 for lrn.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, ShapeError, batch, expect_rank, numel, register, static

PositiveFloat = Annotated[float, Field(gt=0)]


@register
class BatchNorm(Op):
    """Batch normalisation over the channel axis 1 of [N, C] or [N, C, *S].

    Train mode normalises with the batch mean and the biased batch variance, and
    updates the running statistics as ``running = (1 - update_rate) * running +
    update_rate * batch_stat`` using the *unbiased* batch variance (as PyTorch and
    Caffe do). ``update_rate`` is PyTorch's ``momentum`` (0.1) and one minus Flax's
    ``momentum`` (0.9); it is named so neither reading is possible. Eval mode uses
    the running statistics.

    Arguments: ``eps`` (1e-5), ``update_rate`` (0.1), ``affine`` (true: learnable
    ``weight`` and ``bias``). Buffers: ``running_mean``, ``running_var``.
    """

    reads_channels = True

    op_name = "batchnorm"
    misnamed: ClassVar[dict[str, str]] = {
        "momentum": "'momentum' means opposite things in PyTorch and Flax; archspec calls it "
        "update_rate (PyTorch momentum=0.1 is update_rate=0.1, Flax momentum=0.9 is update_rate=0.1)",
    }

    eps: PositiveFloat = 1e-5
    update_rate: Annotated[float, Field(gt=0, le=1)] = 0.1
    affine: bool = True

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (2, 3, 4, 5), "[N, C] or [N, C, ...]")
        static(x.shape[1], "batchnorm channels")
        return x

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        c = static(inputs[0].shape[1], "channels")
        return {"weight": (c,), "bias": (c,)} if self.affine else {}

    def buffers(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        c = static(inputs[0].shape[1], "channels")
        return {"running_mean": (c,), "running_var": (c,)}

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        return batch(output) * sum(numel(s) for s in self.params(inputs).values())


@register
class LayerNorm(Op):
    """Layer normalisation over the last ``dims`` axes, or over one ``axis``.

    ``layernorm`` (no axes given) normalises the last axis: the features of [N, F] or
    [N, T, F], or the channels of a feature map that ``permute`` made channels-last
    ([N, H, W, C], torchvision's ConvNeXt blocks). On [N, C, H, W] that axis is the width,
    which would tie the weight to the input's size, so the bare form is refused there: say
    ``layernorm(axis=1)`` for the channels at each position (ConvNeXt's LayerNorm2d, weight
    [C]) or ``layernorm(1)`` for the width itself.

    Arguments: ``dims`` (the last 1 when neither it nor ``axis`` is given), ``eps``
    (1e-5), ``affine`` (true), ``axis`` (one axis >= 1 of the channels-first input;
    excludes ``dims``). Weight and bias are shaped as the normalised axes. Uses the
    biased variance.
    """

    op_name = "layernorm"

    dims: Annotated[int, Field(gt=0)] | None = None
    eps: PositiveFloat = 1e-5
    affine: bool = True
    axis: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one_way_to_name_the_axes(self) -> LayerNorm:
        if self.dims is not None and self.axis is not None:
            raise ValueError("give dims (the last axes) or axis (one axis), not both")
        return self

    def normalised_axes(self, rank: int) -> tuple[int, ...]:
        """The normalised axes of a rank-``rank`` input, in increasing order (after :meth:`infer`)."""
        if self.axis is not None:
            return (self.axis,)
        dims = 1 if self.dims is None else self.dims
        return tuple(range(rank - dims, rank))

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if self.axis is not None and self.axis >= x.rank:
            raise ShapeError(
                f"layernorm over axis {self.axis} needs more axes",
                expected=f"more than {self.axis}-D",
                found=str(x),
                attr="axis",
            )
        if self.axis is None and self.dims is None and x.rank >= 4 and not x.features_last:
            raise ShapeError(
                "layernorm with no axes normalises the last one, here a spatial axis: "
                "its weight would be tied to the input's size",
                expected="[N, F], [N, T, F], a feature map permuted channels-last, or the axes said explicitly",
                found=str(x),
                hint="to normalise the channels at each position (ConvNeXt's LayerNorm2d), "
                "write layernorm(axis=1); to normalise the last axes anyway, layernorm(dims=1)",
            )
        dims = len(self.normalised_axes(x.rank))
        if self.axis is None and x.rank <= dims:
            raise ShapeError(
                f"layernorm over the last {dims} axes needs a batch axis in front",
                expected=f"at least {dims + 1}-D",
                found=str(x),
            )
        for axis in self.normalised_axes(x.rank):
            static(x.shape[axis], "normalised axis")
        return x

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        if not self.affine:
            return {}
        x = inputs[0]
        shape = tuple(static(x.shape[axis], "axis") for axis in self.normalised_axes(x.rank))
        return {"weight": shape, "bias": shape}

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        return batch(output) * sum(numel(s) for s in self.params(inputs).values())


@register
class LocalResponseNorm(Op):
    """Local response normalisation across channels (AlexNet), as ``torch.nn.LocalResponseNorm``.

    ``b_c = a_c / (k + alpha / size * sum_{c' near c} a_c'^2) ** beta``, the window of
    ``size`` channels centred on c (zero-padded). Arguments: ``size``, ``alpha`` (1e-4),
    ``beta`` (0.75), ``k`` (1.0).
    """

    reads_channels = True

    op_name = "lrn"

    size: Annotated[int, Field(gt=0)]
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (3, 4, 5), "[N, C, ...]")
        return x
