"""Merges of several inputs: ``concat``, ``add`` and ``mul``. All count 0 MACs.

In a spec they usually appear as composites (``concat: [branch, ...]``), which run
each branch on the same input and merge the results with these ops.
"""

from __future__ import annotations

from archspec.ir import Dim, Shape, TensorType
from archspec.ops._base import Op, ShapeError, register, same_dtype, static


@register
class Concat(Op):
    """Join inputs along ``axis`` (1: channels); every other axis must match.

    One exception, for learnable tensors: an input whose batch axis is 1 is expanded to the
    others' batch, as torchvision's ViT writes ``class_token.expand(n, -1, -1)`` before joining
    its ``[1, 1, D]`` class token to ``[N, T, D]`` tokens on axis 1.
    """

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
        batch = self.batch(inputs)
        for i, x in enumerate(inputs[1:], start=2):
            same = x.rank == first.rank and all(
                a == b or (j == 0 and batch is not None)
                for j, (a, b) in enumerate(zip(x.shape, first.shape, strict=True))
                if j != axis
            )
            if not same:
                raise ShapeError(
                    f"concat inputs differ outside axis {axis}: input {i} is {x}, input 1 is {first}",
                    expected=f"{first} (any size on axis {axis}; a batch of 1 is expanded)",
                    found=str(x),
                    notes=tuple(f"input {k}: {t}" for k, t in enumerate(inputs, start=1)),
                )
        total = sum(static(x.shape[axis], "concat axis") for x in inputs)
        shape = list(first.shape)
        shape[axis] = total
        if batch is not None:
            shape[0] = batch
        return TensorType(tuple(shape), same_dtype(self, inputs), _features_last(inputs, len(shape)))

    def batch(self, inputs: tuple[TensorType, ...]) -> Dim | None:
        """The batch an input of batch 1 is expanded to (the others' one batch), or None when no
        input is expanded: every batch is the same, or the inputs are joined on the batch axis."""
        if self.axis % inputs[0].rank == 0:
            return None
        batches = {x.shape[0] for x in inputs}
        others = batches - {1}
        if 1 not in batches or len(others) != 1:
            return None
        return next(iter(others))


@register
class Add(Op):
    """Element-wise sum (residual connections; a learnable tensor added to tokens).

    Inputs broadcast as in NumPy and PyTorch (see :class:`Mul`): ViT's position embedding
    ``[1, T, D]`` is added to every sample of ``[N, T, D]``.
    """

    op_name = "add"
    arity = None

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        hint = "a residual branch that changes channels or stride needs a projection shortcut"
        return _broadcast_all(self, inputs, hint)


@register
class Mul(Op):
    """Element-wise product of inputs that broadcast (gates, layer scales).

    Broadcasting is NumPy's and PyTorch's: shapes are aligned on their last axes, a missing
    leading axis counts as 1, and a size-1 axis stretches to the other inputs' size. So a
    squeeze-and-excitation gate ``[N, C, 1, 1]`` scales each channel of ``[N, C, H, W]``, and so
    does a learnable ``[C, 1, 1]`` (ConvNeXt's layer scale); the output has the broadcast shape.
    The axes are the spec's (NCHW): a backend that keeps tensors channels-last aligns them before
    it reorders.
    """

    op_name = "mul"
    arity = None

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        hint = (
            "a gate keeps the batch and channel axes and pools the rest to 1, "
            "e.g. global_avgpool -> conv(c, 1) -> sigmoid over [N, c, H, W]"
        )
        return _broadcast_all(self, inputs, hint)


def _broadcast_all(op: Op, inputs: tuple[TensorType, ...], hint: str) -> TensorType:
    """The type ``inputs`` broadcast to, or a ShapeError naming the first that does not fit (see
    :func:`_features_last` for its layout)."""
    shape = inputs[0].shape
    for i, x in enumerate(inputs[1:], start=2):
        broadcast = broadcast_shapes(shape, x.shape)
        if broadcast is None:
            before = "input 1 is" if i == 2 else f"inputs 1 to {i - 1} broadcast to"
            raise ShapeError(
                f"{op.op_name} inputs do not broadcast: input {i} is {x}, {before} {TensorType(shape)}",
                expected=f"{TensorType(shape)}, or a shape whose axes match it or are 1 on one side "
                "(aligned on the last axis)",
                found=str(x),
                notes=tuple(f"input {k}: {t}" for k, t in enumerate(inputs, start=1)),
                hint=hint,
            )
        shape = broadcast
    return TensorType(shape, same_dtype(op, inputs), _features_last(inputs, len(shape)))


def _features_last(inputs: tuple[TensorType, ...], rank: int) -> bool:
    """A merge's output is features-last when an input of its rank is: tokens joined with a class
    token, or summed with a position embedding (a ``param``, which takes the layout it meets)."""
    return any(x.features_last for x in inputs if x.rank == rank)


def broadcast_shapes(a: Shape, b: Shape) -> Shape | None:
    """The shape ``a`` and ``b`` broadcast to (NumPy's rule: aligned on the last axes, missing
    leading axes and size-1 axes stretch), or None where two sizes differ and neither is 1."""
    rank = max(len(a), len(b))
    a = (1,) * (rank - len(a)) + a
    b = (1,) * (rank - len(b)) + b
    out: list[Dim] = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(out)
