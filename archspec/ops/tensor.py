"""Layout and pass-through ops: ``flatten``, ``channel_shuffle``, ``chunk``, ``dropout``, ``drop_path``,
``identity``. All count 0 MACs."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, model_validator

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
class Chunk(Op):
    """Part ``index`` of ``chunks`` equal parts of the input along ``axis`` (1: channels), as
    PyTorch's ``x.chunk(chunks, dim=axis)[index]``: [N, C, H, W] → [N, C / chunks, H, W].

    ShuffleNetV2's unit splits its channels in two this way, passing one half through and
    convolving the other: in a ``dag``, one node per part (``x1: {in: [input], do: chunk(2, 0)}``).
    The parts are equal, so ``chunks`` must divide the axis's size: ``torch.chunk`` would make
    the last part smaller, which no other framework's split does the same way.
    Arguments: ``chunks``; ``index``, from 0 to ``chunks - 1``; ``axis`` (negative counts from the end).
    """

    op_name = "chunk"

    chunks: Annotated[int, Field(ge=1)]
    index: Annotated[int, Field(ge=0)]
    axis: int = 1

    @model_validator(mode="after")
    def _index_names_a_chunk(self) -> Chunk:
        if self.index >= self.chunks:
            last = self.chunks - 1
            raise ValueError(
                f"index {self.index} is past the last of {self.chunks} chunks, which are numbered 0 to {last}"
            )
        return self

    def channels(self, given: str) -> str | None:
        return f"{given} // {self.chunks}" if self.axis == 1 else None

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if not -x.rank <= self.axis < x.rank:
            raise ShapeError(
                f"chunk axis {self.axis} is out of range for a {x.rank}-D input",
                expected=f"an axis from {-x.rank} to {x.rank - 1}",
                found=str(x),
                attr="axis",
            )
        axis = self.axis % x.rank
        size = static(x.shape[axis], "the chunked axis")
        if size % self.chunks:
            raise ShapeError(
                f"chunk splits axis {axis} into {self.chunks} equal parts, "
                f"but {self.chunks} does not divide its size {size}",
                expected=f"a number of chunks that divides {size}",
                found=f"{self.chunks} chunks of {x}",
                attr="chunks",
                hint=f"the parts are always equal (torch.chunk's shorter last part has no match in other "
                f"frameworks): make the axis a multiple of {self.chunks}, or take a number of chunks "
                f"that divides {size}",
            )
        shape = list(x.shape)
        shape[axis] = size // self.chunks
        return TensorType(tuple(shape), x.dtype)


@register
class Dropout(Op):
    """Zero each element with probability ``p`` in train mode (scaling the rest by 1/(1-p)); identity in eval."""

    op_name = "dropout"

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
