"""``linear``: a fully connected layer on [N, in_features].

MACs follow torchinfo: ``N * (weight.numel + bias.numel)``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, batch, expect_rank, numel, register, static


@register
class Linear(Op):
    """y = x Wᵀ + b: input [N, in_features], weight [out_features, in_features], output [N, out_features].

    Arguments: ``out_features``, ``bias`` (true).
    """

    op_name = "linear"

    out_features: Annotated[int, Field(gt=0)]
    bias: bool = True

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(
            self,
            x,
            (2,),
            "[N, features]",
            hint="insert 'flatten' before 'linear'" if x.rank > 2 else None,
        )
        static(x.shape[1], "linear input features")
        return TensorType((x.shape[0], self.out_features), x.dtype)

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        features = static(inputs[0].shape[1], "input features")
        shapes: dict[str, Shape] = {"weight": (self.out_features, features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        return batch(output) * sum(numel(s) for s in self.params(inputs).values())
