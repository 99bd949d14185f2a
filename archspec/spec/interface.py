"""A network's interface: the inputs its spec declares and the outputs it names.

One unnamed input is written as it always was, ``input: [N, 3, H, W]`` (its graph name is
:data:`~archspec.ir.GRAPH_INPUT`); several are named, ``inputs: {image: [N, 3, H, W], mask:
{shape: [N, 1, H, W]}}``. The network is then a DAG whose nodes read them by name (``in:
[image, mask]``), or a mapping of named steps whose first is given them all, in order (a
``concat`` joins them); not a list, which PyTorch writes as an ``nn.Sequential`` of one input.
Either form of one input may be ``{shape: [N, T], dtype: int64}`` (token ids) instead of its dims.

Without ``outputs`` a network's output is its last layer's, and a module returns that tensor.
``outputs: [out, aux]`` names steps of the network (its DAG's nodes, its named steps), and
``outputs: {out: classifier, aux: aux_classifier}`` names them otherwise; a module then returns
``{name: tensor}`` in that order, as torchvision's segmentation models do. An output naming a
DAG node whose ``if`` does not hold is left out (``"aux"`` without ``aux_loss``).

Every mistake is located where the input or output is declared: an input named like a step
(whose weights would share its name), one no layer reads, an output naming no step, an output
listed twice, two outputs of one step, outputs that are all left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set
from typing import Any, TypeAlias

from archspec.errors import Location, SpecError, did_you_mean, one_of
from archspec.ir import GRAPH_INPUT, GRAPH_OUTPUT, Node, Scope, TensorType
from archspec.spec.model import Dag, Seq, Spec, TensorDecl

#: What ``--input`` (``input_shape=``) gives: the dims of the one input, or of named inputs.
InputShapes: TypeAlias = "list[int | str] | Mapping[str, list[int | str]]"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _where(spec: Spec, key: str, file: str) -> Location:
    return spec.locs.get(key) or spec.loc or Location(file)


def declared_inputs(spec: Spec, file: str) -> dict[str, tuple[TensorDecl, str]]:
    """Each input's name, declaration and the key of its location (``input``, ``inputs.image``)."""
    if spec.input is not None and spec.inputs is not None:
        raise SpecError(
            "the spec declares both 'input' and 'inputs'",
            _where(spec, "inputs", file),
            expected="'input: [N, C, H, W]' for one input, or 'inputs: {name: [N, C, H, W], ...}' for named ones",
            found="both",
            hint="move the unnamed input into 'inputs' under a name",
        )
    if spec.inputs is not None:
        declared = {name: (_decl(value), f"inputs.{name}") for name, value in spec.inputs.items()}
        if GRAPH_INPUT in declared:
            raise SpecError(
                f"'{GRAPH_INPUT}' cannot name one of the network's inputs",
                _where(spec, f"inputs.{GRAPH_INPUT}", file),
                expected="any other name",
                found=GRAPH_INPUT,
                hint=f"'{GRAPH_INPUT}' is the word for a layer's input in DAGs and expressions: "
                f"write 'input: ...' for one unnamed input, or rename it",
            )
        return declared
    if spec.input is None:
        raise SpecError(
            "missing required key 'input'",
            spec.loc or Location(file),
            expected="'input: [N, C, H, W]', or 'inputs: {name: shape, ...}' for several",
        )
    return {GRAPH_INPUT: (_decl(spec.input), "input")}


def _decl(value: list[int | str] | TensorDecl) -> TensorDecl:
    return value if isinstance(value, TensorDecl) else TensorDecl.model_construct(shape=value)


def input_types(
    spec: Spec, params: Mapping[str, Any], override: InputShapes | None, file: str
) -> dict[str, TensorType]:
    """Each input's type: its declared dims (or those ``override`` gives it), params substituted."""
    declared = declared_inputs(spec, file)
    given = _overrides(declared, override, spec, file)
    return {
        name: _input_type(spec, name, decl, key, params, given.get(name), file)
        for name, (decl, key) in declared.items()
    }


def _overrides(
    declared: Mapping[str, tuple[TensorDecl, str]], override: InputShapes | None, spec: Spec, file: str
) -> dict[str, list[int | str]]:
    """``override`` by input name: a plain list of dims is the one input's."""
    if override is None:
        return {}
    if not isinstance(override, Mapping):
        if len(declared) != 1:
            raise SpecError(
                f"the network has {len(declared)} inputs; the shape given is not named",
                _where(spec, "inputs", file),
                expected="a shape for each input by name: " + ", ".join(f"{n}=..." for n in declared),
                found="x".join(map(str, override)),
                hint="--input NAME=1x3x64x64, once per input (input_shape={name: [...]} in Python)",
            )
        return {next(iter(declared)): list(override)}
    unknown = [name for name in override if name not in declared]
    if unknown:
        raise SpecError(
            f"the shape given for '{unknown[0]}' names no input of the network",
            _where(spec, "inputs" if spec.inputs is not None else "input", file),
            expected="one of " + one_of(declared),
            found=unknown[0],
            hint=did_you_mean(unknown[0], declared),
        )
    return {name: list(dims) for name, dims in override.items()}


def _input_type(
    spec: Spec,
    name: str,
    decl: TensorDecl,
    key: str,
    params: Mapping[str, Any],
    override: list[int | str] | None,
    file: str,
) -> TensorType:
    declared = list(decl.shape)
    called = "the spec's input" if name == GRAPH_INPUT else f"input '{name}'"
    if override is not None and len(override) != len(declared):
        given = f"{len(override)} dim{'s' if len(override) != 1 else ''}"
        raise SpecError(
            f"the shape given for {called} has {given}; the spec's {_shown(declared)} has {len(declared)}",
            _where(spec, f"{key}.0", file),
            expected=f"{len(declared)} dims, like {'x'.join(map(str, declared))}",
            found="x".join(map(str, override)),
            hint="--input (input_shape=) changes the sizes of the spec's inputs, not their rank",
        )
    dims: list[int | str] = []
    for i, dim in enumerate(override if override is not None else declared):
        loc = _where(spec, f"{key}.{i}", file) if override is None else _where(spec, key, file)
        if isinstance(dim, str) and dim in params:
            dim = params[dim]
        if isinstance(dim, bool) or not isinstance(dim, int | str):
            raise SpecError("input dims must be sizes or symbols", loc, found=repr(dim))
        if isinstance(dim, int) and dim <= 0:
            raise SpecError("input sizes must be positive", loc, expected="> 0", found=str(dim))
        if isinstance(dim, str) and not _NAME.match(dim):
            raise SpecError(f"input dim '{dim}' is neither a size nor a symbol name", loc)
        dims.append(dim)
    return TensorType(tuple(dims), decl.dtype)


def _shown(dims: Sequence[int | str]) -> str:
    return "[" + ", ".join(map(str, dims)) + "]"


def check_network_takes(spec: Spec, inputs: Mapping[str, TensorType], file: str) -> None:
    """A network given several inputs is a DAG that reads them by name, or a mapping of named
    steps whose first is given all of them: a list of steps (a ``Sequential``) takes one."""
    network = spec.network
    if len(inputs) == 1 or isinstance(network, Dag) or (isinstance(network, Seq) and isinstance(network.seq, dict)):
        return
    raise SpecError(
        f"a network of {len(inputs)} inputs is a DAG or a mapping of named steps",
        network.loc or _where(spec, "inputs", file),
        expected="network: {dag: {...}} whose nodes read the inputs by name, or network: {name: layer, ...}",
        found="a list of steps" if isinstance(network, Seq) else f"a {type(network).__name__.lower()}",
        hint="name the steps (the first is given every input, in order: a 'concat' joins them), "
        f"or write a DAG whose nodes read them ('in: [{', '.join(inputs)}]')",
    )


def top_level_steps(nodes: Sequence[Node], scopes: Mapping[str, Scope]) -> dict[str, str]:
    """The network's own steps (paths without a dot: a DAG's nodes, a sequence's steps, a block
    body's steps), each with the node that computes its output."""
    steps = {path: scope.output for path, scope in scopes.items() if path and "." not in path}
    steps.update((node.name, node.name) for node in nodes if "." not in node.name and node.name not in steps)
    return steps


def check_input_names(spec: Spec, inputs: Mapping[str, TensorType], steps: Mapping[str, str], file: str) -> None:
    """No named input shares a step's name: a DAG reads both by name, and the step's weights
    (``image.weight``) would read as the input's."""
    for name in inputs:
        if name in steps and name != GRAPH_INPUT:
            raise SpecError(
                f"input '{name}' has the name of a step of the network",
                _where(spec, f"inputs.{name}", file),
                expected="input names that no step of the network takes",
                found=name,
                hint="rename the input or the step",
            )


def check_inputs_read(spec: Spec, inputs: Mapping[str, TensorType], nodes: Sequence[Node], file: str) -> None:
    """Every declared input is read by some layer (an unread one is a forgotten ``in:``)."""
    read = {name for node in nodes for name in node.inputs}
    for name in inputs:
        if name not in read:
            raise SpecError(
                f"no layer reads input '{name}'",
                _where(spec, f"inputs.{name}", file),
                expected="every input read by a layer",
                found=f"'{name}' unread",
                hint=f"read it in the network's DAG ('in: [{name}]'), or remove it",
            )


def outputs_of(
    spec: Spec,
    inputs: Mapping[str, TensorType],
    steps: Mapping[str, str],
    last: str,
    file: str,
    absent: Set[str] = frozenset(),
) -> dict[str, str]:
    """Each output's name and the node that computes it: ``spec.outputs`` resolved against the
    network's ``steps`` (see :func:`top_level_steps`), or the one output, ``last``. An output
    naming a DAG node whose ``if`` does not hold (``absent``) is left out: torchvision's
    segmentation models return ``"aux"`` only with ``aux_loss=True``."""
    if spec.outputs is None:
        return {GRAPH_OUTPUT: last}
    listed = isinstance(spec.outputs, list)
    named = [(step, step) for step in spec.outputs] if isinstance(spec.outputs, list) else list(spec.outputs.items())
    outputs: dict[str, str] = {}
    of_step: dict[str, str] = {}
    for i, (name, step) in enumerate(named):
        at = _where(spec, f"outputs.{i}" if listed else f"outputs.{name}", file)
        step_at = at if listed else _where(spec, f"outputs.{name}.step", file)
        if name in outputs:
            raise SpecError(f"output '{name}' is listed twice", at, found=name, hint="list each output once")
        if name in inputs:
            raise SpecError(
                f"output '{name}' has the name of an input",
                at,
                expected="output names that no input takes",
                found=name,
                hint="name the output otherwise: a compiled ONNX model would have one value of each name",
            )
        if step in absent:
            continue
        node = steps.get(step)
        if node is None or node in inputs:
            raise SpecError(
                f"output '{name}' names '{step}', which is no step of the network",
                step_at,
                expected="a step of the network: " + one_of(steps),
                found=step,
                hint=did_you_mean(step, steps) or "an output names one of the network's own steps (a DAG node)",
            )
        if step in of_step:
            raise SpecError(
                f"outputs '{of_step[step]}' and '{name}' are both step '{step}'",
                at,
                expected="each output a different step",
                found=step,
                hint="keep one of them",
            )
        of_step[step] = name
        outputs[name] = node
    if not outputs:
        raise SpecError(
            "the network returns nothing: every output names a DAG node whose 'if' does not hold",
            _where(spec, "outputs", file),
            expected="at least one output that is always there",
            found=", ".join(step for _, step in named),
            hint="list the network's main output beside the conditional ones",
        )
    return outputs
