"""Sliding windows, shared by convolutions and pools: one canonical padding form and the output length.

However the spec writes a window op's padding (an int, one int per spatial axis, ``[lo, hi]``
pairs, ``'valid'``, or ``'same'`` for a convolution), the validated op stores one ``(lo, hi)``
pair per spatial axis, so shape rules and lowerings read one form and never the spelling.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
#: Zero padding before and after the input along one axis.
Pad = tuple[NonNegativeInt, NonNegativeInt]


def padding_pairs(value: object, spatial: int) -> object:
    """An int (every axis), or a list of ints (one per axis), as ``(lo, hi)`` pairs; lists of pairs as tuples.

    For a field's ``before`` validator: the op checks the count against its spatial axes, and
    anything else is returned as it is, for the field's type to refuse with the usual message.
    """
    if _is_int(value):
        return ((value, value),) * spatial
    if isinstance(value, list | tuple):
        if all(_is_int(v) for v in value):
            return tuple((v, v) for v in value)
        if all(isinstance(v, list | tuple) for v in value):
            return tuple(tuple(v) for v in value)
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """The padding that keeps a stride-1 output the input's size: the odd cell, if any, after (as PyTorch)."""
    pairs = []
    for k, d in zip(kernel, dilation, strict=True):
        total = d * (k - 1)
        pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def symmetric_padding(pairs: tuple[tuple[int, int], ...]) -> tuple[int, ...] | None:
    """One amount per axis when every axis is padded alike at both ends (``padding=1`` in PyTorch), else None."""
    if all(lo == hi for lo, hi in pairs):
        return tuple(lo for lo, _ in pairs)
    return None


def window_count(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int, ceil_mode: bool) -> int:
    """How many windows fit along one axis of length ``size``, as PyTorch counts them.

    ``ceil_mode`` lets the last window overhang the padded input, but never start in the right padding.
    """
    span = dilation * (kernel - 1) + 1
    room = size + pad[0] + pad[1] - span
    count = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + pad[0]:
        count -= 1  # the last window would start in the right padding
    return count
