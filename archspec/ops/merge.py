"""Merges of several inputs: ``concat``, ``add`` and ``mul``. All count 0 MACs.

In a spec they usually appear as composites (``concat: [branch, ...]``), which run
each branch on the same input and merge the results with these ops.
"""

from __future__ import annotations

from archspec.ir import Dim, Shape, TensorType
from archspec.ops._base import Op, ShapeError, register, same_dtype, static


@register
class Concat(Op):
    """Join inputs along ``axis`` (1: channels); every other axis must match."""

    op_name = "concat"
    arity = None

    axis: int = 1

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        first = inputs[0]
        axis = self.axis % first.rank if -first.rank <= self.axis < first.rank else None
        if axis is None:
            raise ShapeError(
                f"concat axis {self.axis} is out of range for {first.rank}-D inputs",
                expected=f"an axis from {-first.rank} to {first.rank - 1}",
                found=str(first),
                attr="axis",
            )
        for i, x in enumerate(inputs[1:], start=2):
            same = x.rank == first.rank and all(
                a == b for j, (a, b) in enumerate(zip(x.shape, first.shape, strict=True)) if j != axis
            )
            if not same:
                raise ShapeError(
                    f"concat inputs differ outside axis {axis}: input {i} is {x}, input 1 is {first}",
                    expected=f"{first} (any size on axis {axis})",
                    found=str(x),
                    notes=tuple(f"input {k}: {t}" for k, t in enumerate(inputs, start=1)),
                )
        total = sum(static(x.shape[axis], "concat axis") for x in inputs)
        shape = list(first.shape)
        shape[axis] = total
        return TensorType(tuple(shape), same_dtype(self, inputs))


@register
class Add(Op):
    """Element-wise sum of inputs of identical shape (residual connections)."""

    op_name = "add"
    arity = None

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        first = inputs[0]
        for i, x in enumerate(inputs[1:], start=2):
            if x.shape != first.shape:
                raise ShapeError(
                    f"add inputs must have the same shape: input {i} is {x}, input 1 is {first}",
                    expected=str(first),
                    found=str(x),
                    notes=tuple(f"input {k}: {t}" for k, t in enumerate(inputs, start=1)),
                    hint="a residual branch that changes channels or stride needs a projection shortcut",
                )
        return TensorType(first.shape, same_dtype(self, inputs))


@register
class Mul(Op):
    """Element-wise product of inputs of one rank whose axes match or are 1 (gates).

    A size-1 axis stretches to the other inputs' size, as in NumPy and PyTorch, so a
    squeeze-and-excitation gate ``[N, C, 1, 1]`` scales each channel of ``[N, C, H, W]``;
    the output has the broadcast shape. Inputs of different ranks are refused: NumPy would
    align their last axes, which are not the same axes once a backend reorders them
    channels-last.
    """

    op_name = "mul"
    arity = None

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        shape = inputs[0].shape
        for i, x in enumerate(inputs[1:], start=2):
            broadcast = _broadcast(shape, x.shape)
            if broadcast is None:
                before = "input 1 is" if i == 2 else f"inputs 1 to {i - 1} broadcast to"
                raise ShapeError(
                    f"mul inputs do not broadcast: input {i} is {x}, {before} {TensorType(shape)}",
                    expected=f"a {len(shape)}-D shape whose axes match {TensorType(shape)} or are 1 on one side",
                    found=str(x),
                    notes=tuple(f"input {k}: {t}" for k, t in enumerate(inputs, start=1)),
                    hint="a gate keeps the batch and channel axes and pools the rest to 1, "
                    "e.g. global_avgpool -> conv(c, 1) -> sigmoid over [N, c, H, W]",
                )
            shape = broadcast
        return TensorType(shape, same_dtype(self, inputs))


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    """The shape both ``a`` and ``b`` stretch to along their size-1 axes, or None."""
    if len(a) != len(b):
        return None
    out: list[Dim] = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(out)
