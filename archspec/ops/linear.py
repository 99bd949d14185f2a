"""``linear``: a fully connected layer on the last axis, as ``torch.nn.Linear``.

MACs count each weight and bias element once per position the layer is applied at: once per
sample on [N, F] (torchinfo's count), once per token on [N, T, F]. A symbolic size counts as 1,
as a symbolic batch does: MACs per sample, and per token where the sequence length is a symbol.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, ShapeError, Tie, batch, numel, register, static


@register
class Linear(Op):
    """y = x Wᵀ + b over the last axis: input [N, ..., in_features], weight [out_features,
    in_features], output [N, ..., out_features]: [N, F] vectors, [N, T, F] token sequences, and
    feature maps that ``permute`` made channels-last ([N, H, W, C]).

    On a channels-first feature map ([N, C, H, W]) the last axis is the width, which would size
    the weight by the input: that is refused, pointing at ``flatten`` and ``permute``.

    ``tie`` names an earlier step whose ``weight`` this one multiplies by instead of owning one:
    ``linear(vocab, bias=false, tie="transformer.wte")`` is GPT-2's output projection, its weight
    the token embedding's table [vocab, width] (counted once, saved once, under the embedding's
    name, and one tensor in every backend, so training keeps the two equal).

    Arguments: ``out_features``, ``bias`` (true), ``tie`` (none).
    """

    op_name = "linear"
    keyword_only = ("tie",)

    out_features: Annotated[int, Field(gt=0)]
    bias: bool = True
    tie: str | None = None

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if x.rank < 2:
            raise ShapeError(
                "linear needs a batch axis in front of its features",
                expected="[N, features] or [N, ..., features]",
                found=str(x),
            )
        if x.rank >= 4 and not x.features_last:
            raise ShapeError(
                "linear acts on the last axis, here the width of a feature map, which would size its weight",
                expected="[N, features], [N, T, features], or a feature map permuted channels-last",
                found=str(x),
                hint="insert 'flatten' before 'linear' for a classifier; "
                "permute([0, 2, 3, 1]) first to act on the channels at each position",
            )
        static(x.shape[-1], "linear input features")
        return TensorType((*x.shape[:-1], self.out_features), x.dtype, x.features_last)

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        shapes = self._used(inputs)
        return {name: shape for name, shape in shapes.items() if name not in self.tied_params(inputs)}

    def tied_params(self, inputs: tuple[TensorType, ...]) -> dict[str, Tie]:
        if self.tie is None:
            return {}
        return {"weight": Tie(self.tie, "weight", self._used(inputs)["weight"])}

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        positions = batch(output) * math.prod(d if isinstance(d, int) else 1 for d in output.shape[1:-1])
        return positions * sum(numel(s) for s in self._used(inputs).values())  # a tied weight multiplies too

    def _used(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        """Every parameter the layer multiplies or adds by, owned or tied."""
        features = static(inputs[0].shape[-1], "input features")
        shapes: dict[str, Shape] = {"weight": (self.out_features, features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes
