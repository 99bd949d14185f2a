"""The ONNX lowering contract: what a rule receives and how it adds nodes.

A rule, registered per op class in ``archspec_onnx/ops/<family>.py`` (mirroring
:mod:`archspec.ops`), adds the ONNX nodes that compute one IR node through its
:class:`LoweringContext`::

    @LOWERINGS.register(Relu)
    def relu(op: Relu, ctx: LoweringContext) -> None:
        ctx.emit("Relu", [ctx.x])

The last node a rule emits without ``to=`` writes the node's own value, named by its
path (``b3.0.branch2.1``), and is itself named by that path; helper nodes of a
decomposition are named ``<path>/<what>``. A rule that computes nothing in the eval
graph (dropout, identity) returns the name of the value it passes on instead.
Parameters come from :meth:`LoweringContext.param`, which names the initializer
exactly as the canonical weight (``b3.0.branch2.1.weight``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from archspec.backends import Lowerings
from archspec.errors import SpecError
from archspec.ir import Node, TensorType, tensor_name

#: The default opset: the newest one that the runtimes and converters people use all read
#: (onnxruntime since 1.13, TensorRT 8.6+, OpenVINO, onnx2torch whose ops stop at 18,
#: torch.onnx's TorchScript exporter default), and the first with LayerNormalization.
#: See the package docstring for the reasoning.
DEFAULT_OPSET = 17
#: The oldest opset archspec writes: Softmax's single-axis meaning and Clip's min/max inputs.
MIN_OPSET = 13


def max_opset() -> int:
    """The newest opset the installed ``onnx`` knows."""
    return int(onnx.defs.onnx_opset_version())


class LoweringContext:
    """What a rule may know and do: its node's types, input value names, the opset, weights."""

    def __init__(
        self,
        node: Node,
        inputs: tuple[TensorType, ...],
        output: TensorType,
        values: tuple[str, ...],
        out: str,
        opset: int,
        weights: dict[str, np.ndarray],
        nodes: list[onnx.NodeProto],
        used: dict[str, np.ndarray],
        declared: dict[str, TensorType] | None = None,
    ) -> None:
        self.node = node
        self.inputs = inputs
        self.output = output
        self.values = values
        self.out = out
        self.opset = opset
        self._weights = weights
        self._nodes = nodes
        self._used = used
        self._declared = declared if declared is not None else {}
        self._count = 0

    @property
    def x(self) -> str:
        """The (first) input's value name."""
        return self.values[0]

    @property
    def input(self) -> TensorType:
        return self.inputs[0]

    def param(self, name: str) -> str:
        """The initializer for this node's parameter or buffer ``name`` (``weight``, ``running_mean``)."""
        full = self._canonical(name)
        self._used[full] = self._weights[full]
        return full

    def has_param(self, name: str) -> bool:
        return self._canonical(name) in self._weights

    def _canonical(self, name: str) -> str:
        """The initializer's name: this node's, or the earlier step's it shares (one initializer)."""
        tie = self.node.op.tied_params(self.inputs).get(name)
        return tensor_name(self.node.name, name) if tie is None else tie.canonical

    def tmp(self, what: str) -> str:
        """A fresh name for a helper value or node of this node's decomposition."""
        self._count += 1
        return f"{self.node.name}/{what}" if self._count == 1 else f"{self.node.name}/{what}_{self._count}"

    def emit(self, op_type: str, inputs: Sequence[str], *, to: str | None = None, **attrs: Any) -> str:
        """Add one node; without ``to`` it writes this IR node's value. Returns the output name."""
        output = self.out if to is None else to
        name = self.node.name if to is None else to
        self._nodes.append(helper.make_node(op_type, list(inputs), [output], name=name, **attrs))
        return output

    def const(self, what: str, value: Any, dtype: type = np.float32) -> str:
        """A Constant node holding ``value`` (not a weight, so not an initializer)."""
        name = self.tmp(what)
        tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
        self._nodes.append(helper.make_node("Constant", [], [name], name=name, value=tensor))
        return name

    def declare_output(self) -> None:
        """Write this node's output shape into the model (a ``value_info``), for an ONNX op whose
        shape inference loses a dim that archspec knows: ``Resize`` gives its batch a fresh
        symbol, where the input's ``N`` carries through."""
        self._declared[self.out] = self.output

    def require_opset(self, minimum: int, why: str) -> None:
        """A SpecError unless the export's opset is at least ``minimum``."""
        if self.opset < minimum:
            raise SpecError(
                f"{self.node.op_name} at '{self.node.name}' needs ONNX opset {minimum} or later ({why}); "
                f"this export uses opset {self.opset}",
                self.node.loc,
                self.node.trace,
                hint=f"export with --opset {max(minimum, DEFAULT_OPSET)}",
            )


#: The ONNX rules: ``rule(op, ctx)`` for the op class each is registered for; a rule returns the
#: name of the value it passes on when it computes nothing itself (dropout), else None.
LOWERINGS: Lowerings[LoweringContext, str | None] = Lowerings("onnx")
