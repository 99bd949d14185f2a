"""Layout and pass-through ops: ``flatten``, ``permute``, ``reshape``, ``select``,
``channel_shuffle``, ``chunk``, ``patch_merge``, ``dropout``, ``drop_path``, ``identity``. All count 0 MACs.

Axes are counted as PyTorch counts them, negative ones from the end. The batch axis 0 stays
first and whole: an op that would move, merge or drop it is refused, since the batch is
usually the symbol ``N`` and every backend keeps it in front.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

from pydantic import Field, field_validator, model_validator

from archspec.ir import Dim, TensorType
from archspec.ops._base import Op, ShapeError, register, static


def _axis(op: str, attr: str, axis: int, x: TensorType) -> int:
    """``axis`` of ``x`` counted from 0, or a ShapeError at ``attr`` that says the rank."""
    if not -x.rank <= axis < x.rank:
        raise ShapeError(
            f"{op} {attr} {axis} is out of range for a {x.rank}-D input",
            expected=f"an axis from {-x.rank} to {x.rank - 1}",
            found=f"{axis}, for the input {x}",
            attr=attr,
        )
    return axis % x.rank


def _not_the_batch(op: str, attr: str, axis: int, x: TensorType, what: str) -> None:
    if axis == 0:
        raise ShapeError(
            f"{op} would {what} the batch axis 0",
            expected=f"an axis from 1 to {x.rank - 1} (or -{x.rank - 1} to -1)",
            found=f"0, for the input {x}",
            attr=attr,
        )


@register
class Flatten(Op):
    """Collapse axes ``start_dim`` to ``end_dim`` (both included) into one, in row-major order,
    as ``torch.flatten``: [N, C, H, W] → [N, C*H*W] by default, [N, C, H, W] → [N, C, H*W] with
    ``flatten(2)`` (patches as tokens, after a transpose). The batch axis is never flattened. A
    features-last input stays so when its last axis is not flattened ([N, H, W, C] → [N, H*W, C]).

    Arguments: ``start_dim`` (1), ``end_dim`` (-1, the last axis).
    """

    op_name = "flatten"
    takes_integers = True  # moves values, computes none
    misnamed: ClassVar[dict[str, str]] = {
        "start": "archspec calls it start_dim, as torch.flatten does",
        "end": "archspec calls it end_dim, as torch.flatten does",
    }

    start_dim: int = 1
    end_dim: int = -1

    def axes(self, rank: int) -> tuple[int, int]:
        """The first and last flattened axis of a rank-``rank`` input, from 0 (after :meth:`infer`)."""
        return self.start_dim % rank, self.end_dim % rank

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        start = _axis("flatten", "start_dim", self.start_dim, x)
        end = _axis("flatten", "end_dim", self.end_dim, x)
        _not_the_batch("flatten", "start_dim", start, x, "merge")
        if end < start:
            raise ShapeError(
                f"flatten's end_dim (axis {end}) comes before its start_dim (axis {start})",
                expected=f"an end_dim from {start} to {x.rank - 1}",
                found=f"{self.end_dim}, for the input {x}",
                attr="end_dim",
            )
        merged = math.prod(static(d, "flattened axis") for d in x.shape[start : end + 1])
        shape = (*x.shape[:start], merged, *x.shape[end + 1 :])
        # [N, H, W, C] -> [N, H*W, C] keeps its features last; merged into other axes they are not
        return TensorType(shape, x.dtype, _keeps_features_last(x, len(shape), end != x.rank - 1))

    def channels(self, given: str, x: TensorType) -> str | None:
        # the channels times the axes flattened into them, as torchvision's VGG writes 512 * 7 * 7
        start, end = self.axes(x.rank)
        kept = x.shape[2 : end + 1]
        if start != 1 or x.features_last or not kept or not all(isinstance(d, int) for d in kept):
            return None
        return " * ".join([given, *(str(d) for d in kept)])


@register
class Permute(Op):
    """Reorder the axes, as ``torch.permute``: output axis i is input axis ``dims[i]``.
    ``permute([0, 2, 3, 1])`` turns [N, C, H, W] channels-last ([N, H, W, C]), as torchvision's
    ConvNeXt does before its LayerNorm and Linear layers; ``permute([0, 3, 1, 2])`` turns it back;
    ``permute([0, 2, 1])`` turns [N, D, T] into tokens [N, T, D]. The batch axis stays first. The
    output is features-last when the input's features end up last (see :class:`~archspec.ir.TensorType`).

    Arguments: ``dims``, one axis per input axis (negative ones from the end).
    """

    op_name = "permute"
    takes_integers = True  # moves values, computes none

    dims: tuple[int, ...]

    @field_validator("dims", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    def order(self, rank: int) -> tuple[int, ...]:
        """``dims`` counted from 0 (after :meth:`infer`)."""
        return tuple(d % rank for d in self.dims)

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if len(self.dims) != x.rank:
            raise ShapeError(
                f"permute needs one axis per input axis: {len(self.dims)} given for a {x.rank}-D input",
                expected=f"{x.rank} axes, a reordering of 0..{x.rank - 1}",
                found=f"{list(self.dims)}, for the input {x}",
                attr="dims",
            )
        order = tuple(_axis("permute", "dims", d, x) for d in self.dims)
        if sorted(order) != list(range(x.rank)):
            repeated = sorted({a for a in order if order.count(a) > 1})
            missing = sorted(set(range(x.rank)) - set(order))
            raise ShapeError(
                f"permute's dims are not a permutation: axis {repeated[0]} is named twice "
                f"and axis {missing[0]} is missing",
                expected=f"each of 0..{x.rank - 1} once",
                found=f"{list(self.dims)}",
                attr="dims",
            )
        if order[0] != 0:
            raise ShapeError(
                "permute would move the batch axis 0 from the front",
                expected=f"dims starting with 0, e.g. {[0, *range(2, x.rank), 1]}",
                found=f"{list(self.dims)}",
                attr="dims",
            )
        # features-last where the features (axis 1, or the last one of a features-last input) end up last
        return TensorType(
            tuple(x.shape[a] for a in order), x.dtype, features_last=x.rank >= 3 and order[-1] == x.features_axis
        )


@register
class Reshape(Op):
    """Give the elements a new shape, in row-major order, as ``torch.reshape``, with ONNX
    Reshape's 0: an entry 0 keeps the input's size at that position (``reshape([0, 4, -1])``
    keeps the batch, however large; a symbolic batch must be kept so), one entry -1 takes
    whatever size makes the element counts equal, and the others are sizes. A features-last input
    stays so when the last axis keeps its size (its runs of features are then whole).

    Arguments: ``shape``, one entry per output axis.
    """

    op_name = "reshape"
    takes_integers = True  # moves values, computes none

    shape: tuple[Annotated[int, Field(ge=-1)], ...]

    @field_validator("shape", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("shape")
    @classmethod
    def _one_inferred_size(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("a reshape needs at least one entry, 0 to keep the batch")
        if value.count(-1) > 1:
            raise ValueError(f"at most one entry may be -1 (the size inferred); {list(value)} has {value.count(-1)}")
        return value

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        for i, size in enumerate(self.shape):
            if size == 0 and i >= x.rank:
                raise ShapeError(
                    f"reshape entry {i} is 0, which keeps the input's size there, but the input has {x.rank} axes",
                    expected=f"0 only at positions 0 to {x.rank - 1}",
                    found=f"{list(self.shape)}, for the input {x}",
                    attr="shape",
                )
        kept = {i for i, size in enumerate(self.shape) if size == 0}
        for i, dim in enumerate(x.shape):
            if isinstance(dim, str) and i not in kept:
                raise ShapeError(
                    f"reshape must keep the symbolic size '{dim}' of axis {i}: its value is not known here",
                    expected=f"0 at position {i} of the shape (0 keeps the input's size)",
                    found=f"{list(self.shape)}, for the input {x}",
                    attr="shape",
                    hint=f"write reshape({[0 if j == i else s for j, s in enumerate(self.shape)]})"
                    if i < len(self.shape)
                    else None,
                )
        out: list[Dim] = [x.shape[i] if size == 0 else size for i, size in enumerate(self.shape)]
        # the symbolic sizes are kept at their places on both sides: compare the rest
        elements = math.prod(d for i, d in enumerate(x.shape) if isinstance(d, int))
        known = math.prod(d for d in out if isinstance(d, int) and d != -1)
        if -1 in out:
            if elements % known:
                raise ShapeError(
                    f"reshape cannot fill its -1: the input's {_count(x.shape)} elements are not "
                    f"a whole multiple of {_count(tuple(d for d in out if d != -1))}",
                    expected=f"sizes whose product divides {elements}",
                    found=f"{list(self.shape)}, for the input {x}",
                    attr="shape",
                )
            out[out.index(-1)] = elements // known
        elif known != elements:
            raise ShapeError(
                f"reshape to {_count(tuple(out))} elements, but the input {x} holds {_count(x.shape)}",
                expected=f"sizes that multiply to {_count(x.shape)}",
                found=f"{list(self.shape)}: {_count(tuple(out))} elements",
                attr="shape",
            )
        # row-major order keeps each run along the last axis whole when its size is the same
        return TensorType(tuple(out), x.dtype, _keeps_features_last(x, len(out), out[-1] == x.shape[-1]))


def _keeps_features_last(x: TensorType, rank: int, last_axis_whole: bool) -> bool:
    """Whether a layout op's output of ``rank`` axes is features-last: its input was, and the op
    kept the input's last axis whole and last."""
    return x.features_last and rank >= 3 and last_axis_whole


def _count(shape: tuple[Dim, ...]) -> str:
    """The element count of ``shape``, with its symbols: ``N*96``, ``24``."""
    sizes = math.prod(d for d in shape if isinstance(d, int))
    return "*".join([*(d for d in shape if isinstance(d, str)), str(sizes)])


@register
class Select(Op):
    """Take one index along ``axis``, removing that axis, as ``torch.select`` (``x[:, 0]`` is
    ``select(1, 0)``: ViT's class token out of [N, T, D] is [N, D]).

    Arguments: ``axis`` (not the batch axis 0), ``index`` (negative ones from the end). The
    axis may have a symbolic size (a sequence of any length); the index is then not checked.
    """

    op_name = "select"
    takes_integers = True  # moves values, computes none

    axis: int
    index: int

    def position(self, x: TensorType) -> tuple[int, int]:
        """``axis`` counted from 0, and ``index`` too where the axis has a known size (after :meth:`infer`)."""
        axis = self.axis % x.rank
        size = x.shape[axis]
        return axis, self.index % size if isinstance(size, int) else self.index

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        axis = _axis("select", "axis", self.axis, x)
        _not_the_batch("select", "axis", axis, x, "drop")
        size = x.shape[axis]
        if isinstance(size, int) and not -size <= self.index < size:
            raise ShapeError(
                f"select index {self.index} is out of range for axis {axis} of size {size}",
                expected=f"an index from {-size} to {size - 1}",
                found=f"{self.index}, for the input {x}",
                attr="index",
            )
        shape = (*x.shape[:axis], *x.shape[axis + 1 :])
        return TensorType(shape, x.dtype, _keeps_features_last(x, len(shape), axis != x.rank - 1))


@register
class ChannelShuffle(Op):
    """ShuffleNet's channel shuffle of [N, C, *S]: the channels, seen as ``groups`` rows of
    C / groups, are read column by column (torch's ``nn.ChannelShuffle``, torchvision's
    ``channel_shuffle``: reshape to [N, groups, C / groups, *S], swap those two axes, reshape back).
    Arguments: ``groups``, which must divide C."""

    reads_channels = True

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

    def channels(self, given: str, x: TensorType) -> str | None:
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
class PatchMerge(Op):
    """Swin's patch merging gather (torchvision's ``_patch_merging_pad``): a features-last map
    [N, H, W, C], zero-padded at the bottom and right to even sizes, becomes [N, H/2, W/2, 4C],
    each position holding its 2x2 neighbourhood's channels side by side in torchvision's order:
    ``x[0::2, 0::2]``, ``x[1::2, 0::2]``, ``x[0::2, 1::2]``, ``x[1::2, 1::2]`` (the row offset
    varies fastest). torchvision's ``PatchMerging`` is this, a ``layernorm`` and a
    ``linear(2 * C, bias=false)``. It takes no arguments.
    """

    op_name = "patch_merge"

    def channels(self, given: str, x: TensorType) -> str | None:
        # the features of a features-last map, which is what a class follows there
        return f"4 * {given}"

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if x.rank != 4 or not x.features_last:
            raise ShapeError(
                "patch_merge gathers 2x2 neighbourhoods of a features-last map [N, H, W, C]",
                expected="[N, H, W, C]",
                found=f"{x}{'' if x.rank != 4 else ', channels-first'}",
                hint="move the channels last first: permute([0, 2, 3, 1])" if x.rank == 4 else None,
            )
        height, width, channels = (static(size, "patch_merge's map size") for size in x.shape[1:])
        return TensorType((x.shape[0], -(-height // 2), -(-width // 2), 4 * channels), x.dtype, features_last=True)


@register
class Dropout(Op):
    """Zero each element with probability ``p`` in train mode (scaling the rest by 1/(1-p)); identity in eval."""

    op_name = "dropout"
    random_rates = ("p",)

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
    random_rates = ("p",)

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
    takes_integers = True  # moves values, computes none

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        return inputs[0]
