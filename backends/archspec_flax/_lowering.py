"""The Flax lowering contract: what a rule receives and what it returns.

A rule, registered per op class in ``archspec_flax/ops/<family>.py`` (mirroring
:mod:`archspec.ops`), is given the node's op (its validated attributes, typed by the op
class it is registered for) and a :class:`LoweringContext` (the node, its input and output
types, terms for its arguments), and turns them into either

* a :class:`ModuleCall`: the constructor of the NNX module that computes it
  (``nnx.Conv(in_channels, c1, (1, 1), padding=((0, 0), (0, 0)), rngs=rngs)``), placed at the
  node's path so its variables get the canonical names; a parameter-free function
  (``nnx.relu``) is a ModuleCall with ``bare=True``, written without a call; or
* a :class:`FunctionCall`: a parameter-free expression over its inputs
  (``jnp.concatenate([a, b], axis=-1)``), used for merges inside a ``__call__``; or
* a :class:`TensorAttribute`: a learnable tensor (``param``) held by the class around the node,
  ``nnx.Param(jnp.ones((c, 1, 1)) * 1e-06, learnable_tensor=True)``, read as ``self.<step>[...]``.

Inside a generated module a channels-first feature map of rank 3 or more is held channels-last
(NHWC, NLC), as Flax's convolutions and pools want it; a features-last tensor (a token sequence
[N, T, D], a map ``permute`` made [N, H, W, C]: see :class:`archspec.ir.TensorType`) and one of rank
2 or less are held exactly as the spec has them, as a hand-written NNX transformer holds its
tokens. Rules see the spec's types and translate axes with :func:`held_axis`; an op whose input and
output are held differently (ViT's ``permute`` of patches into tokens) converts there, and nowhere
else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from archspec.backends import Lowerings
from archspec.codegen import LoweringContext as BaseContext
from archspec.codegen import Term, tuple_term
from archspec.ir import TensorType


@dataclass(frozen=True)
class ModuleCall:
    """``constructor(*args, **kwargs)`` (just ``constructor`` when ``bare``).

    ``helper`` names a helper the file must define; ``rngs`` says the constructor takes ``rngs=``.
    """

    constructor: str
    args: tuple[Term, ...] = ()
    kwargs: tuple[tuple[str, Term], ...] = ()
    helper: str | None = None
    #: The module's attribute for each canonical parameter it holds under another name
    #: (``("weight", "embedding")``): where a tie assigns it.
    variables: tuple[tuple[str, str], ...] = ()
    rngs: bool = False
    bare: bool = False

    def arguments(self) -> list[str]:
        out = [a.source for a in self.args] + [f"{k}={v.source}" for k, v in self.kwargs]
        return [*out, "rngs=rngs"] if self.rngs else out

    @property
    def terms(self) -> tuple[Term, ...]:
        return (*self.args, *(v for _, v in self.kwargs))


@dataclass(frozen=True)
class FunctionCall:
    """A parameter-free op written inline: ``render(input_expressions)`` is its expression."""

    render: Callable[[Sequence[str]], str]
    needs: tuple[str, ...] = ()  # top-level names it uses: "jnp"
    helpers: tuple[str, ...] = ()  # helpers of the file it calls
    #: Its expression over a list of its inputs written as one expression (numbered branches:
    #: ``[branch(x) for branch in self]``), where it reads them alike; None: only ``render``.
    over: Callable[[str], str] | None = None


@dataclass(frozen=True)
class TensorAttribute(ModuleCall):
    """``nnx.Param(constructor(*args, **kwargs), learnable_tensor=True)``: the constructor makes
    the initial value, held as its type says (:func:`held_order`); the variable is an attribute of
    the class around the node, named by its step. The metadata tells :mod:`archspec_flax.weights`
    that its canonical name is its path, and with ``channels_last=True`` that it is held with the
    spec's axis 1 last (else as the spec has it)."""

    needs: tuple[str, ...] = ()  # top-level names the constructor uses: "jnp"
    factor: Term | None = None  # the value is ``constructor(...) * factor``: a float whatever the factor is
    channels_last: bool = False

    @property
    def terms(self) -> tuple[Term, ...]:
        return (*super().terms, *((self.factor,) if self.factor is not None else ()))


Lowered = ModuleCall | FunctionCall


def held_order(t: TensorType) -> tuple[int, ...]:
    """The spec's axis at each axis of the array a generated module holds for ``t``: a channels-first
    map of rank 3 or more is held channels-last (``(0, 2, 3, 1)``), anything else as the spec has it."""
    if t.rank <= 2 or t.features_last:
        return tuple(range(t.rank))
    return (0, *range(2, t.rank), 1)


def held_axis(axis: int, t: TensorType) -> int:
    """Where the array held for ``t`` has the spec's axis ``axis`` (negative ones from the end)."""
    return held_order(t).index(axis % t.rank)


def transposition(held: Sequence[int], wanted: Sequence[int]) -> tuple[int, ...] | None:
    """The ``jnp.transpose`` axes that take an array whose axes are the spec's ``held`` to one whose
    axes are the spec's ``wanted`` (the same axes in another order); None when the orders agree."""
    axes = tuple(held.index(axis) for axis in wanted)
    return None if axes == tuple(range(len(axes))) else axes


class LoweringContext(BaseContext):
    """:class:`archspec.codegen.LoweringContext`, and tuple attributes written as the spec wrote them."""

    def per_dim(self, name: str, value: tuple[Any, ...] | None = None) -> Term:
        """A per-dimension tuple attribute (``(3, 3)``), written ``(k, k)`` when the spec gave one
        expression ``k`` for every dimension and it is exact here; else the literal tuple."""
        if value is None:
            value = getattr(self.node.op, name)
        if len(set(value)) == 1 and name in self._exprs:
            one = self.env.term(value[0], self._exprs[name])
            if not one.is_literal:
                return tuple_term(value, [one] * len(value))
        return Term(tuple(value))

    def pairs(self, name: str, value: tuple[tuple[int, int], ...]) -> Term:
        """Padding pairs ``((p, p), (p, p))``, with ``p`` the spec's expression where exact."""
        flat = {v for pair in value for v in pair}
        if len(flat) == 1 and name in self._exprs:
            one = self.env.term(next(iter(flat)), self._exprs[name])
            if not one.is_literal:
                pair = tuple_term(value[0], [one, one])
                return tuple_term(value, [pair] * len(value))
        return Term(tuple(value))


#: The flax rules: ``rule(op, ctx)`` for the op class each is registered for.
LOWERINGS: Lowerings[LoweringContext, Lowered] = Lowerings("flax")


@dataclass(frozen=True)
class Helper:
    """A small class or function a lowering may need in the generated file, defined once at its top."""

    name: str
    source: str
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()  # other helpers it calls


HELPERS: dict[str, Helper] = {}


def register_helper(helper: Helper) -> Helper:
    """Make ``helper`` available to :class:`ModuleCall` (``helper=helper.name``)."""
    HELPERS[helper.name] = helper
    return helper


#: The root converts NCHW inputs to channels-last, and channels-first outputs back, with these.
register_helper(
    Helper(
        "channels_last",
        '''def channels_last(x: jax.Array) -> jax.Array:
    """NCHW (or NCL, NCDHW) to channels-last; [N, F] stays as it is."""
    return jnp.moveaxis(x, 1, -1) if x.ndim > 2 else x''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "channels_first",
        '''def channels_first(x: jax.Array) -> jax.Array:
    """Channels-last back to NCHW (or NCL, NCDHW); [N, F] stays as it is."""
    return jnp.moveaxis(x, -1, 1) if x.ndim > 2 else x''',
        needs=("jnp",),
    )
)
register_helper(
    Helper(
        "to_rank",
        '''def to_rank(x: jax.Array, rank: int) -> jax.Array:
    """A channels-last tensor (or one of rank 2 or less) as the channels-last tensor of ``rank`` axes
    it broadcasts as in the spec's NCHW, where NumPy aligns shapes on their last axes (a [C, 1, 1]
    scale is [1, C, 1, 1])."""
    spec = channels_first(x)
    return channels_last(spec.reshape((1,) * (rank - spec.ndim) + spec.shape))''',
        uses=("channels_first", "channels_last"),
    )
)
register_helper(
    Helper(
        "normal",
        '''def normal(shape: tuple[int, ...], std: float, *, rngs: nnx.Rngs) -> jax.Array:
    """Samples of a normal distribution of mean 0 and standard deviation ``std`` (torch's ``normal_``)."""
    return std * jax.random.normal(rngs.params(), shape)''',
    )
)
