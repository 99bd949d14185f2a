"""What an expression reads of a layer's input: ``input.channels`` and ``input.shape[i]``.

In a block's body (and its parameters' defaults), ``input`` is the tensor the block is called
on; in the network's own layers, the network's input. It is the name a DAG's ``in:`` lists
already give that tensor, and what torchvision's blocks take as ``inplanes``: a residual block
decides by itself whether it needs a projection, a DenseNet transition halves whatever arrives::

    transition:
      norm: batchnorm
      conv: conv(input.channels // 2, 1, bias=false)

:class:`InputShape` is that value. It reads nothing until an attribute is asked for, so a spec
that never reads its input's shape costs no shape inference during expansion; the first read
asks the expander for the type (which infers the nodes added before, once each).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from archspec.errors import did_you_mean
from archspec.ir import TensorType
from archspec.spec.expr import INPUT, AttributeProblem, HasAttributes


def _channels(input_type: TensorType) -> int:
    shape = input_type.shape
    if len(shape) < 2:
        raise AttributeProblem(
            f"the input {input_type} has no channel axis",
            expected="an input of 2 or more axes: [N, C, ...] or [N, F]",
            found=str(input_type),
            hint=f"{INPUT}.shape[i] reads any axis",
        )
    channels = shape[1]
    if isinstance(channels, str):
        raise AttributeProblem(
            f"the input's channels are symbolic ('{channels}'), not a size",
            expected="an int",
            found=str(input_type),
            hint="give the channel axis a size in the spec's 'input' (or with --input)",
        )
    return channels


def _shape(input_type: TensorType) -> list[int | str]:
    return list(input_type.shape)  # a symbolic axis (the batch N) stays its name


#: What ``input.<name>`` reads: axis 1 (the channels of [N, C, H, W], the features of [N, F]),
#: or every axis's size.
ATTRIBUTES: dict[str, Callable[[TensorType], Any]] = {"channels": _channels, "shape": _shape}


class InputShape(HasAttributes):
    """A layer's input tensor as expressions see it (see the module docstring).

    ``resolve`` gives its type when first needed: it raises :class:`AttributeProblem` when the
    input has no single type to give (a block given several inputs), and the located error of an
    earlier layer whose shape cannot be inferred.
    """

    described = "the layer's input tensor"

    def __init__(self, resolve: Callable[[], TensorType], tensor: str | None = None) -> None:
        self._resolve = resolve
        self._type: TensorType | None = None
        #: The graph value it is (None for a block given several inputs, which has no ``input``).
        self.tensor = tensor

    def attribute(self, name: str) -> Any:
        read = ATTRIBUTES.get(name)
        if read is None:
            raise AttributeProblem(
                f"the input has no attribute '{name}'",
                expected=" or ".join(f"{INPUT}.{a}" for a in ATTRIBUTES),
                found=f"{INPUT}.{name}",
                hint=did_you_mean(name, ATTRIBUTES),
            )
        if self._type is None:
            self._type = self._resolve()
        return read(self._type)

    def __repr__(self) -> str:
        return INPUT


def is_spatial_size(source: str, spatial: int) -> bool:
    """Whether expression ``source`` is exactly the input's size along its ``spatial`` last axes,
    the size of an [N, C, *S] input: ``input.shape[2:]``, ``input.shape[-2:]`` or ``[input.shape[2],
    input.shape[3]]`` (in 1-D also ``input.shape[2]``), which the input gives whatever its size."""
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return False
    starts = (2, -spatial)
    if isinstance(tree, ast.Subscript) and _is_shape(tree.value) and isinstance(tree.slice, ast.Slice):
        lower, upper, step = tree.slice.lower, tree.slice.upper, tree.slice.step
        return upper is None and step is None and _integer(lower) in starts
    items = tree.elts if isinstance(tree, ast.List | ast.Tuple) else [tree] if spatial == 1 else []
    axes = [
        _integer(item.slice) if isinstance(item, ast.Subscript) and _is_shape(item.value) else None for item in items
    ]
    return len(axes) == spatial and any(axes == list(range(start, start + spatial)) for start in starts)


def _is_shape(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "shape"
        and isinstance(node.value, ast.Name)
        and node.value.id == INPUT
    )


def _integer(node: ast.expr | None) -> int | None:
    """The int a literal (``2``, ``-2``) is, else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _integer(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None
