"""Expansion: a validated :class:`~archspec.spec.model.Spec` becomes a :class:`~archspec.ir.Graph`.

Blocks are instantiated with their arguments, expressions evaluated, repetitions
unrolled and every op's attributes validated by its model. Paths mirror the spec:
named steps keep their names (``b1``), listed steps are numbered from 0 (``b3.0``),
listed branches of ``concat``/``add``/``mul`` are ``branch1``, ``branch2``, ..., named ones
keep their names and numbered ones (``{0: a, 1: b}``) their numbers. A ``repeat`` or ``for``
inside a list adds its copies to that list, as a Python loop appending to an ``nn.Sequential``
would (a loop in a loop too), and an ``if`` there adds what it chooses (nothing, false and
without ``else``). Errors name the block stack (``b3 › inception#2 › branch 3 › conv#3``)
and the source location.

Expressions read a block's input as ``input`` (``input.channels``; see
:mod:`archspec.spec.input_shape`): the first such read infers the types of the nodes added so
far, with the ops' own shape rules (:func:`archspec.infer.infer_node`), and later reads go on
from there. A spec that never reads its input infers nothing here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import ValidationError
from typing_extensions import assert_never

from archspec.errors import Location, SpecError, did_you_mean, exception_attrs_settable, gathered, one_of
from archspec.infer import in_calls, infer_node
from archspec.ir import GRAPH_INPUT, Graph, Node, Scope, ScopeKind, TensorType
from archspec.ops import REGISTRY, Op, ShapeError, merge
from archspec.spec import expr as exprs
from archspec.spec import interface, words
from archspec.spec.input_shape import InputShape, is_spatial_size
from archspec.spec.interface import InputShapes
from archspec.spec.model import (
    LAYER_KINDS,
    Add,
    Arg,
    Block,
    Call,
    Concat,
    Dag,
    Expr,
    For,
    If,
    Layer,
    Located,
    Mul,
    Repeat,
    Seq,
    Spec,
    is_number,
)

#: Bounds on what a small spec can ask for (``((relu * 1000) * 1000) * 1000`` is 30 characters):
#: ops in the graph, expansion steps (a repeat of empty layers makes steps but no ops), the
#: count of one repeat or for, and the nesting of layers and blocks (block chains included).
#: 100,000 ops take about 3 s and 150 MB to expand and infer; the largest spec'd networks
#: have a few thousand.
MAX_NODES = 100_000
MAX_STEPS = 3 * MAX_NODES
MAX_REPEAT = 100_000
MAX_NESTING = 64
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: A loop's copy may also be named with '-' (RegNet's ``block1-0``): it is added to its class by
#: name (``add_module``), never written as an attribute.
_COPY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

Env = Mapping[str, Any]


@dataclass(frozen=True)
class Program:
    """A validated spec with the blocks it can call (its own and those it uses)."""

    spec: Spec
    blocks: Mapping[str, Block]
    file: str
    #: Every file the program was read from, resolved: the spec, then its libraries (none for an
    #: in-memory spec). A command never writes over one of them.
    files: tuple[Path, ...] = ()


@exception_attrs_settable
@dataclass(frozen=True)
class EarlierShapeError(SpecError):
    """The shape error of a layer added before an expression that reads ``input``. It is that
    layer's mistake, told with the block calls that layer is in: the calls the reading
    expression is in add no notes to it."""

    def called_from(self, block: str, arguments: Any, loc: Location | None) -> SpecError:
        return self


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


def _is_list_layer(layer: Layer) -> bool:
    """Whether ``layer`` is a list of numbered steps: a list, or a loop (unnamed copies) standing for one."""
    return (isinstance(layer, Seq) and isinstance(layer.seq, list)) or (
        isinstance(layer, Repeat) or (isinstance(layer, For) and layer.name is None)
    )


#: The spec's word for each kind of layer (``seq``, ``concat``), as block stacks show it.
_KIND_WORDS = {kind: word for word, kind in LAYER_KINDS.items()}


def _label(layer: Layer, index: int) -> str:
    name = layer.call if isinstance(layer, Call) else _KIND_WORDS[type(layer)]
    return f"{name}#{index + 1}"


class Expander:
    """Walks canonical layers, emitting IR nodes in topological order."""

    def __init__(self, program: Program, params: Env, inputs: Mapping[str, TensorType]) -> None:
        self.blocks = program.blocks
        self.params = params
        #: The network's inputs, which its own DAG reads by name.
        self.network_inputs = tuple(inputs)
        #: The types known of the graph's tensors: the inputs', then those of ``nodes[:inferred]``,
        #: inferred only when an expression reads a block's input (see :meth:`input_type`).
        self.types: dict[str, TensorType] = dict(inputs)
        self.inferred = 0
        self.shape_error: EarlierShapeError | None = None
        #: The block calls being expanded, outermost first, as the scopes they will close as.
        self.open_calls: list[Scope] = []
        self.nodes: list[Node] = []
        self.names: set[str] = {GRAPH_INPUT}
        self.scopes: dict[str, Scope] = {}
        self.stack: list[str] = []
        self.op_cache: dict[tuple[type[Op], str], Op] = {}
        self.call_sites: dict[int, tuple[Call, tuple[tuple[str, str], ...], tuple[tuple[str, Location], ...]]] = {}
        self.worded: dict[tuple[int, tuple[words.Word, ...]], tuple[Call, Call]] = {}
        self.depth = 0
        self.steps = 0
        #: The network's own DAG nodes whose ``if`` does not hold: an output naming one is left out.
        self.absent_steps: set[str] = set()
        #: Errors of the network's top-level steps that failed, in order (see ``_recorded``).
        self.errors: list[SpecError] = []

    # ---------------------------------------------------------------- dispatch
    def expand(self, layer: Layer, path: str, xs: tuple[str, ...], env: Env, trace: tuple[str, ...]) -> str:
        """Expand ``layer`` at ``path`` reading ``xs``; return the name of its output node."""
        self._step(layer, trace)
        if self.depth >= MAX_NESTING:
            raise SpecError(
                f"layers and blocks are nested more than {MAX_NESTING} levels deep",
                layer.loc,
                trace,
                hint="a chain of blocks calling blocks counts one level per call",
            )
        self.depth += 1
        try:
            match layer:
                case Call():
                    return self._call(layer, path, xs, env, trace)
                case Seq():
                    return self._seq(layer, path, xs, env, trace)
                case Repeat() | For():  # a sequence of its copies
                    return self._seq(Seq.model_construct(seq=[layer], loc=layer.loc), path, xs, env, trace)
                case If():
                    return self._if(layer, path, xs, env, trace)
                case Concat():
                    return self._branches(layer.concat, merge.Concat(axis=layer.axis), layer, path, xs, env, trace)
                case Add():
                    return self._branches(layer.add, merge.Add(), layer, path, xs, env, trace)
                case Mul():
                    return self._branches(layer.mul, merge.Mul(), layer, path, xs, env, trace)
                case Dag():
                    return self._dag(layer, path, xs, env, trace)
                case _:
                    assert_never(layer)
        finally:
            self.depth -= 1

    def _step(self, layer: Layer, trace: tuple[str, ...]) -> None:
        """Count one expansion step, within :data:`MAX_STEPS`."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SpecError(
                f"the network takes more than {MAX_STEPS:,} expansion steps",
                layer.loc,
                trace,
                hint="a repeat or for multiplies everything inside it, empty layers too",
            )

    def _call(self, layer: Call, path: str, xs: tuple[str, ...], env: Env, trace: tuple[str, ...]) -> str:
        if not trace or not trace[-1].startswith(layer.call + "#"):
            trace = (*trace, layer.call)
        block = self.blocks.get(layer.call)
        if block is not None:
            return self._block(layer, block, path, xs, env, trace)
        op_cls = REGISTRY.get(layer.call)
        if op_cls is None:
            known = [*REGISTRY, *self.blocks]
            raise SpecError(
                f"unknown op or block '{layer.call}'",
                layer.loc,
                trace,
                expected=f"an op ({one_of(REGISTRY)})" + (f" or a block ({one_of(self.blocks)})" * bool(self.blocks)),
                found=layer.call,
                hint=did_you_mean(layer.call, known) or "define it under 'blocks:' or 'use:' a library that has it",
            )
        given_words = words.words_in(op_cls, layer, env)
        layer = self._with_words(layer, given_words)
        op = self._bind_op(op_cls, layer, env, trace, given_words)
        name = path or layer.call
        if op_cls.arity == 0:  # a source (a learnable tensor): it reads nothing where it is written
            xs = ()
        _, exprs, attr_locs = self._call_site(op_cls, layer)
        reference = self._followed(op, dict(exprs), env)
        try:
            op.check_arity(len(xs))
        except ShapeError as exc:
            raise exc.with_context(layer.loc, trace) from None
        if reference is not None:
            xs = (*xs, reference)
        return self._add_node(Node(name, op, xs, layer.loc, trace, exprs, attr_locs=attr_locs))

    @staticmethod
    def _followed(op: Op, sources: Mapping[str, str], env: Env) -> str | None:
        """The tensor whose size an op reads at run time, where the spec wrote its size as that of
        the layer's input (see :mod:`archspec.ops.resize`); else None."""
        field = type(op).follows
        source = sources.get(field) if field is not None else None
        reference = env.get(exprs.INPUT)
        if source is None or not isinstance(reference, InputShape) or reference.tensor is None:
            return None
        spatial = type(op).spatial
        if not is_spatial_size(source, spatial) or len(reference.attribute("shape")) != spatial + 2:
            return None
        return reference.tensor

    def _with_words(self, call: Call, given: tuple[words.Word, ...]) -> Call:
        """``call`` with its bare words spelt out as strings (see :mod:`archspec.spec.words`): the
        same rewritten call each time, so that its call site is worked out once."""
        if not given:
            return call
        key = (id(call), given)
        if key not in self.worded:
            self.worded[key] = (call, words.spelled_out(call, given))  # holds the call: its id stays its own
        return self.worded[key][1]

    def _call_site(
        self, cls: type[Op], call: Call
    ) -> tuple[Call, tuple[tuple[str, str], ...], tuple[tuple[str, Location], ...]]:
        """The expression text and the location of each argument of an op call: the same for every
        instance of the block that makes the call, so worked out once per call in the spec (the
        entry holds the call, so its id is not reused while the entry lives)."""
        site = self.call_sites.get(id(call))
        if site is None:
            site = self.call_sites[id(call)] = (call, _arg_sources(cls.positional(), call), _attr_locs(cls, call))
        return site

    def _seq(self, layer: Seq, path: str, xs: tuple[str, ...], env: Env, trace: tuple[str, ...]) -> str:
        out = xs
        network_steps = not path and not trace  # the network's own top-level steps
        if isinstance(layer.seq, dict):
            for position, (key, item) in enumerate(layer.seq.items()):
                self._check_no_source(item, position, len(layer.seq), (*trace, key))
                with self._recorded(network_steps):
                    if not _NAME.match(key):
                        raise SpecError(
                            f"step name '{key}' is not a plain name",
                            item.loc or layer.loc,
                            trace,
                            expected="letters, digits and '_', not starting with a digit",
                            found=key,
                        )
                    out = (self.expand(item, _join(path, key), out, env, (*trace, key)),)
        else:
            index = 0
            named: set[str] = set()  # the steps named by a 'for' with a name template
            for position, item in enumerate(layer.seq):
                self._check_no_source(item, position, len(layer.seq), trace)
                with self._recorded(network_steps):
                    for body, item_env, name in self._copies(item, env, trace):
                        if name is None:
                            sub = (*trace, _label(body, index))
                            out = (self.expand(body, _join(path, index), out, item_env, sub),)
                            index += 1
                            continue
                        if name in named:
                            raise SpecError(
                                f"two copies of a loop are named '{name}'",
                                _at(item, "name"),
                                trace,
                                hint="the name template must differ for every copy: use the loop's names in it",
                            )
                        named.add(name)
                        out = (self.expand(body, _join(path, name), out, item_env, (*trace, name)),)
        return self._close_scope(path, ScopeKind.SEQ, "seq", out, xs, layer.loc, trace)

    def _check_no_source(self, item: Layer, position: int, steps: int, trace: tuple[str, ...]) -> None:
        """Refuse an op that reads no input (``param``) as a step of a sequence of several: after
        another step it would drop what the steps before it compute; first, it would be a tensor
        among layers, which the generated ``nn.Sequential`` cannot hold."""
        if steps < 2 or not isinstance(item, Call) or item.call in self.blocks:
            return
        op_cls = REGISTRY.get(item.call)
        if op_cls is None or op_cls.arity != 0:
            return
        why = (
            "as a step after another it would drop what the steps before it compute"
            if position
            else "a sequence of layers cannot start with it"
        )
        raise SpecError(
            f"{item.call} reads no input, so {why}",
            item.loc,
            (*trace, item.call),
            hint=f"name it as a DAG node and read it by name ('scale: {item.call}(...)', then "
            "'{in: [scale, x], do: mul}'), or make it a branch of a merge ('mul: [identity, param([c, 1, 1])]')",
        )

    @contextmanager
    def _recorded(self, step_apart: bool) -> Iterator[None]:
        """For a step expanded apart (``step_apart``), record its SpecError in ``errors`` and go on:
        the next step reads the failed step's input, and expansion alone (shapes come later)
        finds the next step's own mistakes. A bound on the whole network's size stops everything."""
        if not step_apart:
            yield
            return
        try:
            yield
        except SpecError as exc:
            if self.steps > MAX_STEPS or len(self.nodes) >= MAX_NODES:
                raise gathered([*self.errors, exc]) from None
            self.errors.append(exc)

    def _if(self, layer: If, path: str, xs: tuple[str, ...], env: Env, trace: tuple[str, ...]) -> str:
        if layer.else_ is None:  # an item of a list is chosen by _copies; anywhere else it needs both
            raise SpecError(
                "an 'if' without 'else' is only allowed as an item of a list",
                layer.loc,
                trace,
                expected="'x if cond else y' (or 'else:' in the structured form)",
                found="no 'else'",
                hint="add 'else identity' to pass the input through, or make the 'if' an item of a list, "
                "where it adds nothing when false",
            )
        chosen = layer.then if self.value(layer.if_, env, trace) else layer.else_
        return self.expand(chosen, path, xs, env, trace)

    def _dag(self, layer: Dag, path: str, xs: tuple[str, ...], env: Env, trace: tuple[str, ...]) -> str:
        outputs: dict[str, str] = {}
        absent: set[str] = set()  # the nodes whose 'if' does not hold
        names = list(layer.dag)
        previous = xs
        # The network's own DAG reads the network's named inputs by their names.
        named_inputs = [x for x in self.network_inputs if x != GRAPH_INPUT] if not path and not trace else []
        for position, (key, node) in enumerate(layer.dag.items()):
            sub = (*trace, key)
            if key == GRAPH_INPUT or not _NAME.match(key):
                raise SpecError(
                    f"'{key}' cannot name a DAG node",
                    node.loc,
                    sub,
                    hint=f"'{GRAPH_INPUT}' refers to the DAG's input" if key == GRAPH_INPUT else None,
                )
            if not self.value(node.if_, env, sub):
                absent.add(key)
                if not path and not trace:
                    self.absent_steps.add(key)
                continue
            if node.in_:
                inputs = []
                for j, ref in enumerate(node.in_):
                    ref_loc = node.locs.get(f"in.{j}") or node.loc
                    if ref == GRAPH_INPUT:
                        if len(xs) != 1:
                            raise SpecError(
                                "this DAG has several inputs; 'input' is ambiguous",
                                ref_loc,
                                sub,
                                hint=f"read the network's inputs by name: {', '.join(named_inputs)}"
                                if named_inputs
                                else None,
                            )
                        inputs.append(xs[0])
                    elif ref in outputs:
                        inputs.append(outputs[ref])
                    elif ref in named_inputs:
                        inputs.append(ref)
                    elif ref.partition(".")[0] in absent:
                        raise SpecError(
                            f"DAG node '{key}' reads '{ref}', which is not there: its 'if' does not hold",
                            ref_loc,
                            sub,
                            expected="a node that is there whenever this one is",
                            found=ref,
                            hint=f"give '{key}' the same condition ('if:') as '{ref.partition('.')[0]}'",
                        )
                    elif "." in ref:
                        inputs.append(self._inner_step(layer, path, ref, outputs, ref_loc, sub))
                    elif ref in names[position:]:
                        raise SpecError(
                            f"DAG node '{key}' reads '{ref}', which is defined after it",
                            ref_loc,
                            sub,
                            hint="list a DAG's nodes after the nodes they read",
                        )
                    else:
                        raise SpecError(
                            f"DAG node '{key}' reads unknown node '{ref}'",
                            ref_loc,
                            sub,
                            expected="'input' or one of " + one_of([*named_inputs, *outputs]),
                            hint=did_you_mean(ref, [*named_inputs, *outputs, GRAPH_INPUT]),
                        )
                previous = tuple(inputs)
            outputs[key] = self.expand(node.do, _join(path, key), previous, env, sub)
            previous = (outputs[key],)
        return self._close_scope(path, ScopeKind.DAG, "dag", previous, xs, layer.loc, trace)

    def _inner_step(
        self,
        layer: Dag,
        path: str,
        ref: str,
        outputs: Mapping[str, str],
        loc: Location | None,
        trace: tuple[str, ...],
    ) -> str:
        """The value of ``ref``, a numbered step of an earlier node that is a list of steps
        (``backbone.4``), which the node computes on the way to its own output: as torchvision's
        ``IntermediateLayerGetter`` takes the features after a layer of its backbone. Generated
        code reads it by running the list in two slices (``self.backbone[:5]``, then ``[5:]``)."""
        owner, _, step = ref.partition(".")
        if owner not in outputs:
            lists = [name for name in outputs if _is_list_layer(layer.dag[name].do)]
            raise SpecError(
                f"'{ref}' names no step of an earlier node: '{owner}' is not a node before this one",
                loc,
                trace,
                expected="'node.i', step i of an earlier node that is a list of steps"
                + (f" ({one_of(lists)})" if lists else ""),
                found=ref,
                hint=did_you_mean(owner, list(outputs)) or "list a DAG's nodes after the nodes they read",
            )
        listed = _is_list_layer(layer.dag[owner].do)
        prefix = _join(path, owner) + "."
        # its steps' names: "0", "1", ... (so "01" names none)
        steps = [name.removeprefix(prefix) for name in (*self.scopes, *self.names) if name.startswith(prefix)]
        numbers = sorted(int(name) for name in steps if is_number(name))
        if not listed or not is_number(step) or step not in steps:
            raise SpecError(
                f"'{ref}' names no step of node '{owner}'",
                loc,
                trace,
                expected=f"one of {owner}.0 to {owner}.{numbers[-1]}"
                if listed and numbers
                else f"an earlier node that is a list of steps, '{owner}' is not one",
                found=ref,
                hint="a DAG node reads a numbered step of a list of steps (its direct step: 'backbone.4'), "
                "as a backbone's intermediate features are read",
            )
        full = _join(path, ref)
        scope = self.scopes.get(full)
        return scope.output if scope is not None else full

    # ----------------------------------------------------------------- helpers
    def _branches(
        self,
        branches: list[Layer] | dict[str, Layer],
        merge: Op,
        layer: Concat | Add | Mul,
        path: str,
        xs: tuple[str, ...],
        env: Env,
        trace: tuple[str, ...],
    ) -> str:
        kind = merge.op_name
        if len(xs) != 1:
            raise SpecError(f"'{kind}' branches read one input, got {len(xs)}", layer.loc, trace)
        outs = tuple(
            self.expand(branch, _join(path, key), xs, env, (*trace, label))
            for key, label, branch in self._named_branches(branches, trace)
        )
        name = path or kind
        spots = tuple((k, v) for k, v in layer.locs.items() if k == "axis" and v is not None)
        self._add_node(Node(name, merge, outs, layer.loc, trace, attr_locs=spots))
        return self._close_scope(path, ScopeKind(kind), kind, (name,), xs, layer.loc, trace)

    def _named_branches(
        self, branches: list[Layer] | dict[str, Layer], trace: tuple[str, ...]
    ) -> Iterator[tuple[str, str, Layer]]:
        """Each branch's path key, its name in block stacks, and its layer: a listed branch is
        ``branch1`` (``branch 1``), a named one its name, a numbered one its number (``0``)."""
        if isinstance(branches, list):
            for i, branch in enumerate(branches, start=1):
                yield f"branch{i}", f"branch {i}", branch
            return
        numbers = [key for key in branches if is_number(key)]
        for position, (key, branch) in enumerate(branches.items()):
            if numbers and not is_number(key):
                raise SpecError(
                    f"branch '{key}' is named, but branch '{numbers[0]}' is numbered",
                    branch.loc,
                    trace,
                    expected="branches all named, or all numbered 0, 1, 2, ... (a list of branches)",
                    found=key,
                    hint=f"number it {position}, or name every branch",
                )
            if numbers and key != str(position):
                raise SpecError(
                    "numbered branches count 0, 1, 2, ... in the order they are written",
                    branch.loc,
                    trace,
                    expected=str(position),
                    found=key,
                    hint="they are the items of a list (a torch nn.ModuleList), numbered as a list's steps are",
                )
            if not numbers and not _NAME.match(key):
                raise SpecError(
                    f"branch name '{key}' is not a plain name",
                    branch.loc,
                    trace,
                    expected="letters, digits and '_', not starting with a digit",
                    found=key,
                )
            yield key, key, branch

    def _block(self, call: Call, block: Block, path: str, xs: tuple[str, ...], env: Env, trace: tuple[str, ...]) -> str:
        name = call.call
        if name in self.stack:
            cycle = " -> ".join([*self.stack[self.stack.index(name) :], name])
            raise SpecError(
                f"block '{name}' is recursive: {cycle}",
                call.loc,
                trace,
                hint="a block cannot call itself, directly or through other blocks",
            )
        block_input = self.input_shape(xs)
        bound = self._bind_block(call, block, env, block_input, trace)
        self.stack.append(name)
        self.open_calls.append(Scope(path, ScopeKind.BLOCK, name, "", tuple(bound.items()), call.loc))
        try:
            # Lexical scope: a block's body sees the network params, its own arguments and its input.
            out = self.expand(block.body, path, xs, {**self.params, **bound, exprs.INPUT: block_input}, trace)
        except SpecError as exc:
            raise exc.called_from(name, bound.items(), call.loc) from None
        finally:
            self.stack.pop()
            self.open_calls.pop()
        arg_exprs = _arg_sources([p.name for p in block.params], call)
        inner = self.scopes.get(path)
        inner = inner if inner is not None and inner.kind is ScopeKind.BLOCK else None
        scope = Scope(path, ScopeKind.BLOCK, name, out, tuple(bound.items()), call.loc, arg_exprs, inner)
        self.scopes[path] = scope  # a block names its path, over the seq/concat inside it
        return out

    def _bind_block(
        self, call: Call, block: Block, env: Env, block_input: InputShape, trace: tuple[str, ...]
    ) -> dict[str, Any]:
        """Evaluate a block call's arguments in the caller's ``env`` and bind them to parameters;
        defaults are evaluated in the block's scope, where ``input`` is ``block_input``."""
        names = [p.name for p in block.params]
        signature = f"{call.call}({', '.join(names)})"
        if len(call.args) > len(names):
            raise SpecError(
                f"{call.call} takes {len(names)} argument{'s' if len(names) != 1 else ''}, got {len(call.args)}",
                _at(call, f"args.{len(names)}", call.args[len(names)]),
                trace,
                expected=signature,
            )
        bound: dict[str, Any] = {}
        for param, arg in zip(block.params, call.args, strict=False):
            bound[param.name] = self.value(arg, env, trace)
        for key, arg in call.kwargs.items():
            if key not in names:
                raise SpecError(
                    f"unknown argument '{key}' for block {call.call}",
                    _at(call, f"keys.{key}"),
                    trace,
                    expected=signature,
                    found=key,
                    hint=did_you_mean(key, names),
                )
            if key in bound:
                raise SpecError(f"{call.call} got two values for '{key}'", _at(call, f"keys.{key}"), trace)
            bound[key] = self.value(arg, env, trace)
        result: dict[str, Any] = {}
        for param in block.params:
            if param.name in bound:
                result[param.name] = bound[param.name]
            elif not param.required:
                scope = {**self.params, **result, exprs.INPUT: block_input}
                result[param.name] = self.value(param.default, scope, trace)
            else:
                raise SpecError(f"{call.call} is missing argument '{param.name}'", call.loc, trace, expected=signature)
        return result

    def _bind_op(
        self, cls: type[Op], call: Call, env: Env, trace: tuple[str, ...], given_words: tuple[words.Word, ...] = ()
    ) -> Op:
        """Validate the op ``call`` makes; ``given_words`` are the attributes given as bare words."""
        fields = cls.positional()
        if len(call.args) > len(fields):
            raise SpecError(
                f"{cls.op_name} takes at most {len(fields)} argument{'s' if len(fields) != 1 else ''}, "
                f"got {len(call.args)}",
                _at(call, f"args.{len(fields)}", call.args[len(fields)]),
                trace,
                expected=_signature(cls),
            )
        values: dict[str, Any] = {}
        for name, arg in zip(fields, call.args, strict=False):
            values[name] = self._attr_value(cls, name, arg, env, trace)
        for key, arg in call.kwargs.items():
            if key not in fields and key not in cls.keyword_only:
                raise SpecError(
                    f"unknown argument '{key}' for {cls.op_name}",
                    _at(call, f"keys.{key}"),
                    trace,
                    expected=_signature(cls),
                    found=key,
                    hint=cls.misnamed.get(key) or did_you_mean(key, (*fields, *cls.keyword_only)),
                )
            if key in values:
                raise SpecError(
                    f"{cls.op_name} got two values for '{key}'",
                    _at(call, f"keys.{key}"),
                    trace,
                    expected=_signature(cls),
                )
            values[key] = self._attr_value(cls, key, arg, env, trace)
        cache_key = (cls, repr(sorted(values.items())))
        cached = self.op_cache.get(cache_key)
        if cached is not None:
            return cached  # ops are frozen: identical calls share one validated instance
        try:
            op = self.op_cache[cache_key] = cls.model_validate(values)
            return op
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else None
            if err["type"] == "missing":
                raise SpecError(
                    f"{cls.op_name} is missing argument '{field}'", call.loc, trace, expected=_signature(cls)
                ) from None
            word_fields = {given for _, given in given_words}
            if field is not None and field in word_fields and not words.takes_strings(cls, field):
                # A word the attribute does not take, and that names nothing in scope: the name is the mistake.
                raise exprs.UndefinedName(
                    f"undefined name '{values[field]}'",
                    dict(_attr_locs(cls, call)).get(field) or call.loc,
                    trace,
                    expected=_in_scope(env),
                    hint=_undefined_hint(cls, field, values[field], env),
                    name=values[field],
                ) from None
            detail = err["msg"].removeprefix("Value error, ")
            detail = detail[:1].lower() + detail[1:]
            where = f"'{field}' of {cls.op_name}" if field else cls.op_name
            expected = _expected(cls, field)
            if field is None:  # a check across fields: point at the first field its message names
                named = [(m.start(), f) for f in values if (m := re.search(rf"\b{f}\b", detail))]
                field = min(named)[1] if named else None
            shown = _shown(values[field]) if field in values else None
            if expected and (err["type"].endswith(("_type", "_parsing")) or err["type"] == "literal_error"):
                detail = f"expected {expected}, found {shown}"
            raise SpecError(
                f"invalid {where}: {detail}",
                dict(_attr_locs(cls, call)).get(field or "") or call.loc,
                trace,
                expected=expected,
                found=shown,
            ) from None

    def _attr_value(self, cls: type[Op], field: str, arg: Arg, env: Env, trace: tuple[str, ...]) -> Any:
        """Evaluate the argument for attribute ``field``; an undefined name says what it takes."""
        try:
            return self.value(arg, env, trace)
        except exprs.UndefinedName as exc:
            if words.takes_strings(cls, field):
                raise  # quoting the name is one answer: the evaluator's hint says so
            raise replace(exc, hint=_undefined_hint(cls, field, exc.name, env)) from None

    def _copies(
        self, item: Layer, env: Env, trace: tuple[str, ...], name: str | None = None
    ) -> Iterator[tuple[Layer, Env, str | None]]:
        """The layers a list item contributes, each with its step name (None: numbered): itself,
        or the copies of a repeat/for, or what an ``if`` chooses (nothing when it is false and
        has no ``else``). A copy that is itself a repeat, for or if contributes its own copies,
        as nested Python loops append to one list; they take the name of the innermost named
        ``for``. Lazily: nested counts multiply, and the bound on expansion steps must see each copy."""
        for layer, layer_env, layer_name in self.copies_of(item, env, trace):
            layer_name = layer_name or name
            if isinstance(layer, Repeat | For | If):
                self._step(layer, trace)  # a nested loop of empty loops adds nothing, but takes time
                yield from self._copies(layer, layer_env, trace, layer_name)
            else:
                yield layer, layer_env, layer_name

    def copies_of(self, item: Layer, env: Env, trace: tuple[str, ...] = ()) -> list[tuple[Layer, Env, str | None]]:
        """One level of :meth:`_copies`: the copies of a repeat or for (named by a for's name
        template), or the layer an if chooses."""
        if isinstance(item, If):
            chosen = item.then if self.value(item.if_, env, trace) else item.else_
            return [] if chosen is None else [(chosen, env, None)]
        if isinstance(item, Repeat):
            count = self.value(item.repeat, env, trace)
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_REPEAT:
                raise SpecError(
                    "a repeat count must be a whole number from 0 to " + f"{MAX_REPEAT:,}",
                    _at(item, "repeat", item.repeat),
                    trace,
                    found=repr(count),
                )
            return [(item.do, env, None)] * count
        if isinstance(item, For):
            if exprs.INPUT in item.for_:
                raise SpecError(
                    f"a 'for' cannot bind the name '{exprs.INPUT}'",
                    _at(item, "for"),
                    trace,
                    expected="any other name",
                    found=", ".join(item.for_),
                    hint=f"'{exprs.INPUT}' is the layer's input tensor in expressions ({exprs.INPUT}.channels)",
                )
            values = self.value(item.in_, env, trace)
            where = _at(item, "in", item.in_)
            if not isinstance(values, list):
                raise SpecError("'for' needs a list to loop over", where, trace, found=repr(values))
            if len(values) > MAX_REPEAT:
                raise SpecError(f"'for' over {len(values):,} items is over the limit of {MAX_REPEAT:,}", where, trace)
            copies: list[tuple[Layer, Env, str | None]] = []
            for value in values:
                if len(item.for_) == 1:
                    copy_env = {**env, item.for_[0]: value}
                elif not isinstance(value, list) or len(value) != len(item.for_):
                    raise SpecError(
                        f"cannot unpack {value!r} into {', '.join(item.for_)}",
                        where,
                        trace,
                        expected=f"items of {len(item.for_)} values",
                        found=repr(value),
                    )
                else:
                    copy_env = {**env, **dict(zip(item.for_, value, strict=True))}
                copies.append((item.do, copy_env, None if item.name is None else _copy_name(item, copy_env, trace)))
            return copies
        return [(item, env, None)]

    def _close_scope(
        self,
        path: str,
        kind: ScopeKind,
        label: str,
        out: tuple[str, ...],
        xs: tuple[str, ...],
        loc: Location | None,
        trace: tuple[str, ...],
    ) -> str:
        if len(out) != 1:
            raise SpecError(f"an empty {label} cannot pass on {len(out)} inputs", loc, trace)
        if path and path not in self.scopes:
            self.scopes[path] = Scope(path, kind, label, out[0], (), loc)
        return out[0]

    def _add_node(self, node: Node) -> str:
        if node.name in self.names:
            raise SpecError(f"two layers are named '{node.name}'", node.loc, node.trace)
        if len(self.nodes) >= MAX_NODES:
            raise SpecError(
                f"the network expands to more than {MAX_NODES:,} ops",
                node.loc,
                node.trace,
                hint="a repeat or for multiplies the ops inside it; nested ones multiply each other",
            )
        self.names.add(node.name)
        self.nodes.append(node)
        return node.name

    # ------------------------------------------------------------ input shapes
    def input_shape(self, xs: tuple[str, ...]) -> InputShape:
        """What ``input`` is in a block called on ``xs``: read (and inferred) only if asked."""
        return InputShape(lambda: self.input_type(xs), xs[0] if len(xs) == 1 else None)

    def input_type(self, xs: tuple[str, ...]) -> TensorType:
        """The type of the one tensor ``xs`` names, inferring the nodes added since the last read."""
        return self.one_input(xs, self._inferred_type)

    @staticmethod
    def one_input(xs: tuple[str, ...], type_of: Callable[[str], TensorType]) -> TensorType:
        """The type of the one tensor ``xs`` names (a block given several has no ``input``)."""
        if len(xs) != 1:
            raise exprs.AttributeProblem(
                f"this block is given {len(xs)} inputs, so 'input' is none of them",
                expected="a block called on one input",
                found=", ".join(xs),
                hint="pass what the block needs of them as arguments",
            )
        return type_of(xs[0])

    def _inferred_type(self, name: str) -> TensorType:
        while name not in self.types:
            if self.shape_error is not None:  # every later read meets the same earlier mistake
                raise self.shape_error
            node = self.nodes[self.inferred]
            try:
                self.types[node.name] = infer_node(node, tuple(self.types[x] for x in node.inputs)).output
            except SpecError as exc:
                scopes = [*self.scopes.values(), *reversed(self.open_calls)]  # innermost first, where paths tie
                located = in_calls(exc, scopes, node.name)
                self.shape_error = EarlierShapeError(**{f.name: getattr(located, f.name) for f in fields(SpecError)})
                raise self.shape_error from None
            self.inferred += 1
        return self.types[name]

    def value(self, arg: Arg, env: Env, trace: tuple[str, ...]) -> Any:
        """Evaluate an argument: literals as they are, expressions in ``env``."""
        if isinstance(arg, Expr):
            return exprs.evaluate(arg.expr, env, arg.loc, trace)
        if isinstance(arg, list):
            return [self.value(a, env, trace) for a in arg]
        return arg


#: A ``{...}`` field of a loop's name template.
TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


def _copy_name(loop: For, env: Env, trace: tuple[str, ...]) -> str:
    """The step name of one copy of ``loop``: its template with each ``{expr}`` evaluated in the
    copy's ``env`` (``denselayer{i + 1}`` gives ``denselayer1``, ``denselayer2``, ...)."""
    template = loop.name or ""
    loc = _at(loop, "name")
    parts: list[str] = []
    last = 0
    for field in TEMPLATE_FIELD.finditer(template):
        value = exprs.evaluate(field[1], env, loc.shifted(field.start(1)) if loc else None, trace)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise SpecError(
                f"'{{{field[1]}}}' in the name template '{template}' gives {value!r}",
                loc,
                trace,
                expected="an int or a string",
                found=repr(value),
            )
        parts += [template[last : field.start()], str(value)]
        last = field.end()
    name = "".join([*parts, template[last:]])
    if not _COPY_NAME.match(name):
        raise SpecError(
            f"the name template '{template}' gives '{name}', which is not a plain name",
            loc,
            trace,
            expected="letters, digits, '_' and '-', starting with a letter or '_'; '{expr}' for each value",
            found=name,
            hint="a number alone cannot name a step: put a word before it ('layer{i}')",
        )
    return name


def _arg_sources(names: Sequence[str], call: Call) -> tuple[tuple[str, str], ...]:
    """The expression text of each argument of ``call`` given by an expression, by name."""
    bound = [*zip(names, call.args, strict=False), *call.kwargs.items()]
    return tuple((name, text) for name, arg in bound if (text := arg_source(arg)) is not None)


def arg_source(arg: Arg) -> str | None:
    """``{expr: "c2[0]"}`` → ``"c2[0]"``; a list holding expressions → ``"[1, k]"``; a literal → None."""
    if isinstance(arg, Expr):
        return arg.expr
    if isinstance(arg, list):
        parts = [arg_source(a) for a in arg]
        if all(p is None for p in parts):
            return None
        return "[" + ", ".join(repr(a) if p is None else p for a, p in zip(arg, parts, strict=True)) + "]"
    return None


def _at(layer: Located, part: str, arg: Arg = None) -> Location | None:
    """Where ``part`` of ``layer`` was written (see ``Located.locs``), else where the layer was."""
    if isinstance(arg, Expr) and arg.loc:
        return arg.loc
    return layer.locs.get(part) or layer.loc


def _attr_locs(cls: type[Op], call: Call) -> tuple[tuple[str, Location], ...]:
    """Where each attribute of an op call was written, for shape errors about one of them."""
    given = enumerate(zip(cls.positional(), call.args, strict=False))
    spots = [(name, _at(call, f"args.{i}", arg)) for i, (name, arg) in given]
    spots += [(name, _at(call, f"kwargs.{name}", arg)) for name, arg in call.kwargs.items()]
    return tuple((name, loc) for name, loc in spots if loc is not None)


def _in_scope(env: Env) -> str:
    return "a block parameter or network param: " + (", ".join(sorted(env)) or "(none defined)")


def _undefined_hint(cls: type[Op], field: str, name: str, env: Env) -> str:
    """What to write instead of ``name``, undefined, for attribute ``field`` (which takes no string)."""
    takes = _expected(cls, field) or "a value"
    return did_you_mean(name, env) or (
        f"'{field}' of {cls.op_name} takes {takes}: write one, or define '{name}' under 'params:' "
        "or as a parameter of the block"
    )


def _signature(cls: type[Op]) -> str:
    keywords = ["*", *cls.keyword_only] if cls.keyword_only else []  # Python's mark for keyword-only
    return f"{cls.op_name}({', '.join([*cls.positional(), *keywords])})"


def _kind(value: Any) -> str:
    """A value's kind in the spec language's words: ``an int``, ``a string``."""
    kinds = {bool: "a boolean", int: "an int", float: "a number", str: "a string", list: "a list", dict: "a map"}
    return kinds.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A value with its kind, as an error's 'found': ``the string '2'``, ``the list [True]``."""
    kinds = {str: "the string", bool: "the boolean", int: "the int", float: "the number", list: "the list"}
    if value is None:
        return "null"
    return f"{kinds.get(type(value), type(value).__name__)} {value!r}"


def _expected(cls: type[Op], field: str | None) -> str | None:
    """What a field accepts, in words: ``an int > 0, or a list of 2 of them``."""
    if not field or field not in cls.model_fields:
        return None
    info = cls.model_fields[field]
    if info.description:
        return info.description
    return _type_words(info.annotation, list(info.metadata), cls.spatial if field in cls.spatial_fields else 0)


_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _type_words(tp: Any, metadata: list[Any], spatial: int = 0) -> str:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        extra = [m for item in args[1:] for m in getattr(item, "metadata", [item])]
        return _type_words(args[0], [*metadata, *extra], spatial)
    bounds = [
        f" {_BOUNDS[f.name]} {getattr(m, f.name)}"
        for m in metadata
        if is_dataclass(m)
        for f in fields(m)
        if f.name in _BOUNDS
    ]
    simple = {bool: "true or false", int: "an int", float: "a number", str: "a string", type(None): "null"}
    if tp in simple:
        return simple[tp] + ",".join(bounds)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (Union, UnionType):
        return ", or ".join(_type_words(a, [], spatial) for a in args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _type_words(args[0], [])
        return f"{item}, or a list of {spatial} of them" if spatial > 1 else item if spatial else f"a list of ({item})"
    if origin is tuple:
        return "a list of " + str(len(args)) + ": " + ", ".join(_type_words(a, []) for a in args)
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def resolve_params(spec: Spec, overrides: Mapping[str, Any], file: str) -> dict[str, Any]:
    """Network params with ``--set`` overrides applied; unknown names are errors."""
    if exprs.INPUT in spec.params:
        raise SpecError(
            f"a network param cannot be named '{exprs.INPUT}'",
            spec.locs.get(f"params.{exprs.INPUT}") or spec.locs.get("params") or Location(file),
            expected="any other name",
            found=exprs.INPUT,
            hint=f"'{exprs.INPUT}' is the layer's input tensor in expressions ({exprs.INPUT}.channels): "
            "rename the param",
        )
    params = dict(spec.params)
    for key, value in overrides.items():
        if key not in params:
            raise SpecError(
                f"unknown param '{key}' in --set",
                spec.locs.get("params") or Location(file),
                expected="one of " + one_of(params),
                hint=did_you_mean(key, params),
            )
        old = params[key]
        if old is not None and type(old) is not type(value) and not (isinstance(old, float) and type(value) is int):
            raise SpecError(
                f"--set {key}: the spec's value is {_kind(old)}, the new one {_kind(value)}",
                spec.locs.get(f"params.{key}") or Location(file),
                expected=f"{_kind(old)} like {old!r}",
                found=repr(value),
            )
        params[key] = value
    return params


def lower(
    program: Program, overrides: Mapping[str, Any] | None = None, input_shape: InputShapes | None = None
) -> Graph:
    """Expand a program into the graph IR (shapes are inferred separately). ``input_shape`` gives
    the one input other dims, or named inputs theirs (``{"image": [1, 3, 64, 64]}``)."""
    spec = program.spec
    params = resolve_params(spec, overrides or {}, program.file)
    inputs = interface.input_types(spec, params, input_shape, program.file)
    interface.check_network_takes(spec, inputs, program.file)
    expander = Expander(program, params, inputs)
    xs = tuple(inputs)
    # The network's own layers read the network's input as 'input', as a block's read the block's.
    network_env = {**params, exprs.INPUT: expander.input_shape(xs)}
    out = expander.expand(spec.network, "", xs, network_env, ())
    if expander.errors:
        raise gathered(expander.errors)
    if out in inputs:
        raise SpecError("the network has no layers", spec.loc)
    steps = interface.top_level_steps(expander.nodes, expander.scopes)
    interface.check_input_names(spec, inputs, steps, program.file)
    interface.check_inputs_read(spec, inputs, expander.nodes, program.file)
    graph = Graph(
        name=spec.name,
        inputs=inputs,
        nodes=tuple(expander.nodes),
        outputs=interface.outputs_of(spec, inputs, steps, out, program.file, expander.absent_steps),
        scopes=tuple(expander.scopes.values()),
        doc=spec.doc,
        params=tuple(params.items()),
        named_outputs=spec.outputs is not None,
        program=program,
    )
    graph.verify()
    return graph
