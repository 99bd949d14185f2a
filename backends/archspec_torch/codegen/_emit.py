"""Source generation: the module tree written as PyTorch classes.

The walk is :class:`archspec.codegen.ClassEmitter`'s, shared with the flax backend; this is
torch's vocabulary for it (``nn.Sequential``, ``nn.Module`` with a ``forward``), its imports,
and the one thing only torch's rules are told: whether an op may run in place
(:mod:`archspec_torch._inplace`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from archspec.codegen import ClassEmitter, Env, Namespace, Term, factor_source
from archspec.ir import Graph, Node, TensorType
from archspec_torch._inplace import overwritable_inputs
from archspec_torch._lowering import HELPERS, LOWERINGS, FunctionCall, LoweringContext, TensorAttribute


class ModuleEmitter(ClassEmitter):
    """Writes one graph as a Python module of torch classes."""

    sequential_base = "nn.Sequential"
    list_base = "nn.ModuleList"
    module_base = "nn.Module"
    add_named = "self.add_module"
    named_reserved = frozenset({"append", "extend", "insert", "pop"})  # nn.Sequential's own
    call_method = "forward"
    tensor_type = "torch.Tensor"
    attribute_role = "a torch submodule name"
    module_class = "nn.Module"
    lowerings = LOWERINGS
    helper_table = HELPERS
    function_type = FunctionCall

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        #: Per graph (the expanded one, or a scratch expansion of a branch), kept alive by its entry.
        self.overwritable: dict[int, tuple[Graph, frozenset[str]]] = {}

    def imports(self) -> list[str]:
        imports = ["import torch"] if "torch" in self.needs else []
        if "F" in self.needs:
            imports.append("import torch.nn.functional as F")
        imports.append("from torch import nn")
        return imports

    def context(
        self,
        node: Node,
        inputs: tuple[TensorType, ...],
        output: TensorType,
        env: Env,
        sizes: tuple[Term, ...],
        graph: Graph,
    ) -> LoweringContext:
        if id(graph) not in self.overwritable:
            self.overwritable[id(graph)] = (graph, overwritable_inputs(graph))
        return LoweringContext(node, inputs, output, env, sizes, node.name in self.overwritable[id(graph)][1])

    def layer_source(self, lowered: Any, indent: str) -> str:
        source = super().layer_source(lowered, indent)
        if not isinstance(lowered, TensorAttribute):
            return source
        value = source if lowered.factor is None else f"{source} * {factor_source(lowered.factor)}"
        return f"nn.Parameter({value})"

    def layer_by_path(self, path: str) -> str:
        return f'self.get_submodule("{path}")'

    def pass_through(self) -> str:
        return "nn.Identity()"

    def sliced_calls(
        self, layers: str, arg: str, cuts: Sequence[tuple[str, int]], target: str, local: Namespace
    ) -> list[str]:
        lines, start, value = [], "", arg
        for name, stop in cuts:  # an nn.Sequential's slice is an nn.Sequential of the same modules
            lines.append(f"{name} = {layers}[{start}:{stop}]({value})")
            start, value = str(stop), name
        return [*lines, f"{target} = {layers}[{start}:]({value})"]

    def named_base(self) -> str:
        return "nn.Sequential"  # its forward calls the layers in the order they were added

    def module_init(self) -> list[str]:
        self.needs.add("torch")  # forward's annotations
        return ["        super().__init__()"]

    def sequential_call(self, tail: Callable[[list[str]], str] | None, root: bool) -> list[str]:
        if tail is not None:
            self.needs.add("torch")  # forward's annotations
        return super().sequential_call(tail, root)
