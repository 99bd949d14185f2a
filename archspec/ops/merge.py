"""Merges of several inputs: ``concat`` and ``add``. Both count 0 MACs.

In a spec they usually appear as composites (``concat: [branch, ...]``), which run
each branch on the same input and merge the results with these ops.
"""

from __future__ import annotations

from archspec.ir import TensorType
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
