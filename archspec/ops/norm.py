"""Normalisation: ``batchnorm``, ``layernorm``, ``lrn`` (local response norm).

MACs follow torchinfo, which counts each learnable element once per sample:
``N * (weight.numel + bias.numel)`` for batchnorm and layernorm, 0 for lrn.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

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

    op_name = "batchnorm"
    shape_neutral = frozenset({"eps", "update_rate", "affine"})
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
    """Layer normalisation over the last ``dims`` axes (1: the feature axis of [N, F]).

    Arguments: ``dims`` (1), ``eps`` (1e-5), ``affine`` (true). Uses the biased variance.
    """

    op_name = "layernorm"
    shape_neutral = frozenset({"eps", "affine"})

    dims: Annotated[int, Field(gt=0)] = 1
    eps: PositiveFloat = 1e-5
    affine: bool = True

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if x.rank <= self.dims:
            raise ShapeError(
                f"layernorm over the last {self.dims} axes needs a batch axis in front",
                expected=f"at least {self.dims + 1}-D",
                found=str(x),
            )
        for d in x.shape[-self.dims :]:
            static(d, "normalised axis")
        return x

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        if not self.affine:
            return {}
        shape = tuple(static(d, "axis") for d in inputs[0].shape[-self.dims :])
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

    op_name = "lrn"
    shape_neutral = frozenset({"size", "alpha", "beta", "k"})

    size: Annotated[int, Field(gt=0)]
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (3, 4, 5), "[N, C, ...]")
        return x
