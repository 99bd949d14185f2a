"""What a backend's lowering rule may know about its node, shared by the backends that emit source."""

from __future__ import annotations

from typing import Any

from archspec.codegen._terms import Env, Term
from archspec.ir import Node, TensorType
from archspec.ops import Tie


class LoweringContext:
    """What a rule may know about its node: input and output types, and terms for its arguments.

    Backends subclass it for what only they need (torch: whether an op may run in place; flax:
    per-dimension tuples and padding pairs).
    """

    def __init__(
        self, node: Node, inputs: tuple[TensorType, ...], output: TensorType, env: Env, channels: tuple[Term, ...]
    ) -> None:
        self.node = node
        self.inputs = inputs
        self.output = output
        self.env = env
        self._channels = channels
        self._exprs = dict(node.exprs)

    @property
    def input(self) -> TensorType:
        return self.inputs[0]

    @property
    def tied(self) -> dict[str, Tie]:
        """The parameters the op shares with an earlier step, by its own names for them."""
        return self.node.op.tied_params(self.inputs)

    def channels(self, index: int = 0) -> Term:
        """Input ``index``'s size along the spec's axis 1 (channels of NCHW, features of [N, F])."""
        x = self.inputs[index]
        if x.features_last:  # the class follows its last axis instead (see :meth:`features`)
            return Term(x.shape[1])
        return self._channels[index]

    def features(self, index: int = 0) -> Term:
        """Input ``index``'s size along the axis ``linear`` and ``layernorm`` act on: the last. It is
        the class's term where the class follows it (axis 1 of [N, F], the last axis of a
        features-last tensor: tokens, a permuted [N, H, W, C]), else the size."""
        x = self.inputs[index]
        if x.features_last or x.rank == 2:
            return self._channels[index]
        return Term(x.shape[-1])

    def attr(self, name: str, value: Any | None = None) -> Term:
        """Attribute ``name``: ``value`` (default: the op's), as the spec's expression if exact."""
        if value is None:
            value = getattr(self.node.op, name)
        return self.env.term(value, self._exprs.get(name))

    def literal(self, value: Any) -> Term:
        return Term(value)

    def options(self, *items: tuple[str, Term, Any]) -> tuple[tuple[str, Term], ...]:
        """Keyword arguments, leaving out literal ones equal to the constructor's default."""
        return tuple((k, t) for k, t, default in items if not (t.is_literal and t.value == default))
