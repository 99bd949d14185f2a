"""Element-wise activations and ``softmax``. All keep the input type and count 0 MACs."""

from __future__ import annotations

from typing import Literal

from archspec.ir import TensorType
from archspec.ops._base import Op, ShapeError, register


class _Elementwise(Op):
    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        return inputs[0]


@register
class Relu(_Elementwise):
    """max(x, 0)."""

    op_name = "relu"


@register
class Relu6(_Elementwise):
    """min(max(x, 0), 6) (MobileNet)."""

    op_name = "relu6"


@register
class LeakyRelu(_Elementwise):
    """x if x > 0 else negative_slope * x. Arguments: ``negative_slope`` (0.01)."""

    op_name = "leaky_relu"

    negative_slope: float = 0.01


@register
class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x))."""

    op_name = "sigmoid"


@register
class Tanh(_Elementwise):
    """tanh(x)."""

    op_name = "tanh"


@register
class Gelu(_Elementwise):
    """x * Φ(x); ``approximate='tanh'`` uses the tanh approximation (default 'none': exact erf)."""

    op_name = "gelu"

    approximate: Literal["none", "tanh"] = "none"


@register
class Silu(_Elementwise):
    """x * sigmoid(x) (swish)."""

    op_name = "silu"


@register
class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (MobileNetV3's gates)."""

    op_name = "hardsigmoid"


@register
class Hardswish(_Elementwise):
    """x * relu6(x + 3) / 6: 0 below -3, x above 3 (MobileNetV3)."""

    op_name = "hardswish"


@register
class Softmax(Op):
    """exp(x) / sum(exp(x)) along ``axis`` (1: channels/features of NCHW or [N, F])."""

    op_name = "softmax"

    axis: int = 1

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if not -x.rank <= self.axis < x.rank:
            raise ShapeError(
                f"softmax axis {self.axis} is out of range for a {x.rank}-D input",
                expected=f"an axis from {-x.rank} to {x.rank - 1}",
                found=f"input {x}",
                attr="axis",
            )
        return x
