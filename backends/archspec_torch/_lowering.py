"""The torch lowering contract: what a rule receives and what it returns.

A rule, registered per op class in ``archspec_torch/ops/<family>.py`` (mirroring
:mod:`archspec.ops`), is given the node's op (its validated attributes, typed by the op
class it is registered for) and a :class:`LoweringContext` (the node, its input and output
types, terms for its arguments), and turns them into either

* a :class:`ModuleCall`: the constructor of the ``nn.Module`` that computes it
  (``nn.Conv2d(in_channels, c1, 1)``), placed at the node's path so its parameters
  get the canonical names; or
* a :class:`FunctionCall`: a parameter-free expression over its inputs
  (``torch.cat([a, b], dim=1)``), used for merges inside a ``forward``; or
* a :class:`TensorAttribute`: a learnable tensor (``param``) held by the class around the node,
  ``nn.Parameter(torch.ones([c, 1, 1]) * 1e-06)``, which forward reads as ``self.<step>``.

Arguments are :class:`~archspec_torch.codegen.Term` objects from the
:class:`LoweringContext`, so a rule never decides whether an argument is written as a
number or as the spec's expression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from archspec.backends import Lowerings
from archspec.codegen import Env, Term
from archspec.codegen import LoweringContext as BaseContext
from archspec.ir import Node, TensorType


@dataclass(frozen=True)
class ModuleCall:
    """``constructor(*args, **kwargs)``; ``helper`` names a helper class the file must define."""

    constructor: str
    args: tuple[Term, ...] = ()
    kwargs: tuple[tuple[str, Term], ...] = ()
    helper: str | None = None
    #: The module's attribute for each canonical parameter it holds under another name
    #: (``("weight", "embedding")``): where a tie assigns it.
    variables: tuple[tuple[str, str], ...] = ()

    def arguments(self) -> list[str]:
        return [a.source for a in self.args] + [f"{k}={v.source}" for k, v in self.kwargs]

    @property
    def terms(self) -> tuple[Term, ...]:
        return (*self.args, *(v for _, v in self.kwargs))


@dataclass(frozen=True)
class FunctionCall:
    """A parameter-free op written inline: ``render(input_expressions)`` is its expression."""

    render: Callable[[Sequence[str]], str]
    needs: tuple[str, ...] = ()  # top-level names it uses: "torch", "F"
    helpers: tuple[str, ...] = ()  # helpers of the file it calls
    #: Its expression over a list of its inputs written as one expression (numbered branches:
    #: ``[branch(x) for branch in self]``), where it reads them alike; None: only ``render``.
    over: Callable[[str], str] | None = None


@dataclass(frozen=True)
class TensorAttribute(ModuleCall):
    """``nn.Parameter(constructor(*args, **kwargs) * factor)``: the constructor makes the initial
    value (``torch.zeros([1, 1, d])``, ``torch.ones([dim, 1, 1]) * layer_scale`` as torchvision
    writes it, a float whatever the factor is); the parameter is an attribute of the class around
    the node, named by its step, so its state-dict key is the node's path (``features.1.0.layer_scale``)."""

    factor: Term | None = None

    @property
    def terms(self) -> tuple[Term, ...]:
        return (*super().terms, *((self.factor,) if self.factor is not None else ()))


Lowered = ModuleCall | FunctionCall


class LoweringContext(BaseContext):
    """:class:`archspec.codegen.LoweringContext`, and whether the op may run in place."""

    def __init__(
        self,
        node: Node,
        inputs: tuple[TensorType, ...],
        output: TensorType,
        env: Env,
        channels: tuple[Term, ...],
        overwritable: bool = False,
    ) -> None:
        super().__init__(node, inputs, output, env, channels)
        #: The input tensor is this node's alone and nobody reads it later: the op may run
        #: in place (see :mod:`archspec_torch._inplace`).
        self.overwritable = overwritable


#: The torch rules: ``rule(op, ctx)`` for the op class each is registered for.
LOWERINGS: Lowerings[LoweringContext, Lowered] = Lowerings("torch")


def same_for_every_dim(values: tuple[Any, ...]) -> Any:
    """``(3, 3)`` → ``3``; ``(1, 3)`` stays: torch takes either, people write the first."""
    return values[0] if len(set(values)) == 1 else values


@dataclass(frozen=True)
class Helper:
    """A small class a lowering may need in the generated file, defined once at its top."""

    name: str
    source: str
    needs: tuple[str, ...] = ()


HELPERS: dict[str, Helper] = {}


def register_helper(helper: Helper) -> Helper:
    """Make ``helper`` available to :class:`ModuleCall` (``helper=helper.name``)."""
    HELPERS[helper.name] = helper
    return helper
