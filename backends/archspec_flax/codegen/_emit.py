"""Source generation: the module tree written as Flax NNX classes.

The walk is :class:`archspec.codegen.ClassEmitter`'s, shared with the torch backend; this is
Flax NNX's vocabulary for it (``nnx.Sequential``, ``nnx.Module`` with a ``__call__``), its
imports, and what only Flax needs: classes whose layers have variables take ``rngs``
(keyword-only, as NNX modules do) and hand it down; a parameter-free layer may be a bare
function (``nnx.relu``); and the network's class converts its NCHW inputs to channels-last and its
channels-first outputs back, unless built with ``data_format="NHWC"`` (token ids, tokens and
[N, F] are held as the spec has them, and pass as they are).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from archspec.codegen import INDENT, ClassEmitter, Namespace, call_source, factor_source
from archspec.ir import TensorType
from archspec_flax._lowering import (
    HELPERS,
    LOWERINGS,
    FunctionCall,
    Helper,
    LoweringContext,
    ModuleCall,
    TensorAttribute,
    held_order,
    register_helper,
)

_LAYOUT_HELPERS = ("channels_last", "channels_first")

register_helper(
    Helper(
        "submodule",
        '''def submodule(module: nnx.Module, path: str) -> nnx.Module:
    """The layer at ``path`` ("embed.0") under ``module``: by position in an nnx.Sequential, else by name."""
    for part in path.split("."):
        module = module.layers[int(part)] if isinstance(module, nnx.Sequential) else getattr(module, part)
    return module''',
    )
)

register_helper(
    Helper(
        "NamedLayers",
        '''class NamedLayers(nnx.Module):
    """Layers applied in the order they were added, each under its own name (torch's ``nn.Sequential``
    with ``add_module``): NNX keeps a module's attributes sorted by name, so the order is kept apart."""

    def __init__(self) -> None:
        self.layer_names: tuple[str, ...] = ()

    def add(self, name: str, layer) -> None:
        setattr(self, name, layer)
        self.layer_names += (name,)

    def __call__(self, x: jax.Array) -> jax.Array:
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x''',
    )
)


class ModuleEmitter(ClassEmitter):
    """Writes one graph as a Python module of Flax NNX classes."""

    sequential_base = "nnx.Sequential"
    list_base = "nnx.List"
    module_base = "nnx.Module"
    add_named = "self.add"
    named_reserved = frozenset({"add", "layer_names"})
    call_method = "__call__"
    tensor_type = "jax.Array"
    attribute_role = "a Flax NNX attribute name"
    module_class = "nnx.Module"
    forward_reserved = frozenset({"nchw", *_LAYOUT_HELPERS})
    extra_parameter_names = frozenset({"rngs", "data_format"})
    lowerings = LOWERINGS
    helper_table = HELPERS
    function_type = FunctionCall
    context_type = LoweringContext

    def imports(self) -> list[str]:
        imports = ["import jax"]
        if "jnp" in self.needs:
            imports.append("import jax.numpy as jnp")
        imports.append("from flax import nnx")  # isort's order: plain imports, then from-imports by module
        if "lax" in self.needs:
            imports.append("from jax import lax")
        return imports

    def sequential_call(self, tail: Callable[[list[str]], str] | None, root: bool) -> list[str]:
        into = root and any(_channels_last(t) for t in self.graph.inputs.values())
        back = root and any(_channels_last(t) for t in self.report.outputs.values())
        if not (into or back):
            return super().sequential_call(tail, root)
        body = ['nchw = self.data_format == "NCHW"']
        x = self._into("x") if into else "x"
        if tail is not None and into:  # the tail reads the input in the layers' layout, as they do
            body.append(f"inner = {x}")
            x = "inner"
        out = f"super().__call__({x})"
        body.append(f"out = {tail([out, x]) if tail is not None else out}")
        body.append(f"return {self._back('out') if back else 'out'}")
        return ["", f"{INDENT}def __call__(self, x: jax.Array) -> jax.Array:", *(f"{INDENT * 2}{b}" for b in body)]

    def _into(self, x: str) -> str:
        self._helper("channels_last")
        return f"channels_last({x}) if nchw else {x}"

    def _back(self, y: str) -> str:
        self._helper("channels_first")
        return f"channels_first({y}) if nchw else {y}"

    def root_init(self, init: list[str], threaded: set[str]) -> None:
        init.append(f'{INDENT * 2}self.data_format = data_format  # "NCHW" (the spec\'s) or "NHWC"')
        if "rngs" in threaded:
            init.insert(0, f"{INDENT * 2}rngs = rngs if rngs is not None else nnx.Rngs(0)")

    def extra_parameters(self, threaded: set[str], root: bool) -> list[str]:
        rngs = "rngs" in threaded
        if root:
            return ["*", 'data_format: str = "NCHW"', *(["rngs: nnx.Rngs | None = None"] if rngs else [])]
        return ["*", "rngs: nnx.Rngs"] if rngs else []

    def root_forward(self, lines: list[str], params: list[str], result: str, local: Namespace) -> str:
        into = [x for x, t in zip(params, self.graph.inputs.values(), strict=True) if _channels_last(t)]
        back = {name: _channels_last(t) for name, t in self.report.outputs.items()}
        if not (into or any(back.values())):  # ids, tokens, [N, F]: held as the spec has them
            return result
        lines[:0] = ['nchw = self.data_format == "NCHW"', *(f"{x} = {self._into(x)}" for x in into)]
        if not any(back.values()):
            return result
        if not result.isidentifier():
            out = local.new("out")
            lines.append(f"{out} = {result}")
            result = out
        if not self.graph.named_outputs:
            return self._back(result)
        if all(back.values()):  # {name: array}, each array back in NCHW
            self._helper("channels_first")
            return f"{{name: channels_first(y) for name, y in {result}.items()}} if nchw else {result}"
        items = []
        for name, last in back.items():
            value = f'{result}["{name}"]'
            items.append(f'"{name}": ({self._back(value)})' if last else f'"{name}": {value}')
        return "{" + ", ".join(items) + "}"

    def sliced_calls(
        self, layers: str, arg: str, cuts: Sequence[tuple[str, int]], target: str, local: Namespace
    ) -> list[str]:
        # nnx.Sequential has no slices: its layers, a list, are run in a loop per slice
        layer = local.new("layer")
        lines, start, value = [], "", arg
        for name, stop in [*cuts, (target, None)]:
            lines += [
                f"{name} = {value}",
                f"for {layer} in {layers}.layers[{start}:{'' if stop is None else stop}]:",
                f"{INDENT}{name} = {layer}({name})",
            ]
            start, value = str(stop), name
        return lines

    def named_base(self) -> str:
        self._helper("NamedLayers")
        return "NamedLayers"

    def layer_by_path(self, path: str) -> str:
        self._helper("submodule")
        return f'submodule(self, "{path}")'

    def pass_through(self) -> str:
        self._helper("identity")
        return "identity"

    def threaded_by(self, lowered: ModuleCall) -> set[str]:
        return {"rngs"} if lowered.rngs else set()

    def layer_source(self, lowered: ModuleCall, indent: str) -> str:
        if lowered.bare:
            return lowered.constructor
        source = call_source(lowered.constructor, lowered.arguments(), indent)
        if not isinstance(lowered, TensorAttribute):
            return source
        self.needs.update(lowered.needs)
        value = source if lowered.factor is None else f"{source} * {factor_source(lowered.factor)}"
        layout = ", channels_last=True" if lowered.channels_last else ""
        return f"nnx.Param({value}, learnable_tensor=True{layout})"

    def attribute_read(self, attr: str) -> str:
        return f"self.{attr}[...]"


def _channels_last(t: TensorType) -> bool:
    """Whether generated modules hold ``t`` channels-last, where the spec has it channels-first."""
    return held_order(t) != tuple(range(t.rank))
