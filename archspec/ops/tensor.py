"""Layout and pass-through ops: ``flatten``, ``channel_shuffle``, ``dropout``, ``drop_path``, ``identity``.
All count 0 MACs."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from archspec.ir import TensorType
from archspec.ops._base import Op, ShapeError, register, static


@register
class Flatten(Op):
    """Collapse axes ``start_dim``.. into one, in NCHW (row-major) order: [N, C, H, W] → [N, C*H*W]."""

    op_name = "flatten"

    start_dim: Annotated[int, Field(ge=1)] = 1

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if self.start_dim >= x.rank:
            raise ShapeError(
                f"flatten from axis {self.start_dim} needs more axes",
                expected=f"more than {self.start_dim}-D",
                found=str(x),
                attr="start_dim",
            )
        tail = math.prod(static(d, "flattened axis") for d in x.shape[self.start_dim :])
        return TensorType((*x.shape[: self.start_dim], tail), x.dtype)


@register
class ChannelShuffle(Op):
    """ShuffleNet's channel shuffle of [N, C, *S]: the channels, seen as ``groups`` rows of
    C / groups, are read column by column (torch's ``nn.ChannelShuffle``, torchvision's
    ``channel_shuffle``: reshape to [N, groups, C / groups, *S], swap those two axes, reshape back).
    Arguments: ``groups``, which must divide C."""

    op_name = "channel_shuffle"

    groups: Annotated[int, Field(ge=1)]

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if x.rank < 3:
            raise ShapeError(
                "channel_shuffle shuffles the channels of a feature map",
                expected="[N, C, ...], at least 3-D",
                found=str(x),
            )
        channels = static(x.shape[1], "channel_shuffle channels")
        if channels % self.groups:
            raise ShapeError(
                f"channel_shuffle groups must divide the channels, but {self.groups} does not divide {channels}",
                expected=f"a divisor of {channels}",
                found=str(self.groups),
                attr="groups",
            )
        return x


@register
class Dropout(Op):
    """Zero each element with probability ``p`` in train mode (scaling the rest by 1/(1-p)); identity in eval."""

    op_name = "dropout"
    shape_neutral = frozenset({"p"})

    p: Annotated[float, Field(ge=0, lt=1)] = 0.5

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        return inputs[0]


@register
class DropPath(Op):
    """Stochastic depth (torchvision's ``StochasticDepth(p, mode="row")``): in train mode, zero each
    whole sample with probability ``p`` and scale the kept ones by 1/(1-p); identity in eval.

    Written on a residual branch, it drops the branch for some samples, which then take the
    shortcut alone. The shape of [N, ...] is kept. The backends draw from their own random
    streams (torch's generator, Flax's ``dropout`` RNG stream), so train-mode outputs agree
    between frameworks only at p=0; parity in train mode sets p to 0 (``archspec.parity``).
    """

    op_name = "drop_path"
    shape_neutral = frozenset({"p"})

    p: Annotated[float, Field(ge=0, lt=1)]

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if x.rank < 2:
            raise ShapeError(
                "drop_path drops whole samples and needs a batch axis in front",
                expected="[N, ...], at least 2-D",
                found=str(x),
            )
        return x


@register
class Identity(Op):
    """Pass the input through (the shortcut of a residual block)."""

    op_name = "identity"

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        return inputs[0]
