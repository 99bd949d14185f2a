"""Learnable tensors: ``param(shape, init)``, a step whose value is a parameter, not a computation.

A ``param`` reads no input (a source of the graph): ViT's class token and position embedding,
ConvNeXt's layer scale. Its one parameter is named by the step itself, so a step
``layer_scale: param([c, 1, 1], init=1e-6)`` of block ``features.1.0`` is the tensor
``features.1.0.layer_scale``, as torchvision's ``CNBlock.layer_scale`` is: a bare attribute of the
enclosing block, not a submodule. It meets tensors through the merges, which broadcast
(``mul`` of a [C, 1, 1] scale and an [N, C, H, W] branch, ``concat`` of a [1, 1, D] class token
and [N, T, D] tokens).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, ShapeError, register

#: The name :meth:`Param.params` gives its tensor: the step's own (see :func:`archspec.ir.tensor_name`).
OWN_NAME = ""


@register
class Param(Op):
    """A learnable tensor of ``shape``, initialised by ``init``; its output is that tensor.

    Arguments: ``shape``, the sizes (positive ints: a parameter has no batch axis);
    ``init``, how a fresh network fills it, as torchvision does: ``zeros`` (ViT's class token),
    ``ones``, a number (every element that value: ConvNeXt's layer scale ``1e-6``) or ``normal``
    (a normal distribution of mean 0 and standard deviation ``std``: ViT's position embedding,
    ``std=0.02``). ``std`` is for ``normal`` only. MACs: 0 (it computes nothing).
    """

    op_name = "param"
    arity = 0

    shape: tuple[Annotated[int, Field(gt=0)], ...]
    init: float | Literal["zeros", "ones", "normal"] = "zeros"
    std: Annotated[float, Field(gt=0)] | None = None

    @field_validator("shape", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _std_with_normal(self) -> Param:
        if (self.std is not None) != (self.init == "normal"):
            given = "without" if self.std is None else f"with init={self.init!r}"
            raise ValueError(f"std is the standard deviation of init=normal and goes with it alone, given {given}")
        if not self.shape:
            raise ValueError("a param needs at least one axis, e.g. [c, 1, 1]")
        return self

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        if inputs:
            raise ShapeError(f"param reads no input, got {len(inputs)}")
        return TensorType(self.shape)

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        return {OWN_NAME: self.shape}

    def initial_value(self) -> float | None:
        """The value every element starts at, or None for a random draw (``normal``)."""
        constants = {"zeros": 0.0, "ones": 1.0}
        if isinstance(self.init, str):
            return constants.get(self.init)
        return float(self.init)
