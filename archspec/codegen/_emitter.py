"""Source generation shared by the backends: a spec's blocks written as Python classes.

The generator reads the definitions a graph was expanded from (``Graph.program``), not the flat
graph: each block becomes one class over its parameters, with the spec's ``if``, ``repeat`` and
``for`` written as Python ``if`` and ``for`` (a list built in a loop, as torchvision's
``_make_layer`` builds one). The flat graph is one instance of those classes and says what the
definitions do not: every tensor's type, and every op as validated.

Each instance of a block is written out on its own first (a :class:`~archspec.codegen._drafts.Draft`),
every value the spec gave as an expression written as that expression where it is exact for
that instance (:mod:`archspec.codegen._terms`), else as its value. Instances written the same
share a class; one whose text differs (a value its parameters cannot express) gets a numbered
variant of its own, so the code is correct for every instance by construction. Channel counts
are followed symbolically: a class that reads its input's channels takes them (``in_channels``),
and a list whose steps change them in a loop carries a ``channels`` variable, as torchvision's
``input_channel``. The branch of an ``if`` an instance does not take is written from a scratch
expansion of it, or, where that cannot be expanded with this instance's values (a residual sum
of unequal channels), from an instance that takes it.

The network class takes each network param whose other values it follows: the spec is expanded
again with the param changed (:func:`other_values`) and written again, and the param is taken
only if the source is the same.

:class:`ClassEmitter` is all of that, framework-free. A backend subclasses it with its
vocabulary (base classes, the forward method's name, the tensor annotation, its lowering rules
and helpers) and overrides the hooks where its framework differs.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import keyword
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

from archspec.backends import EmittedSource, LoweringBug, Lowerings
from archspec.codegen._context import LoweringContext
from archspec.codegen._drafts import Draft, Parameter, Site, resolve, same_lines
from archspec.codegen._namespace import MODULE_NAMES, Namespace, is_free_identifier
from archspec.codegen._terms import SPEC_CONSTANTS, BoundEnv, Env, Term, expression, parameter, same_value
from archspec.codegen._text import (
    INDENT,
    MAX_LINE,
    RUFF_LINE,
    call_source,
    dedented,
    docstring,
    file_stem,
    literal_lines,
    one_line,
    wrapped,
)
from archspec.errors import InternalError, SpecError
from archspec.infer import ShapeReport, infer_shapes
from archspec.ir import GRAPH_INPUT, GRAPH_OUTPUT, Graph, Node, Scope, ScopeKind, TensorType
from archspec.ops.merge import Concat as ConcatOp
from archspec.spec.expand import TEMPLATE_FIELD, Expander, Program, arg_source, lower
from archspec.spec.expr import INPUT
from archspec.spec.input_shape import InputShape
from archspec.spec.model import (
    Add,
    Block,
    Call,
    Concat,
    Dag,
    DagNode,
    Expr,
    For,
    If,
    Layer,
    Located,
    Mul,
    Repeat,
    Seq,
    numbered,
)

#: The attributes that size an op's output: its channels (axis 1), or its last axis.
_OUT_SIZE_FIELDS = ("out_channels", "out_features", "dim")
_LAST_AXIS_FIELDS = ("out_features", "dim")


class Helper(Protocol):
    """A definition a lowering may need at the top of the generated file (a backend's own class)."""

    name: str
    source: str
    needs: tuple[str, ...]


class FunctionCall(Protocol):
    """What a lowering returns for an op written inline, as a merge in forward (a backend's own class)."""

    needs: tuple[str, ...]
    helpers: tuple[str, ...]  # helpers of the file it calls
    #: Its expression over one list expression of all its inputs (numbered branches), or None.
    over: Callable[[str], str] | None

    def render(self, args: list[str]) -> str: ...


@dataclass(frozen=True)
class View:
    """The instance a walk writes: the expanded graph, or a scratch expansion of a branch it does
    not take, with its shapes and block calls by path (outermost first where blocks nest)."""

    graph: Graph
    report: ShapeReport
    calls: Mapping[str, tuple[Scope, ...]]

    @classmethod
    def of(cls, graph: Graph, report: ShapeReport) -> View:
        calls: dict[str, tuple[Scope, ...]] = {}
        for scope in graph.scopes:
            if scope.kind is ScopeKind.BLOCK:
                chain: list[Scope] = []
                inner: Scope | None = scope
                while inner is not None:
                    chain.append(inner)
                    inner = inner.inner
                calls[scope.path] = tuple(chain)
        return cls(graph, report, calls)

    @functools.cached_property
    def nodes(self) -> dict[str, Node]:
        return {node.name: node for node in self.graph.nodes}

    @functools.cached_property
    def outputs(self) -> dict[str, str]:
        """The value each composite of the graph produces, by its path."""
        return {scope.path: scope.output for scope in self.graph.scopes}

    def type(self, name: str) -> TensorType:
        info = self.report.info.get(name)
        return info.output if info is not None else self.graph.inputs[name]

    @functools.cached_property
    def reads(self) -> dict[str, set[str]]:
        """The values each block call reads from outside it, by its path."""
        reads: dict[str, set[str]] = {path: set() for path in self.calls}
        for node in self.graph.nodes:
            parts = node.name.split(".")
            for path in (".".join(parts[:i]) for i in range(1, len(parts) + 1)):
                if path in reads:
                    reads[path].update(x for x in node.inputs if x != path and not x.startswith(path + "."))
        return reads

    def input_parameter(self, block: Block, name: str) -> str | None:
        """The parameter of ``block`` (called ``name``) that is its input's channels wherever the
        network calls it, if one is (ConvNeXt's ``cn_block(dim)``): its class takes its input's size
        as that parameter, as torchvision's ``CNBlock(dim, ...)`` does, not as an ``in_channels`` too."""
        if name not in self.input_parameters:
            self.input_parameters[name] = self._input_parameter(block, name)
        return self.input_parameters[name]

    @functools.cached_property
    def input_parameters(self) -> dict[str, str | None]:
        """:meth:`input_parameter` by block, once worked out."""
        return {}

    def _input_parameter(self, block: Block, name: str) -> str | None:
        candidates, called = [p.name for p in block.params], False
        for path, chain in self.calls.items():
            for scope in (s for s in chain if s.label == name):
                outside = self.reads[path]
                size = _size(self.type(next(iter(outside)))) if len(outside) == 1 else None
                args = dict(scope.args)
                candidates = [p for p in candidates if type(args.get(p)) is int and args[p] == size]
                called = True
        return candidates[0] if candidates and called else None


@dataclass
class Built:
    """A layer as written in a class: its constructor and what it gives."""

    source: str
    out: Term
    output: str
    #: Statements that run before ``source`` (a list built in a loop), indented where it goes.
    setup: list[str] = field(default_factory=list)
    #: A merge written in forward (``a + b``) rather than as a module.
    inline: Callable[[list[str]], str] | None = None
    #: A list whose first step merges several values: its caller computes that merge.
    entry: Callable[[list[str]], str] | None = None
    #: The values an inline op reads after the one its step is given: the layer's input, whose
    #: size an ``upsample`` follows (see :mod:`archspec.ops.resize`).
    reads: tuple[str, ...] = ()
    #: An ``if`` too long for one line: its condition and branches, which an attribute is
    #: assigned from in an ``if`` statement (``source`` and ``setup`` do it through a variable).
    choice: tuple[str, Built, Built] | None = None
    #: A value the class holds (a learnable tensor, the lowering of an op of no inputs): forward
    #: reads the attribute instead of calling it.
    read: bool = False
    #: An instance whose output size its class keeps as ``out_channels``: given the attribute it
    #: is assigned to, the statement that reads the size into a variable, and the size as that
    #: variable (see :attr:`Draft.wide_out`).
    out_read: Callable[[str], tuple[str, Term]] | None = None


@dataclass
class Frame:
    """One class being written for one instance: its names, their values, where it reads."""

    env: Env
    spec_env: Mapping[str, Any]
    view: View
    local: Namespace
    label: str
    used: set[str] = field(default_factory=set)
    threaded: set[str] = field(default_factory=set)
    #: Block calls entered at each path (a block whose body is one call shares its path).
    entered: dict[str, int] = field(default_factory=dict)
    #: The spec block the class is written for, and where in it the walk is (for ``if`` sites).
    block: str | None = None
    #: How many scratch expansions deep the walk is (see :meth:`ClassEmitter._scratch`).
    scratch: int = 0
    #: The size of the merge a list class starts with, which its caller computes (a parameter).
    merged: Term | None = None
    #: Local variables holding a running channel count (``channels``), reusable by inner loops.
    running: set[str] = field(default_factory=set)
    #: Whether an ``if``'s size is written as the ``if`` chooses it, even where one branch's is
    #: exact here: a loop whose copies take different branches then writes each copy the same.
    alike: bool = False
    #: The ``if`` steps of the walk whose branches' sizes were written apart, where ``alike``
    #: matters (one list for the class: copies of the frame add to it).
    choices: list[str] = field(default_factory=list)
    #: The output size of named steps in the variable they keep it in (``channels + growth``),
    #: where that is shorter than in the class's parameters' terms.
    kept_out: Term | None = None
    #: The values the class is given, which an op may read besides its step's input (a resize to
    #: the size of the block's input); elsewhere the op is written for this instance's sizes.
    given: tuple[str, ...] = ()
    #: The last step of the class's own list, and that step where it reads the class's input too:
    #: the class's forward computes it after the list, as torchvision's ASPPPooling resizes.
    last_step: Layer | None = None
    tail: Built | None = None

    def write(self, term: Term) -> str:
        self.used |= term.names
        return term.source


# Items of a list being built: one layer, a loop, or a choice.
@dataclass
class _One:
    built: Built
    #: Its name as Python, in a class whose layers are named (a ``for`` with a name template).
    key: str | None = None


@dataclass
class _Loop:
    header: str
    body: list[_Item]
    before: list[str]
    carry: list[str]
    #: The channel variable it carries (none: ""), and what every copy leaves in it, readable after
    #: the loop (AnyStage's width_out).
    var: str = ""
    left: Term | None = None


@dataclass
class _When:
    cond: str
    then: list[_Item]
    otherwise: list[_Item]


_Item = _One | _Loop | _When


class ClassEmitter:
    """Writes one graph's spec as a Python module of a framework's classes (see the module docstring)."""

    # ------------------------------------------------------------------ the framework's vocabulary
    #: ``nn.Sequential``, ``nn.Module``, ``nn.ModuleList``: the bases of generated classes (the
    #: last holds numbered branches, ``{0: a, 1: b}``, and merges them in its forward).
    sequential_base: ClassVar[str]
    module_base: ClassVar[str]
    list_base: ClassVar[str]
    #: The method adding a layer to a class by name (``self.add_module``), and the names of the
    #: class's own attributes beyond a module's, which no layer may take.
    add_named: ClassVar[str]
    named_reserved: ClassVar[frozenset[str]]
    #: The name of the method that computes (``forward``) and the annotation of its tensors.
    call_method: ClassVar[str]
    tensor_type: ClassVar[str]
    #: How an error names what a layer name must be (``a torch submodule name``) and the module class.
    attribute_role: ClassVar[str]
    module_class: ClassVar[str]
    #: Names of the parameters :meth:`extra_parameters` adds (Flax's ``rngs``, ``data_format``): a
    #: spec parameter so named is written as its value, not as a parameter of a generated class.
    extra_parameter_names: ClassVar[frozenset[str]] = frozenset()
    #: Names the forward method's locals must not take, beyond :data:`MODULE_NAMES`.
    forward_reserved: ClassVar[frozenset[str]] = frozenset()
    lowerings: ClassVar[Lowerings[Any, Any]]
    helper_table: ClassVar[Mapping[str, Helper]]
    function_type: ClassVar[type[FunctionCall]]  # the backend's FunctionCall class
    #: What the rules are given: the backend's own subclass where its rules need more.
    context_type: ClassVar[type[LoweringContext]] = LoweringContext

    def __init__(self, graph: Graph, report: ShapeReport, reserved_attributes: frozenset[str]) -> None:
        if graph.program is None:
            raise InternalError(f"graph '{graph.name}' has no program: source is written from block definitions")
        self.graph = graph
        self.report = report
        self.program: Program = graph.program
        self.reserved_attributes = reserved_attributes
        self.view = View.of(graph, report)
        self.expander = Expander(self.program, dict(graph.params), graph.inputs)
        # Module-level names never equal a parameter's, which would shadow them inside a class.
        self.parameter_names = {p.name for b in self.program.blocks.values() for p in b.params} | {
            k for k, _ in graph.params
        }
        #: The network params' values the network class declares (another emit's, when this one
        #: checks whether the class follows a changed value: see :meth:`_followed_params`).
        self.defaults: dict[str, Any] = dict(graph.params)
        self.helpers: list[str] = []
        self.needs: set[str] = set()
        self.drafts: dict[int, Draft] = {}
        self.instances: dict[tuple[int, str, int, int], tuple[View, Draft]] = {}
        self.loop_names = _loop_names(self.program)
        self.block_globals: dict[str, tuple[str, ...]] = {}  # see _globals
        self.network_values: dict[str, Any] = dict(graph.params)  # the network params' values in this graph
        #: Per lowered node, the attributes its module holds a canonical parameter under where the
        #: names differ (Flax's ``nnx.Embed`` holds ``weight`` as ``embedding``): what ties assign.
        self.variables: dict[str, dict[str, str]] = {}
        #: Scratch expansions written so far (see :meth:`_scratch`), against :data:`_SCRATCH_BUDGET`.
        self.scratches = 0
        #: The network params the network class takes, once written (see :meth:`emit`).
        self.taken: set[str] = set()
        #: Params the network class cannot take: those a list run in slices reads (see
        #: :meth:`_read_in_slices`), whose slice bounds and read sizes are this instance's.
        self.pinned: set[str] = set()

    # ------------------------------------------------------------------ hooks
    def imports(self) -> list[str]:
        """The file's import lines, once every class is written (``self.needs`` is complete)."""
        raise NotImplementedError

    def context(
        self,
        node: Node,
        inputs: tuple[TensorType, ...],
        output: TensorType,
        env: Env,
        sizes: tuple[Term, ...],
        graph: Graph,
    ) -> LoweringContext:
        """What the lowering rule of ``node`` (a node of ``graph``) is given."""
        return self.context_type(node, inputs, output, env, sizes)

    def module_init(self) -> list[str]:
        """The first lines of a Module class's ``__init__`` body."""
        return []

    def sequential_call(self, tail: Callable[[list[str]], str] | None, root: bool) -> list[str]:
        """The method lines a Sequential class gets: none by default, or, where its last step
        reads its input too (``tail``, given that step's input and the class's), one that runs
        the layers then that step, as torchvision's ASPPPooling resizes to its input's size."""
        if tail is None:
            return []
        method = f"{INDENT}def {self.call_method}(self, x: {self.tensor_type}) -> {self.tensor_type}:"
        return ["", method, f"{INDENT * 2}return {tail([f'super().{self.call_method}(x)', 'x'])}"]

    def root_init(self, init: list[str], threaded: set[str]) -> None:
        """Adjust the network class's ``__init__`` body."""

    def extra_parameters(self, threaded: set[str], root: bool) -> list[str]:
        """``__init__`` parameters after the class's own (keyword-only ones, with their ``*``)."""
        return []

    def root_forward(self, lines: list[str], params: list[str], result: str, local: Namespace) -> str:
        """Adjust the network class's forward body; returns the expression it returns."""
        return result

    def threaded_by(self, lowered: Any) -> set[str]:
        """The arguments a layer's constructor is handed (Flax's ``rngs``)."""
        return set()

    def layer_source(self, lowered: Any, indent: str) -> str:
        """A layer's constructor expression."""
        return call_source(lowered.constructor, lowered.arguments(), indent)

    def named_base(self) -> str:
        """The base of a class of layers applied in order, each under the name a ``for``'s template
        gives it (torchvision's ``_DenseBlock``, RegNet's ``AnyStage``)."""
        raise NotImplementedError

    def attribute_read(self, attr: str) -> str:
        """How forward reads a tensor the class holds as attribute ``attr`` (a ``param`` step)."""
        return f"self.{attr}"

    def pass_through(self) -> str:
        """A layer that returns its input: the slot of a list's first step when its caller computes
        that step (a merge of several values), so the later steps keep their numbers."""
        raise NotImplementedError

    # ------------------------------------------------------------------ entry
    def emit(self, checked_signature: bool = True) -> EmittedSource:
        """The graph's spec as Python source (see the module docstring). Without
        ``checked_signature``, the network class takes every param that has other values, checked
        for none: its classes are the same, exact for this graph's values, which is all that
        building this graph's module needs (the check expands the spec again)."""
        params = dict(self.graph.params)
        candidates = [k for k, v in params.items() if self._usable_parameter(k) and other_values(v)]
        if not candidates or not checked_signature:
            return self._write(candidates)
        # The network class takes a param if the source is the same with its other values: all of
        # them changed at once first (their first other values, then their second, ...), then (if
        # that changes it or makes no valid network) one at a time. A param the class does not
        # read is none of its parameters whatever it follows: it is not tried.
        writer = type(self)(self.graph, self.report, self.reserved_attributes)
        baseline = writer._write(candidates)
        read = [k for k in candidates if k in writer.taken]
        others = {k: other_values(params[k]) for k in read}
        rounds = [{**params, **{k: v[min(n, len(v) - 1)] for k, v in others.items()}} for n in range(3)]
        if all(
            self._source_with(changed) == baseline.source
            for n, changed in enumerate(rounds)
            if changed not in rounds[:n]
        ):
            return baseline
        followed = [k for k in read if self._follows(params, k, baseline.source)]
        return baseline if followed == read else self._write(followed)

    def _follows(self, params: dict[str, Any], name: str, baseline: str) -> bool:
        """Whether the source is the same with each other value of param ``name`` that makes a
        valid network (one at least): a table one row shorter can change a size the rows do not
        (VGG's flatten reads the map size its pools leave)."""
        valid = False
        for value in other_values(params[name]):
            source = self._source_with({**params, name: value})
            if source is not None and source != baseline:
                return False
            valid = valid or source is not None
        return valid

    def _write(self, followed: Sequence[str]) -> EmittedSource:
        root = self._root(followed)
        if self.pinned & set(followed):  # written again, the class taking none of them
            fresh = type(self)(self.graph, self.report, self.reserved_attributes)
            fresh.defaults = self.defaults
            written = fresh._write([name for name in followed if name not in self.pinned])
            self.taken = fresh.taken
            return written
        self.taken = {p.name for p in root.params}
        classes = resolve(root, self.drafts, self.helper_table.keys() | self.parameter_names)
        imports = self.imports()
        doc = f'"""{self.graph.name}: generated by archspec from its spec; edit the spec, not this file."""'
        body = "\n\n\n".join([*self.helpers, *(c.text for c in classes)])
        source = wrapped(f"{doc}\n\n" + "\n".join(imports) + "\n\n\n" + body + "\n")
        digest = hashlib.sha256(source.encode()).hexdigest()[:10]
        return EmittedSource(
            source=source,
            filename=f"archspec_generated_{file_stem(self.graph.name)}_{digest}.py",
            entry=classes[-1].name,
            imports=tuple(imports),
            classes={c.name: c.block for c in classes if c.block is not None},
        )

    def _source_with(self, params: dict[str, Any]) -> str | None:
        """The source of the spec expanded with ``params``, its class taking every param that has
        another value and declaring this graph's values (None if ``params`` make no valid network)."""
        try:
            graph = lower(self.program, params, {name: list(t.shape) for name, t in self.graph.inputs.items()})
            emitter = type(self)(graph, infer_shapes(graph), self.reserved_attributes)
        except SpecError:
            return None
        emitter.defaults = self.defaults
        return emitter._write([k for k, v in params.items() if emitter._usable_parameter(k) and other_values(v)]).source

    # ------------------------------------------------------------------ classes
    def _root(self, followed: Sequence[str]) -> Draft:
        values = {k: v for k, v in self.graph.params if k in followed}
        inputs = tuple(self.graph.inputs)
        spec_env = {**dict(self.graph.params), INPUT: _input_of(inputs, self.view)}
        frame = Frame(Env(values), spec_env, self.view, self._local(values), self.graph.name)
        signature = [Parameter(k, self.defaults[k]) for k in values]
        network = self.program.spec.network
        while True:  # the network class is the layer the network comes down to
            if isinstance(network, If) and network.else_ is not None:  # chosen here, from the params
                network = network.then if self.expander.value(network.if_, frame.spec_env, ()) else network.else_
            elif isinstance(network, Call) and network.call in self.program.blocks:  # its body, in its terms
                block, scope = self.program.blocks[network.call], self.view.calls[""][frame.entered.get("", 0)]
                given = self._given(network, block, dict(scope.args), frame)
                env = BoundEnv(frame.env, {k: t for k, (t, _) in given.items()})
                spec_env = {**dict(self.graph.params), **dict(scope.args), INPUT: spec_env[INPUT]}
                frame = replace(frame, env=env, spec_env=spec_env, entered={"": frame.entered.get("", 0) + 1})
                network = block.body
            else:
                break
        if isinstance(network, Call):  # one op: a class holding it
            network = Seq.model_construct(seq={network.call: network}, loc=network.loc)
        doc = self.graph.doc or f"The {self.graph.name} network."
        return self._draft(
            network, "", inputs, None, frame, self.graph.name, doc, signature, root=True, keep=_read(frame)
        )

    def _local(self, values: Mapping[str, Any]) -> Namespace:
        """The names an ``__init__`` may give its variables: none of its parameters', the module's,
        or a loop variable's of the spec."""
        return Namespace(MODULE_NAMES | set(values) | self.helper_table.keys() | self.loop_names | {"self"})

    def _draft(
        self,
        body: Layer,
        path: str,
        xs: tuple[str, ...],
        in_term: Term | None,
        frame: Frame,
        label: str,
        doc: str,
        signature: list[Parameter],
        root: bool = False,
        keep: Callable[[Parameter], bool] = lambda p: True,
    ) -> Draft:
        """Write the class whose ``__init__`` builds ``body`` for one instance (``frame``)."""
        ins = (in_term,) if in_term is not None else tuple(Term(_size(frame.view.type(x))) for x in xs)
        frame.given = xs
        entry = None
        sites: dict[str, Site] = {}
        first: list[str] = []  # the first lines of __init__: a Module's super().__init__()
        if _is_list(body) or _is_named_loop(body):
            built = self._sequence(body, path, xs, ins, frame, INDENT * 2, own=True)
            init, out, entry = built.setup, built.out, built.entry
            forward = self.sequential_call(frame.tail.inline if frame.tail and frame.tail.inline else None, root)
            base = self.named_base() if _is_named_loop(body) else self.sequential_base
        elif isinstance(body, Concat | Add | Mul) and numbered(_branches(body)) and not root:
            init, forward, out = self._numbered_branches(body, path, xs, ins, frame, INDENT * 2)
            base = self.list_base
        else:
            init, forward, out = self._module(body, path, xs, ins, frame, INDENT * 2, sites, root)
            base, first = self.module_base, self.module_init()
        if root:
            init += self._ties()
            self.root_init(init, frame.threaded)
        needed = {name for p in signature for name in _names(p.computed)}  # what computed defaults read
        params = [p for p in signature if keep(p) or p.name in needed]
        read = frame.used | needed
        # the input's size as a parameter of its own, unless it is one the class takes anyway
        own = in_term is not None and in_term.source in read and in_term.source not in {p.name for p in params}
        in_param = in_term.source if own and in_term is not None else None
        if in_param is not None:
            params.insert(0, Parameter(in_param))
        arguments = ["self", *(p.declaration for p in params), *self.extra_parameters(frame.threaded, root)]
        names = {p.name for p in params} | {in_param or ""}
        passable = _passable(out, names)
        kept = frame.kept_out if frame.kept_out is not None and isinstance(body, Seq) else out
        wide = not passable and out.names and out.names <= names and len(kept.source) <= _MAX_SIZE_TEXT
        lines = [
            docstring(doc, INDENT),
            "",
            f"{INDENT}{call_source('def __init__', arguments, INDENT)} -> None:",
            *first,
            *(line for p in params for line in p.fill_lines(INDENT * 2)),
            *init,
            *forward,
        ]
        draft = Draft(
            uid=len(self.drafts) + 1,
            label=label,
            block=frame.block if not root else None,
            base=base,
            lines=lines,
            params=tuple(params),
            in_param=in_param,
            out_size=out if passable else None,
            threaded=frozenset(frame.threaded),
            sites=sites,
            entry=entry,
            wide_out=out if wide and not any(f"self.{_OUT_ATTRIBUTE} " in line for line in lines) else None,
            out_line=f"{INDENT * 2}self.{_OUT_ATTRIBUTE} = {kept.source}",
            init_end=len(lines) - len(forward),
        )
        self.drafts[draft.uid] = draft
        return draft

    # ------------------------------------------------------------------ module classes
    def _module(
        self,
        body: Layer,
        path: str,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
        sites: dict[str, Site],
        root: bool,
    ) -> tuple[list[str], list[str], Term]:
        """A Module class's ``__init__`` lines, forward method and output size."""
        local = Namespace(MODULE_NAMES | self.forward_reserved)
        if root and GRAPH_INPUT not in xs:  # the network's named inputs: forward(self, image, mask)
            params = [local.new(x) for x in xs]
        elif len(xs) == 1:
            params = [local.new("x")]
        else:
            params = [local.new(f"x{i}") for i in range(1, len(xs) + 1)]
        init, lines, out = self._module_body(body, path, xs, ins, frame, indent, sites, params, local, root)
        returns = self.tensor_type
        if root:
            result = lines.pop().removeprefix("return ")
            lines.append(f"return {self.root_forward(lines, params, result, local)}")
            returns = f"dict[str, {self.tensor_type}]" if self.graph.named_outputs else returns
        signature = ", ".join(["self", *(f"{p}: {self.tensor_type}" for p in params)])
        method = f"{INDENT}def {self.call_method}({signature}) -> {returns}:"
        return init, ["", method, *(INDENT * 2 + line for line in lines)], out

    def _module_body(
        self,
        body: Layer,
        path: str,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
        sites: dict[str, Site],
        params: list[str],
        local: Namespace,
        root: bool = False,
    ) -> tuple[list[str], list[str], Term]:
        """``body``'s attributes (``__init__`` lines at ``indent``), its forward statements (ending
        with a ``return``) and its output size."""
        init: list[str] = []
        values = dict(zip(xs, params, strict=True))
        match body:
            case Seq():
                assert isinstance(body.seq, dict)
                steps = [(key, item, frame) for key, item in body.seq.items()]
                return self._named_steps(steps, path, xs, ins, indent, params, local, values, init)
            case Concat() | Add() | Mul():
                branches = _branches(body)
                if numbered(branches):  # a list class of its own, which a Module class here cannot be
                    where = "the network's class" if root else "one side of an 'if' between module bodies"
                    raise SpecError(
                        f"numbered branches are held in a list, which {where} cannot be",
                        body.loc,
                        hint="make the merge a named step ('convs: {concat: {0: ..., 1: ...}}')",
                    )
                args, outs = [], []
                for key, branch in _named(branches):
                    built = self._layer(branch, _join(path, key), xs, ins, frame, indent)
                    args.append(self._use(key, _join(path, key), branch, built, _args(values, xs, built), init, indent))
                    outs.append(built.out)
                node = frame.view.graph.node(path or _MERGE_WORDS[type(body)])
                lowered, out = self._lower(node, tuple(outs), frame)
                return init, [f"return {self._inline(node, lowered)(args)}"], out
            case Dag():
                return self._dag(body, path, xs, ins, frame, indent, params, local, init)
            case If():
                return self._if_class(body, path, xs, ins, frame, indent, sites, params, local, root)
        raise InternalError(f"a {type(body).__name__} is not the body of a module class")

    def _numbered_branches(
        self, body: Concat | Add | Mul, path: str, xs: tuple[str, ...], ins: tuple[Term, ...], frame: Frame, indent: str
    ) -> tuple[list[str], list[str], Term]:
        """A class that is the list of numbered branches (``{0: a, 1: b}``) and merges what each
        gives in forward, as torchvision's ASPP does over its ``nn.ModuleList``: ``__init__``
        lines, the forward method and the output size."""
        setup: list[str] = []
        sources: list[str] = []
        outs: list[Term] = []
        for key, branch in _named(_branches(body)):
            built = self._layer(branch, _join(path, key), xs, ins, frame, indent + INDENT)
            if built.inline is not None or built.entry is not None or built.read:
                raise SpecError(
                    f"numbered branch {key} is no layer a list can hold (a merge, or a tensor)",
                    branch.loc,
                    hint="make it a layer that reads the merge's input (a call, a list, a block)",
                )
            setup += built.setup
            sources.append(built.source)
            outs.append(built.out)
        node = frame.view.graph.node(path or _MERGE_WORDS[type(body)])
        lowered, out = self._lower(node, tuple(outs), frame)
        merge = self._inline(node, lowered)
        local = Namespace(MODULE_NAMES | self.forward_reserved)
        x, branch_name = local.new("x"), local.new("branch")
        if lowered.over is not None:
            result = lowered.over(f"[{branch_name}({x}) for {branch_name} in self]")
        else:
            result = merge([f"self[{i}]({x})" for i in range(len(sources))])
        inner = indent + INDENT
        items = [f"{inner}{INDENT}{_deeper(source)}," for source in sources]  # written one level in
        init = [*setup, f"{indent}super().__init__(", f"{inner}[", *items, f"{inner}]", f"{indent})"]
        method = f"{INDENT}def {self.call_method}(self, {x}: {self.tensor_type}) -> {self.tensor_type}:"
        return init, ["", method, f"{INDENT * 2}return {result}"], out

    def _named_steps(
        self,
        steps: list[tuple[str, Layer, Frame]],
        path: str,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        indent: str,
        params: list[str],
        local: Namespace,
        values: dict[str, str],
        init: list[str],
    ) -> tuple[list[str], list[str], Term]:
        """Named steps, each reading the one before: attributes, and a forward that chains them.
        A size computed from the class's parameters is kept in a variable that later steps read, as
        torchvision's DenseNet keeps ``num_features``, not written out again and again; the class's
        own size is that variable's expression."""
        current, sizes, lines = xs, ins, []
        channels, full = "", Term(None)  # the variable, and its expression in the class's parameters
        for number, (key, item, frame) in enumerate(steps, start=1):
            built = self._layer(item, _join(path, key), current, sizes, frame, indent)
            call = self._use(key, _join(path, key), item, built, _args(values, current, built), init, indent)
            if built.read:  # an attribute: later steps read it where they use it
                values[built.output] = call
            else:
                var = params[0] if len(xs) == 1 and not self._returns_several(path) else local.new(key)
                lines.append(f"{var} = {call}")
                values[built.output] = var
            current, sizes = (built.output,), (built.out,)
            if channels and built.out.source == channels:
                continue
            full = frame.env.substitute(built.out.value, built.out.expr, {channels: full}) if channels else built.out
            started = channels or len(built.out.source) >= _MIN_KEPT_TEXT  # once kept, kept up to date
            if number < len(steps) and started and _compound(built.out) and not full.is_literal:
                channels = channels or frame.local.new("channels")
                init.append(f"{indent}{channels} = {frame.write(built.out)}")
                frame.env.values[channels] = built.out.value
                frame.running.add(channels)
                sizes = (Term(built.out.value, parameter(channels)),)
        frame.kept_out = sizes[0] if channels else None
        if channels:
            init[:] = _read_stores(init, channels)
        return init, self._returning(lines, values, current[0], path), full if channels else sizes[0]

    def _dag(
        self,
        body: Dag,
        path: str,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
        params: list[str],
        local: Namespace,
        init: list[str],
    ) -> tuple[list[str], list[str], Term]:
        values = dict(zip(xs, params, strict=True))
        outputs: dict[str, tuple[str, Term]] = {}
        current, sizes = xs, ins
        lines: list[str] = []
        # the nodes there for this instance's values (as in its graph)
        there = {key: node for key, node in body.dag.items() if self.expander.value(node.if_, frame.spec_env, ())}
        read_steps = _read_steps(there.values())
        for key, node in there.items():
            if node.in_:
                named_inputs = dict(zip(xs, ins, strict=True)) if not path else {}  # the network's, by name
                reads = [
                    (xs[0], ins[0]) if ref == GRAPH_INPUT else outputs.get(ref) or (ref, named_inputs[ref])
                    for ref in node.in_
                ]
                current, sizes = tuple(r[0] for r in reads), tuple(r[1] for r in reads)
            built = self._layer(node.do, _join(path, key), current, sizes, frame, indent)
            if key in read_steps:  # later nodes read some of its steps: it runs in slices between them
                var = local.new(key)
                attr, steps = self._read_in_slices(key, path, node.do, built, read_steps[key], frame, init)
                cuts = [(local.new(f"{key}_{step}"), step + 1) for step, _ in steps]
                args = [values[x] for x in current]
                # a list that starts by merging its inputs has that merge computed by its caller
                arg = built.entry(args) if built.entry is not None else args[0]
                lines += self.sliced_calls(f"self.{attr}", arg, cuts, var, local)
                for (step_var, _), (step, (output, size)) in zip(cuts, steps, strict=True):
                    values[output], outputs[f"{key}.{step}"] = step_var, (output, size)
                values[built.output] = var
                outputs[key] = (built.output, built.out)
                current, sizes = (built.output,), (built.out,)
                continue
            call = self._use(key, _join(path, key), node.do, built, _args(values, current, built), init, indent)
            if built.read:  # an attribute: the nodes that read it use it as it is
                values[built.output] = call
            else:
                var = local.new(key)
                lines.append(f"{var} = {call}")
                values[built.output] = var
            outputs[key] = (built.output, built.out)
            current, sizes = (built.output,), (built.out,)
        return init, self._returning(lines, values, current[0], path), sizes[0]

    def _read_in_slices(
        self,
        key: str,
        path: str,
        layer: Layer,
        built: Built,
        steps: list[int],
        frame: Frame,
        init: list[str],
    ) -> tuple[str, list[tuple[int, tuple[str, Term]]]]:
        """Hold the list ``built`` as attribute ``key``, whose numbered ``steps`` later DAG nodes
        read (``backbone.4``): the attribute, and each step with the graph value it gives and that
        value's size. The slices' bounds and those sizes are this instance's numbers, which another
        value of a param the list reads could change (another MobileNetV3 setting), so the network
        class takes none of those params."""
        if built.inline is not None or built.read:
            raise InternalError(f"DAG node '{_join(path, key)}' has its steps read, but it is no list of layers")
        self.pinned |= _reads(layer, self.program.blocks)
        attr = self._attribute(key, _join(path, key), layer)
        init += _assigned(f"self.{attr}", built, INDENT * 2)
        read: list[tuple[int, tuple[str, Term]]] = []
        for step in steps:
            output = frame.view.outputs.get(_join(path, f"{key}.{step}"), _join(path, f"{key}.{step}"))
            read.append((step, (output, Term(_size(frame.view.type(output))))))
        return attr, read

    def sliced_calls(
        self, layers: str, arg: str, cuts: Sequence[tuple[str, int]], target: str, local: Namespace
    ) -> list[str]:
        """Forward statements that run the list ``layers`` on ``arg`` once, in slices: each cut
        ``(name, stop)`` leaves in ``name`` what the steps before ``stop`` give, and ``target`` gets
        what the whole list gives (``backbone_4 = self.backbone[:5](x)``, then
        ``backbone = self.backbone[5:](backbone_4)``)."""
        raise NotImplementedError

    def _returns_several(self, path: str) -> bool:
        """Whether the forward written for ``path`` returns the network's named outputs: the
        network class's, whose body is at the root path."""
        return not path and self.graph.named_outputs

    def _returning(self, lines: list[str], values: Mapping[str, str], last: str, path: str) -> list[str]:
        """Forward statements ending in the return of the value ``last`` names, or (the network
        class, with named outputs) of ``{name: value}`` for each output, in the spec's order."""
        if not self._returns_several(path):
            return _returning(lines, values[last])
        missing = [node for node in self.graph.outputs.values() if node not in values]
        if missing:
            raise InternalError(f"the network class computes no variable for output node(s) {', '.join(missing)}")
        named = ", ".join(f'"{name}": {values[node]}' for name, node in self.graph.outputs.items())
        return [*lines, f"return {{{named}}}"]

    def _if_class(
        self,
        body: If,
        path: str,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
        sites: dict[str, Site],
        params: list[str],
        local: Namespace,
        root: bool,
    ) -> tuple[list[str], list[str], Term]:
        """A class that is one of two module bodies, chosen at construction (MobileNetV2's
        ``InvertedResidual`` with or without ``use_res_connect``): an ``if`` site (see
        :mod:`archspec.codegen._drafts`) whose untaken branch comes from a scratch expansion or
        from another instance."""
        value = bool(self.expander.value(body.if_, frame.spec_env, ()))
        assert body.else_ is not None
        taken, other = (body.then, body.else_) if value else (body.else_, body.then)
        cond = frame.env.term(value, arg_source(body.if_))
        if root or cond.is_literal:
            return self._module_body(taken, path, xs, ins, frame, indent, sites, params, local, root)
        inner = indent + INDENT

        def branch(layer: Layer, at: Frame, reads: tuple[str, ...]) -> tuple[list[str], list[str], Term]:
            init, lines, out = self._module_body(layer, path, reads, ins, at, inner, sites, params, local.copy())
            return init, [inner + line for line in lines], out

        mine = branch(taken, frame, xs)
        theirs = self._scratch(other, path, lambda at, reads: branch(other, at, reads), xs, frame)
        key = f"{id(body)}"
        branches = {value: (mine[0], mine[1]), not value: None if theirs is None else (theirs[0], theirs[1])}
        sites[key] = Site(frame.write(cond), branches)
        outs = [mine[2], theirs[2]] if theirs is not None else [mine[2]]
        out = _preferred(outs if value else outs[::-1], mine[2].value, frame.env)
        return [f"{indent}\x01{key}:init\x01"], [f"\x01{key}:forward\x01"], out

    def _use(
        self,
        key: str,
        path: str,
        layer: Layer,
        built: Built,
        args: list[str],
        init: list[str],
        indent: str,
    ) -> str:
        """Add ``built`` to the class as attribute ``key`` (at ``path``); the forward expression that
        calls it."""
        if built.inline is not None:
            return built.inline(args)
        attr = self._attribute(key, path, layer)
        init += _assigned(f"self.{attr}", built, indent)
        if built.out_read is not None:  # later steps read its size from it
            line, built.out = built.out_read(f"self.{attr}")
            init.append(indent + line)
        if built.read:
            return self.attribute_read(attr)
        if built.entry is not None:
            return f"self.{attr}({built.entry(args)})"
        return f"self.{attr}({', '.join(args)})"

    # ------------------------------------------------------------------ layers
    def _layer(
        self, layer: Layer, path: str, xs: tuple[str, ...], ins: tuple[Term, ...], frame: Frame, indent: str
    ) -> Built:
        """``layer`` at ``path`` reading ``xs``, as one constructor expression (with the statements
        it needs before it)."""
        match layer:
            case Call() if layer.call in self.program.blocks:
                return self._block_call(layer, self.program.blocks[layer.call], path, xs, ins, frame, indent)
            case Call():
                return self._op(layer, path, ins, frame, indent)
            case Repeat() | For() if _is_list(layer):
                return self._sequence(layer, path, xs, ins, frame, indent)
            case Seq() if isinstance(layer.seq, list):
                return self._sequence(layer, path, xs, ins, frame, indent)
            case If():
                return self._choice(layer, path, xs, ins, frame, indent)
            case _:
                return self._anonymous(layer, path, xs, ins, frame, indent)

    def _op(self, call: Call, path: str, ins: tuple[Term, ...], frame: Frame, indent: str) -> Built:
        """An op: a module, or an expression of forward (a merge, or an op reading more than its
        step's input where the class is given that; elsewhere written for this instance's size)."""
        node = frame.view.graph.node(path or call.call)
        if type(node.op).arity == 0:  # a source reads nothing: the sizes of where it stands are not its own
            ins = ()
        reads = node.inputs[len(ins) :] if type(node.op).arity is not None else ()
        if not set(reads) <= set(frame.given):
            reads = ()
        lowered, out = self._lower(node, ins, frame, len(ins) + len(reads) if type(node.op).arity else None)
        if type(node.op).arity is None or reads:  # a merge, or a step reading more: inline in forward
            return Built("", out, node.name, inline=self._inline(node, lowered), reads=reads)
        if isinstance(lowered, self.function_type):
            raise LoweringBug(f"the {self.lowerings.backend} lowering of {node.op_name} is inline, but it is no merge")
        frame.used.update(n for t in lowered.terms for n in t.names)
        frame.threaded |= self.threaded_by(lowered)
        self.variables[node.name] = dict(lowered.variables)
        if lowered.helper is not None:
            self._helper(lowered.helper)
        return Built(self.layer_source(lowered, indent), out, node.name, read=type(node.op).arity == 0)

    def _lower(self, node: Node, ins: tuple[Term, ...], frame: Frame, count: int | None = None) -> tuple[Any, Term]:
        """The lowering of ``node``, given its first ``count`` inputs (all by default), and its size."""
        inputs = tuple(frame.view.type(i) for i in node.inputs[:count])
        output = frame.view.type(node.name)
        ctx = self.context(node, inputs, output, frame.env, ins, frame.view.graph)
        return self.lowerings.lower(node, ctx), self._out_size(node, ctx, ins)

    def _inline(self, node: Node, lowered: Any) -> Callable[[list[str]], str]:
        """How a merge is written in forward, given its inputs' expressions."""
        if not isinstance(lowered, self.function_type):  # merges are written inline: the backend's bug
            raise LoweringBug(
                f"the {self.lowerings.backend} lowering of {node.op_name} gave {lowered!r}, "
                f"not the {self.function_type.__name__} a merge is written inline as"
            )
        self.needs.update(lowered.needs)
        for name in lowered.helpers:
            self._helper(name)
        return lowered.render

    def _block_call(
        self, call: Call, block: Block, path: str, xs: tuple[str, ...], ins: tuple[Term, ...], frame: Frame, indent: str
    ) -> Built:
        depth = frame.entered.get(path, 0)
        scope = frame.view.calls[path][depth]
        args = dict(scope.args)
        spec_env = {**dict(self.graph.params), **args, INPUT: _input_of(xs, frame.view)}
        entered = {**frame.entered, path: depth + 1}
        given = self._given(call, block, args, frame)
        if _body_kind(block.body) is None:  # one call, or an if between calls: written where it is called
            bound = replace(frame, env=BoundEnv(frame.env, {k: t for k, (t, _) in given.items()}))
            return self._layer(block.body, path, xs, ins, replace(bound, spec_env=spec_env, entered=entered), indent)
        merged = self._head_merge(block.body, path, xs, ins, frame)
        key = (id(frame.view), path, depth, frame.scratch)
        if key in self.instances:  # written before, by a loop tried one way and then another
            draft = self.instances[key][1]
        else:
            values = {p.name: args[p.name] for p in block.params if self._usable_parameter(p.name)}
            values |= {name: self.network_values[name] for name in self._globals(call.call)}
            if merged:  # the merge's channels, computed by the caller
                in_term, env = _input_size(Env(values), (merged[0],), frame.view, merged[1], taken={})
            else:
                # decided over the network's calls, so that scratch expansions write the same class
                same = self.view.input_parameter(block, call.call)
                size = _size(frame.view.type(xs[0])) if len(xs) == 1 else None
                same = same if same in values and same_value(values[same], size) else None
                in_term, env = _input_size(Env(values), xs, frame.view, ins[0], given, same=same)
            inner = Frame(env, spec_env, frame.view, self._local(values), call.call, entered=entered, block=call.call)
            inner.scratch, inner.merged = frame.scratch, in_term if merged else None
            signature = [self._parameter(p, values, env) for p in block.params if p.name in values]
            signature += [Parameter(name, self.defaults[name]) for name in self._globals(call.call)]
            doc = f"The spec's block ``{call.call}({', '.join(p.name for p in block.params)})``."
            own = {p.name for p in block.params}
            keep = lambda p: p.name in own or p.name in inner.used  # noqa: E731
            draft = self._draft(block.body, path, xs, in_term, inner, call.call, doc, signature, keep=keep)
            self.instances[key] = (frame.view, draft)  # the view is kept alive with its id
        arguments = [(name, term, positional) for name, (term, positional) in given.items()]
        arguments += [  # what the class cannot compute itself
            (p.name, Term(args[p.name]), False)
            for p in draft.params
            if p.required and p.name != draft.in_param and p.name not in given
        ]
        return self._instance(draft, arguments, scope.output, merged[1] if merged else ins[0], frame, indent)

    def _head_merge(
        self, body: Layer, path: str, xs: tuple[str, ...], ins: tuple[Term, ...], frame: Frame
    ) -> tuple[str, Term] | None:
        """For a list class called with several inputs that it starts by merging (``concat ->
        double_conv(c)``): the merge's output and its size in the caller's terms, which the class
        takes as its input's channels."""
        if len(xs) < 2 or not (isinstance(body, Seq) and isinstance(body.seq, list) and body.seq):
            return None
        head = body.seq[0]
        node = frame.view.nodes.get(_join(path, 0))
        if not isinstance(head, Call) or node is None or type(node.op).arity is not None:
            return None
        return node.name, self._lower(node, ins, frame)[1]

    def _given(self, call: Call, block: Block, args: Mapping[str, Any], frame: Frame) -> dict[str, tuple[Term, bool]]:
        """The arguments ``call`` gives, as terms of the caller, and whether each is positional;
        then the network params the block reads, passed on (positionally after a call that gives
        every parameter so)."""
        given: dict[str, tuple[Term, bool]] = {}
        for param, arg in zip(block.params, call.args, strict=False):
            given[param.name] = (frame.env.term(args[param.name], arg_source(arg)), True)
        for key, arg in call.kwargs.items():
            given[key] = (frame.env.term(args[key], arg_source(arg)), False)
        every = len(call.args) == len(block.params)
        # a caller's own parameter of that name is another value: the network's is then written as it is
        shadowing = {p.name for p in self.program.blocks[frame.block].params} if frame.block is not None else set()
        for name in self._globals(call.call):
            value = self.network_values[name]
            given[name] = (Term(value) if name in shadowing else frame.env.term(value, name), every)
        return given

    def _globals(self, block: str) -> tuple[str, ...]:
        """The network params block ``block``'s body reads (and the blocks it calls), in the order
        the network declares them: its class takes them after its own parameters, with the network's
        defaults, as torchvision's ``Bottleneck`` takes ``groups=1`` and ``base_width=64``. A name a
        ``for`` binds or the block's own parameter shadows is not one of them."""
        if block not in self.block_globals:
            definition = self.program.blocks[block]
            read = _reads(definition.body, self.program.blocks) - self.loop_names - {p.name for p in definition.params}
            self.block_globals[block] = tuple(
                name for name, _ in self.graph.params if name in read and self._usable_parameter(name)
            )
        return self.block_globals[block]

    def _parameter(self, param: Any, values: Mapping[str, Any], env: Env) -> Parameter:
        """A block parameter in its class's signature: its default as a value, as the expression the
        class computes it by, or none (the caller passes it) when neither is exact in Python."""
        if param.required:
            return Parameter(param.name)
        source = arg_source(param.default)
        parsed = expression(env.spec_source(source)) if source is not None else None
        if source is None or (parsed is not None and not {n.lower() for n in parsed.names} - SPEC_CONSTANTS):
            return Parameter(param.name, self.expander.value(param.default, {}, ()))
        earlier = {*values, *([env.input_channels] if env.input_channels else [])}
        if parsed is not None and parsed.portable and parsed.names <= earlier and param.name not in parsed.names:
            return Parameter(param.name, computed=parsed.text)
        return Parameter(param.name)

    def _instance(
        self,
        draft: Draft,
        arguments: list[tuple[str, Term, bool]],
        output: str,
        in_size: Term,
        frame: Frame,
        indent: str,
    ) -> Built:
        """A call of ``draft``'s class: the input's size, then the arguments, as terms of ``frame``."""
        taken = {p.name for p in draft.params}
        written: list[str] = [frame.write(in_size)] if draft.in_param is not None else []
        positional = True
        for name, term, by_position in arguments:
            if name not in taken:
                positional = False  # the class does not take it: what follows must be named
                continue
            positional = positional and by_position
            written.append(frame.write(term) if positional else f"{name}={frame.write(term)}")
        written += [f"{name}={name}" for name in sorted(draft.threaded)]
        frame.threaded |= draft.threaded
        given = {name: term for name, term, _ in arguments}
        if draft.in_param is not None:
            given[draft.in_param] = in_size
        actual = _size(frame.view.type(output))
        out = Term(actual)
        if draft.out_size is not None:
            out = frame.env.substitute(actual, draft.out_size.expr, given)
        built = Built(call_source(draft.token, written, indent), out, output, entry=draft.entry)
        if draft.wide_out is not None and not frame.env.substitute(actual, draft.wide_out.expr, given).is_literal:

            def read(attribute: str) -> tuple[str, Term]:
                draft.out_read = True
                var = frame.local.new("channels")
                frame.env.values[var] = actual
                return f"{var} = {attribute}.{_OUT_ATTRIBUTE}", Term(actual, parameter(var))

            built.out_read = read
        return built

    def _anonymous(
        self, layer: Layer, path: str, xs: tuple[str, ...], ins: tuple[Term, ...], frame: Frame, indent: str
    ) -> Built:
        """A named sequence, branches or a DAG inside a class: a class of its own, taking the names
        of the class around it that it reads."""
        values = dict(frame.env.values)
        around, scope = frame.env.input_channels, frame.env.child({})
        own = {p.name for p in self.program.blocks[frame.block].params} if frame.block else set()
        if (
            around in values
            and around not in own
            and len(ins) == 1
            and (ins[0].source == around or not _reads_input(layer))
        ):
            # its input has the channels the class around it takes (ASPP's convs read the block's
            # input), or it never reads the block's input (a concat of its own input and more):
            # one parameter, in_channels, not also the outer one as in_channels_2
            del values[around]
            scope = Env(values)
        in_term, env = _input_size(scope, xs, frame.view, ins[0], taken=values)
        inner = Frame(
            env,
            frame.spec_env,
            frame.view,
            self._local(env.values),
            frame.label,
            entered=frame.entered,
            block=frame.block,
        )
        inner.scratch = frame.scratch
        label = _anonymous_label(layer, path, frame.label)
        doc = _anonymous_doc(layer)
        signature = [Parameter(name) for name in values]
        draft = self._draft(layer, path, xs, in_term, inner, label, doc, signature, keep=_read(inner))
        draft.block = None
        arguments = [(p.name, frame.env.name(p.name), True) for p in draft.params if p.name != draft.in_param]
        output = self._output(layer, path, xs, frame)
        return self._instance(draft, arguments, output, ins[0], frame, indent)

    def _output(self, layer: Layer, path: str, xs: tuple[str, ...], frame: Frame) -> str:
        """The graph value a composite at ``path`` produces."""
        if isinstance(layer, Concat | Add | Mul):
            return path or _MERGE_WORDS[type(layer)]
        return frame.view.outputs.get(path, xs[0])  # an empty composite passes its input on

    def _choice(
        self, layer: If, path: str, xs: tuple[str, ...], ins: tuple[Term, ...], frame: Frame, indent: str
    ) -> Built:
        """``then if cond else otherwise`` as one attribute: both branches written, the one this
        instance does not take from a scratch expansion (else just the one it takes)."""
        value = bool(self.expander.value(layer.if_, frame.spec_env, ()))
        assert layer.else_ is not None  # the expander refuses an if without else here
        taken, other = (layer.then, layer.else_) if value else (layer.else_, layer.then)
        indent += INDENT  # as written in an if statement's body, if it does not fit one line
        mine = self._layer(taken, path, xs, ins, frame, indent)
        cond = frame.env.term(value, arg_source(layer.if_))
        if cond.is_literal or mine.inline is not None or mine.entry is not None:
            return _shallower(mine)  # written where the if is, not in its body
        theirs = self._scratch(
            other,
            path,
            lambda at, reads: self._layer(other, path, reads, ins, at, indent),
            xs,
            frame,
            accept=lambda built: built.inline is None and built.entry is None,
        )
        if theirs is None or same_lines([*theirs.setup, theirs.source], [*mine.setup, mine.source], self.drafts):
            return _shallower(mine)  # written where the if is, not in its body (or the same either way)
        then, otherwise = (mine, theirs) if value else (theirs, mine)
        test = frame.write(cond)
        out = _preferred([then.out, otherwise.out], mine.out.value, frame.env, test)
        inline = f"{then.source} if {test} else {otherwise.source}"
        if not then.setup and not otherwise.setup and "\n" not in inline and len(indent) + len(inline) <= MAX_LINE - 20:
            return Built(inline, out, mine.output)
        var = frame.local.new(_step_name(path, "layer"))
        outer = indent.removesuffix(INDENT)
        setup = _ternary(var, (test, then, otherwise), outer)
        if setup is None:
            setup = [f"{outer}if {test}:", *then.setup, f"{indent}{var} = {then.source}"]
            setup += [f"{outer}else:", *otherwise.setup, f"{indent}{var} = {otherwise.source}"]
        return Built(var, out, mine.output, setup, choice=(test, then, otherwise))

    # ------------------------------------------------------------------ lists
    def _sequence(
        self,
        layer: Layer,
        path: str,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
        own: bool = False,
    ) -> Built:
        """A list of layers: ``Sequential(a, b, *[c for ...])``, or built in statements where a loop
        carries a channel count or an ``if`` adds a layer (``layers.append(...)``). ``own``: the
        list is the class itself, whose ``super().__init__`` takes the layers."""
        if _is_named_loop(layer):  # always a class of its own: its layers are added to it by name
            assert isinstance(layer, For)
            items, _, current, sizes = self._loop(layer, path, 0, xs, ins, frame, indent + INDENT)
            sizes = _left(items, sizes)
            added = _appended(items, "", indent + INDENT, self.add_named)
            return Built("", sizes[0], current[0], [f"{indent}super().__init__()", *dedented(added)])
        steps = layer.seq if isinstance(layer, Seq) and isinstance(layer.seq, list) else [layer]
        if own:
            frame.last_step = steps[-1]
        items, _, current, sizes, entry = self._items(steps, path, 0, xs, ins, frame, indent + INDENT)
        if frame.tail is not None and (frame.tail.reads != xs or entry is not None):
            raise InternalError(f"the last step of list {path!r} reads {frame.tail.reads}, not the list's input")
        sizes = _left(items, sizes)
        func = "super().__init__" if own else self.sequential_base
        flat = _flat(items)
        if flat is not None:
            source = _listing(func, flat, indent)
            setup = [indent + source] if own else []
            return Built("" if own else source, sizes[0], current[0], setup, entry=entry)
        name = frame.local.new("layers" if own else _step_name(path, "layers"))
        setup = dedented(_statements(items, name, indent + INDENT))  # the items were written one level in
        if own:
            return Built("", sizes[0], current[0], [*setup, f"{indent}{func}(*{name})"], entry=entry)
        return Built(f"{func}(*{name})", sizes[0], current[0], setup, entry=entry)

    def _items(
        self,
        steps: Sequence[Layer],
        path: str,
        index: int,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
    ) -> tuple[list[_Item], int, tuple[str, ...], tuple[Term, ...], Callable[[list[str]], str] | None]:
        """The items of list steps from number ``index`` on: the items, the next number, the last
        output and its size, and the merge the list starts with if its caller computes it."""
        items: list[_Item] = []
        entry = None
        settled = xs  # the output of the last step that is not an if
        for step in steps:
            match step:
                case For() if step.name is not None:
                    raise SpecError(
                        "a 'for' with a name template names the layers of a class of their own, not steps of a list",
                        step.loc,
                        hint="make it a block's whole body, or a named step of its own",
                    )
                case Repeat() | For():
                    new, index, xs, ins = self._loop(step, path, index, xs, ins, frame, indent)
                    settled = xs
                case If():
                    new, index, xs, ins = self._when(step, path, index, xs, ins, frame, indent, settled)
                case _:
                    built = self._layer(step, _join(path, index), xs, ins, frame, indent)
                    if built.reads and step is frame.last_step:  # the class's forward computes it
                        frame.tail = built
                        return items, index + 1, (built.output,), (built.out,), entry
                    if built.reads:  # a step of the list: written for this instance's size
                        built = self._layer(step, _join(path, index), xs, ins, replace(frame, given=()), indent)
                    if built.inline is not None or built.entry is not None:
                        if index != 0 or len(xs) < 2 or entry is not None:
                            raise _merge_in_list(step)
                        merge = built.inline or built.entry
                        out = frame.merged if frame.merged is not None else built.out
                        if built.entry is not None:  # a list starting with a list that starts with a merge
                            built = Built(built.source, out, built.output, built.setup)
                        else:
                            what = step.call if isinstance(step, Call) else "merge"
                            slot = f"# {index}: the {what} of the inputs, done where this is called\n{indent}"
                            built = Built(slot + self.pass_through(), out, built.output)
                        entry = merge
                    new, index, xs, ins = [_One(built)], index + 1, (built.output,), (built.out,)
                    settled = xs
            items += new
        return items, index, xs, ins, entry

    def _loop(
        self,
        step: Repeat | For,
        path: str,
        index: int,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
    ) -> tuple[list[_Item], int, tuple[str, ...], tuple[Term, ...]]:
        """A ``repeat`` or ``for`` in a list: a Python loop when every copy is written the same (the
        channels reaching each copy in one expression, else in a ``channels`` variable the loop
        carries), else each copy written out."""
        copies = self.expander.copies_of(step, frame.spec_env)
        hoisted: list[str] = []
        if isinstance(step, Repeat):
            names: list[str] = []
            header = f"range({frame.write(frame.env.term(len(copies), arg_source(step.repeat)))})"
        else:
            names = list(step.for_)
            header = self._iterable(step.in_, frame, hoisted, indent)
        free = all(is_free_identifier(n) and not frame.env.defines(n) for n in names)
        if free and copies:
            carried = ins[0].expr is not None and ins[0].source in frame.running
            order = (True, False) if carried else (False, True)  # inside a loop that carries one: carry it too
            mark = len(frame.choices)
            for alike, running in [(alike, running) for alike in (False, True) for running in order]:
                if alike and len(frame.choices) == mark:  # no if in the copies chose between sizes written apart
                    break
                saved, frame.alike = _Saved.of(frame, self), alike
                loop = self._copies_alike(step, copies, names, header, running, path, index, xs, ins, frame, indent)
                frame.alike = False
                if loop is not None:
                    loop[0][0].before[:0] = hoisted  # type: ignore[union-attr]
                    return loop
                saved.restore(frame, self)
        items: list[_Item] = []
        for body, env, name in copies:
            at = replace(frame, spec_env=env)
            new, index, xs, ins, entry = self._copy(step, body, name, path, index, xs, ins, at, indent)
            if entry is not None:
                raise _merge_in_list(body)
            items += new
        return items, index, xs, ins

    def _copy(
        self,
        step: Repeat | For,
        body: Layer,
        name: str | None,
        path: str,
        index: int,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
    ) -> tuple[list[_Item], int, tuple[str, ...], tuple[Term, ...], Callable[[list[str]], str] | None]:
        """One copy of a loop's body, as :meth:`_items` gives it; a named copy is one layer, its
        name written as an f-string of the template where its fields are exact in the class's terms."""
        if name is None or not isinstance(step, For) or step.name is None:
            return self._items([body], path, index, xs, ins, frame, indent)
        self._attribute(name, _join(path, name), step, named=True)
        built = self._layer(body, _join(path, name), xs, ins, frame, indent)
        if built.inline is not None or built.entry is not None:
            raise _merge_in_list(body)
        parts, last, exact = [], 0, False
        for found in TEMPLATE_FIELD.finditer(step.name):
            term = frame.env.term(self.expander.value(Expr(expr=found[1]), frame.spec_env, ()), found[1])
            exact = exact or not term.is_literal
            parts += [
                step.name[last : found.start()],
                str(term.value) if term.is_literal else f"{{{frame.write(term)}}}",
            ]
            last = found.end()
        key = f'f"{"".join([*parts, step.name[last:]])}"' if exact else f'"{name}"'
        return [_One(built, key)], index, (built.output,), (built.out,), None

    def _copies_alike(
        self,
        step: Repeat | For,
        copies: list[tuple[Layer, Mapping[str, Any], str | None]],
        names: list[str],
        header: str,
        running: bool,
        path: str,
        index: int,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
    ) -> tuple[list[_Item], int, tuple[str, ...], tuple[Term, ...]] | None:
        """The loop over ``copies`` if each is written the same, else None."""
        env, start = frame.env, ins[0]
        before: list[str] = []
        var = ""
        if running:
            if ins[0].expr is not None and ins[0].source in frame.running:
                var = ins[0].source
            else:
                var = frame.local.new("channels")
                before = [f"{indent}{var} = {frame.write(ins[0])}"]
                frame.running.add(var)
            env.values[var] = ins[0].value
        frame.used.difference_update(names)  # another loop's variable of that name was another variable
        bodies: list[tuple[list[str], list[str]]] = []
        first: list[_Item] = []
        carry: list[str] = []
        names_before = frame.local.copy()
        for body, spec_env, name in copies:
            frame.local.restore(names_before)  # each copy names its variables as the first did
            env.values.update({n: spec_env[n] for n in names})
            size = Term(env.values[var], parameter(var)) if running else _rechecked(ins[0], env)
            at = replace(frame, spec_env=spec_env)
            new, index, xs, outs, entry = self._copy(step, body, name, path, index, xs, (size,), at, indent + INDENT)
            if entry is not None:
                return None
            carry = []
            if running and outs[0].source != var:
                if outs[0].is_literal:
                    return None
                carry = [f"{indent}{INDENT}{var} = {frame.write(outs[0])}"]
                env.values[var] = outs[0].value
            # a copy that keeps a size it does not read ([N, T, D] tokens through a transformer
            # block, T axis 1) gives it back as a literal: the same value is the same size
            kept = outs[0].is_literal and outs[0].value == size.value
            if not running and outs[0].source != size.source and not kept:
                return None  # the next copy reads other channels: only a variable can carry them
            ins = outs
            bodies.append((_statements(new, "_", indent + INDENT), carry))
            first = first or new
        for n in names:
            del env.values[n]
        if any(not same_lines(b[0] + b[1], bodies[0][0] + bodies[0][1], self.drafts) for b in bodies[1:]):
            return None
        unused = {n for n in names if n not in frame.used}
        targets = ", ".join(f"_{n}" if n in unused else n for n in names) or "_"
        loop = _Loop(f"for {targets} in {header}", first, before, bodies[0][1], var)
        out = Term(env.values[var], parameter(var)) if running else _rechecked(ins[0], env)
        if running and not ins[0].is_literal and var not in ins[0].names:
            loop.left = _after(ins[0], names, header, env)
        elif running and start.names.isdisjoint({var, *names}):
            loop.left = _summed(start, ins[0], var, header, names, env)
        return [loop], index, xs, (out,)

    def _iterable(self, arg: Any, frame: Frame, hoisted: list[str], indent: str) -> str:
        """What a ``for`` loops over, as Python: ``range(n)`` stays a range (the spec's is a list,
        with the same items in a loop), anything else is a term (a long list of values written
        before the loop: ``hoisted``)."""
        source = arg_source(arg)
        parsed = expression(source) if source is not None else None
        call = parsed.body if parsed is not None else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "range"
            and not call.keywords
        ):
            bounds = [ast.unparse(a) for a in call.args]
            terms = [frame.env.term(self.expander.value(Expr(expr=b), frame.spec_env, ()), b) for b in bounds]
            return f"range({', '.join(frame.write(t) for t in terms)})"
        term = frame.env.term(self.expander.value(arg, frame.spec_env, ()), source)
        if not term.is_literal or len(term.source) <= MAX_LINE // 2:
            return frame.write(term)
        # a long list of values: a variable of its own before the loop, one item per line
        name = frame.local.new(source if source is not None and source.isidentifier() else "items")
        hoisted.append(f"{indent}{name} = {literal_lines(term.value, indent)}")
        return name

    def _when(
        self,
        step: If,
        path: str,
        index: int,
        xs: tuple[str, ...],
        ins: tuple[Term, ...],
        frame: Frame,
        indent: str,
        settled: tuple[str, ...],
    ) -> tuple[list[_Item], int, tuple[str, ...], tuple[Term, ...]]:
        """An ``if`` in a list: ``if cond: layers.append(...)``, both branches written (the untaken
        one from a scratch expansion), else only what this instance takes. The untaken branch is
        written as reading the last step that is not an ``if`` (of the same type), as it does in the
        instances that take it when the ``if``s before it are alternatives (``hardswish if
        activation == 'HS'``, then ``relu if activation == 'RE'``)."""
        if frame.view.type(settled[0]) != frame.view.type(xs[0]) or len(settled) != len(xs):
            settled = xs
        value = bool(self.expander.value(step.if_, frame.spec_env, ()))
        taken, other = (step.then, step.else_) if value else (step.else_, step.then)
        mine: tuple[list[_Item], int, tuple[str, ...], tuple[Term, ...], Any] = ([], index, xs, ins, None)
        if taken is not None:
            mine = self._items([taken], path, index, xs, ins, frame, indent + INDENT)
        cond = frame.env.term(value, arg_source(step.if_))
        plain = taken is None or not isinstance(taken, Repeat | For | If)
        if cond.is_literal or mine[4] is not None or not plain:
            return (
                self._items([taken], path, index, xs, ins, frame, indent)[:4]
                if taken is not None
                else ([], index, xs, ins)
            )
        theirs: Any = ([], index, xs, ins, None)
        if other is not None:
            if isinstance(other, Repeat | For | If):
                return self._items([taken], path, index, xs, ins, frame, indent)[:4] if taken else ([], index, xs, ins)
            theirs = self._scratch(
                other,
                _join(path, index),
                lambda at, reads: self._items([other], path, index, reads, ins, at, indent + INDENT),
                settled,
                frame,
                accept=lambda result: result[4] is None,
            )
            if theirs is None:
                return self._items([taken], path, index, xs, ins, frame, indent)[:4] if taken else ([], index, xs, ins)
        if same_lines(_appended(theirs[0], "_", indent), _appended(mine[0], "_", indent), self.drafts):
            return self._items([taken], path, index, xs, ins, frame, indent)[:4] if taken else ([], index, xs, ins)
        then, otherwise = (mine, theirs) if value else (theirs, mine)
        sizes = [then[3][0], otherwise[3][0]]
        if not any(t.is_literal for t in sizes) and sizes[0].source != sizes[1].source:
            frame.choices.append(path)
        out = _preferred(sizes, mine[3][0].value, frame.env, cond.source, frame.alike)
        return [_When(frame.write(cond), then[0], otherwise[0])], mine[1], mine[2], (out,)

    # ------------------------------------------------------------------ scratch expansions
    def _scratch(
        self,
        layer: Layer,
        path: str,
        render: Callable[[Frame, tuple[str, ...]], Any],
        xs: tuple[str, ...],
        frame: Frame,
        accept: Callable[[Any], bool] = lambda result: True,
    ) -> Any:
        """``render`` run on a scratch expansion of ``layer`` at ``path`` (a branch this instance
        does not take), with this instance's values; None where that is no valid network, or where
        this file has had its budget of them (the branch is then written as this instance takes it:
        correct, and the class follows fewer params)."""
        if frame.scratch >= _MAX_SCRATCH or len(xs) != 1 or self.scratches >= _SCRATCH_BUDGET:
            return None
        self.scratches += 1
        reads, nodes, input_type = (GRAPH_INPUT,), [], frame.view.type(xs[0])
        producer = frame.view.nodes.get(xs[0])
        if producer is not None and len(producer.inputs) == 1:
            # The branch reads what the instance's layers read, as its only reader, as in an instance
            # that takes it: an op of it may overwrite its input when one in its place would (torch's
            # in-place activations). Any text is right for a branch this instance does not take.
            reads, nodes, input_type = (
                xs,
                [replace(producer, inputs=(GRAPH_INPUT,))],
                frame.view.type(producer.inputs[0]),
            )
        expander = Expander(self.program, dict(self.graph.params), {GRAPH_INPUT: input_type})
        expander.types[reads[0]] = frame.view.type(xs[0])
        try:
            out = expander.expand(layer, path, reads, frame.spec_env, ())
            nodes[1:1] = expander.nodes
            graph = Graph(
                self.graph.name,
                {GRAPH_INPUT: input_type},
                tuple(nodes),
                {GRAPH_OUTPUT: out},
                tuple(expander.scopes.values()),
                program=self.program,
            )
            view = View.of(graph, infer_shapes(graph))
        except SpecError:
            return None
        saved = _Saved.of(frame, self)
        try:
            result = render(replace(frame, view=view, scratch=frame.scratch + 1, entered={}), reads)
        except SpecError:
            result = None
        if result is None or not accept(result):
            saved.restore(frame, self)
            return None
        return result

    def _layer_at(self, path: str) -> str:
        """The network class's expression for its layer at ``path``: attributes where every step
        has a name (``self.transformer.wte``), else the backend's lookup through its lists."""
        parts = path.split(".")
        return "self." + path if all(part.isidentifier() for part in parts) else self.layer_by_path(path)

    def layer_by_path(self, path: str) -> str:
        """The network class's expression for its layer at ``path``, through lists and named layers
        (``transformer.h.0``)."""
        raise NotImplementedError

    def _ties(self) -> list[str]:
        """The network's ``__init__`` lines that make each tied parameter the one its owner holds
        (``self.lm_head.weight = self.transformer.wte.weight``), after every layer is built (a list
        network's too: after its ``super().__init__(...)``)."""
        lines = []
        for name, info in self.report.info.items():
            for param, tie in info.tied.items():
                held = self.variables.get(name, {}).get(param, param)
                owner = self.variables.get(tie.step, {}).get(tie.param, tie.param)
                lines.append(f"{INDENT * 2}{self._layer_at(name)}.{held} = {self._layer_at(tie.step)}.{owner}")
        return lines

    # ------------------------------------------------------------------ names, sizes and helpers
    def _attribute(self, key: str, path: str, layer: Layer, named: bool = False) -> str:
        """``key`` as the name of a layer of a class; ``named``: added by name (it may hold '-')."""
        reserved = keyword.iskeyword(key) or key in self.reserved_attributes or key.startswith("_")
        reserved = reserved or (named and key in self.named_reserved)
        if not (key.replace("-", "_") if named else key).isidentifier() or not key.isascii() or reserved:
            raise SpecError(
                f"the layer name '{key}' (at {path}) cannot be {self.attribute_role}",
                layer.loc,
                hint=f"'{key}' is a Python keyword, private, or an {self.module_class} attribute; rename the step",
            )
        return key

    def _out_size(self, node: Node, ctx: LoweringContext, sizes: tuple[Term, ...]) -> Term:
        """The output's channel (or feature) count as a term: from the op's size attribute, the
        sum of a channel concat's inputs, or the input's when the op keeps it."""
        value = _size(ctx.output)
        if value is None:
            return Term(None)
        field_name = next((name for name in _OUT_SIZE_FIELDS if name in type(node.op).model_fields), None)
        # out_features (an embedding's dim) sizes the last axis, the followed one on [N, F] and on
        # features-last tensors: a linear over a channels-first [N, C, L] keeps axis 1
        last_followed = ctx.output.rank == 2 or ctx.output.features_last
        if field_name is not None and (field_name not in _LAST_AXIS_FIELDS or last_followed):
            return ctx.attr(field_name)
        if isinstance(node.op, ConcatOp) and node.op.axis % ctx.output.rank == ctx.output.features_axis:
            return ctx.env.sum(value, list(sizes))
        # an op that keeps the size, or a merge, which has the size of an input of its rank (one of
        # lower rank, a learnable [C, 1, 1] scale, follows no size of the output's)
        merge = type(node.op).arity is None
        kept = [
            t
            for t, x in zip(sizes, ctx.inputs, strict=False)
            if t.value == value and x.rank >= 2 and (x.rank == ctx.output.rank or not merge)
        ]
        if kept:
            return next((t for t in kept if not t.is_literal), kept[0])
        given = sizes[0].source if sizes and sizes[0].expr is not None else None
        rule = node.op.channels(given if given.isidentifier() else f"({given})", ctx.input) if given else None
        parsed = expression(rule) if rule is not None else None
        return ctx.env.check(value, parsed) if parsed is not None else Term(value)

    def _helper(self, name: str) -> None:
        helper = self.helper_table[name]
        for used in getattr(helper, "uses", ()):  # helpers it calls come first
            self._helper(used)
        text = helper.source.rstrip("\n")
        if text not in self.helpers:  # once per module, however many layers use it (its name is reserved)
            self.helpers.append(text)
            self.needs.update(helper.needs)

    def _usable_parameter(self, name: str) -> bool:
        """Whether a spec parameter can be a parameter of a generated class: a free identifier that
        is not the name of a helper (``PaddedConv2d``) or of a parameter the backend adds; others
        are written as values."""
        return is_free_identifier(name) and name not in self.helper_table and name not in self.extra_parameter_names


@dataclass
class _Saved:
    """What a tentative rendering changes, to undo it (a loop tried as a loop, a scratch branch)."""

    used: set[str]
    threaded: set[str]
    local: Namespace
    running: set[str]
    names: set[str]

    @classmethod
    def of(cls, frame: Frame, emitter: ClassEmitter) -> _Saved:
        return cls(
            set(frame.used),
            set(frame.threaded),
            frame.local.copy(),
            set(frame.running),
            set(frame.env.values),
        )

    def restore(self, frame: Frame, emitter: ClassEmitter) -> None:
        frame.used.intersection_update(self.used)
        frame.threaded.intersection_update(self.threaded)
        frame.local.restore(self.local)
        frame.running.intersection_update(self.running)
        for name in set(frame.env.values) - self.names:
            del frame.env.values[name]


# ---------------------------------------------------------------------- lists as code
def _statements(items: list[_Item], name: str, indent: str) -> list[str]:
    """``items`` (written at ``indent``) appended to list ``name`` in statements at ``indent``, the
    plain layers it starts with in its display (``layers = [a, b]``)."""
    lines: list[str] = []
    leading = 0
    while leading < len(items) and isinstance(items[leading], _One) and not items[leading].built.setup:  # type: ignore[union-attr]
        leading += 1
    sources = [item.built.source for item in items[:leading]]  # type: ignore[union-attr]
    display = f"{name} = [{', '.join(sources)}]"
    if len(indent) + len(display) <= MAX_LINE and not any("\n" in source for source in sources):
        lines.append(indent + display)
    else:
        lines += [f"{indent}{name} = [", *(f"{indent}{INDENT}{_deeper(s)}," for s in sources), f"{indent}]"]
    return lines + _appended(items[leading:], name, indent)


def _deeper(source: str) -> str:
    """A multi-line expression's later lines one level deeper (it moved into a bracket)."""
    return source.replace("\n", "\n" + INDENT)


def _appended(items: list[_Item], name: str, indent: str, add_named: str = "") -> list[str]:
    """``items`` appended to list ``name``, or, named, added to the class by ``add_named``."""
    lines: list[str] = []
    for item in items:
        match item:
            case _One(key=str()):
                lines += _setup(item.built, indent)
                source = item.built.source
                line = f"{indent}{add_named}({item.key}, {source})"
                if "\n" not in line and len(line) <= MAX_LINE + len(INDENT):  # one level in until dedented
                    lines.append(line)
                else:
                    inner = indent + INDENT
                    lines += [
                        f"{indent}{add_named}(",
                        f"{inner}{item.key},",
                        f"{inner}{_deeper(source)},",
                        f"{indent})",
                    ]
            case _One():
                lines += _setup(item.built, indent)
                line = f"{indent}{name}.append({item.built.source})"
                if "\n" in line or len(line) <= MAX_LINE + len(INDENT):  # it is one level in until dedented
                    lines.append(line)
                else:
                    lines += [f"{indent}{name}.append(", f"{indent}{INDENT}{item.built.source}", f"{indent})"]
            case _Loop():
                body = _appended(item.body, name, indent + INDENT, add_named) + item.carry
                lines += item.before  # (a channel count later steps read)
                if body:  # a loop of loops of nothing adds nothing
                    lines += [f"{indent}{item.header}:", *body]
            case _When():
                lines.append(f"{indent}if {item.cond}:")
                lines += _appended(item.then, name, indent + INDENT, add_named) or [f"{indent}{INDENT}pass"]
                if item.otherwise:
                    lines.append(f"{indent}else:")
                    lines += _appended(item.otherwise, name, indent + INDENT, add_named)
    return lines


def _assigned(target: str, built: Built, indent: str) -> list[str]:
    """``target = built`` at ``indent``; an ``if`` assigns it in each branch, and so does an ``if``
    nested in a branch (not through a variable of its own, which ruff's SIM108 would rewrite)."""
    if built.choice is None:
        return [*built.setup, f"{indent}{target} = {built.source}"]
    ternary = _ternary(target, built.choice, indent)
    if ternary is not None:
        return ternary
    test, then, otherwise = built.choice
    inner = indent + INDENT
    return [
        f"{indent}if {test}:",
        *_assigned(target, then, inner),
        f"{indent}else:",
        *_assigned(target, otherwise, inner),
    ]


def _left(items: list[_Item], sizes: tuple[Term, ...]) -> tuple[Term, ...]:
    """A list's output size: where it is the channel variable of its last loop that carries one
    (steps after the loop keep the channels: VGG's max pool), what each copy leaves there, in terms
    its class's caller can read, not the local variable."""
    loop = next((item for item in reversed(items) if isinstance(item, _Loop) and item.var), None)
    if loop is not None and loop.left is not None and sizes[0].source == loop.var:
        return (loop.left,)
    return sizes


def _passable(size: Term, params: set[str]) -> bool:
    """Whether a class's output size is one its callers can write in their terms: an expression of
    its parameters (not of a local variable) short enough for a line of theirs (DenseNet's features
    give one of 200 characters: the network class then writes the number, and follows less)."""
    return bool(size.names) and size.names <= params and len(size.source) <= _MAX_SIZE_TEXT


def _compound(term: Term) -> bool:
    """Whether ``term`` computes a size (``channels // 2``), rather than naming one."""
    return term.expr is not None and not isinstance(term.expr.body, ast.Name | ast.Subscript)


def _after(size: Term, names: list[str], header: str, env: Env) -> Term | None:
    """``size``, what the last copy of a loop over ``header`` leaves, in terms readable after the
    loop: its loop variables replaced by their last values (``stages[i][0]`` over
    ``range(len(stages))`` is ``stages[-1][0]``, RegNet's last width); None where that is not exact."""
    if size.expr is None or not size.names & set(names):
        return size
    count = _count(header)
    if count is None or (_is_range(header) and len(names) != 1):
        return None
    text = size.source
    if not _is_range(header):  # for a, b in rows: the last row's items
        last = {n: f"{header}[-1]" + (f"[{k}]" if len(names) > 1 else "") for k, n in enumerate(names)}
    else:
        if count.startswith("len("):  # X[i] for i in range(len(X)): X[-1]
            tree = ast.parse(text, mode="eval")
            for node in ast.walk(tree):
                if not isinstance(node, ast.Subscript) or ast.unparse(node.value) != count[4:-1]:
                    continue
                if isinstance(node.slice, ast.Name) and node.slice.id == names[0]:
                    node.slice = ast.parse("-1", mode="eval").body
            text = ast.unparse(tree)
        last = {names[0]: f"{count} - 1"}
    parsed = expression(text)
    terms = {name: Term(None, expression(value)) for name, value in last.items()}
    return _exact(env.substitute(size.value, parsed, terms)) if parsed is not None else None


def _summed(start: Term, step: Term, var: str, header: str, names: list[str], env: Env) -> Term | None:
    """What a loop that adds the same amount to channel variable ``var`` in every copy leaves there
    (``step``: ``var + growth_rate``), in terms of what it starts from and of how many copies there
    are (``in_channels + num_layers * growth_rate``, as torchvision's DenseNet counts its features);
    None if the copies add anything else."""
    body = step.expr.body if step.expr is not None else None
    if not (isinstance(body, ast.BinOp) and isinstance(body.op, ast.Add) and ast.unparse(body.left) == var):
        return None
    added, count = ast.unparse(body.right), _count(header)
    if count is None or _names(added) & {var, *names}:
        return None
    parsed = expression(f"({start.source}) + ({count}) * ({added})")
    return _exact(env.check(env.values[var], parsed)) if parsed is not None else None


def _is_range(header: str) -> bool:
    return header.startswith("range(")


def _count(header: str) -> str | None:
    """How many copies a loop over ``header`` makes, as Python (None for ``range(a, b)``)."""
    if not _is_range(header):
        return f"len({header})"
    call = ast.parse(header, mode="eval").body
    return ast.unparse(call.args[0]) if isinstance(call, ast.Call) and len(call.args) == 1 else None


def _exact(term: Term) -> Term | None:
    return None if term.is_literal else term


def _listing(func: str, arguments: list[str], indent: str) -> str:
    """``func(a, b)``, one argument per line when there are several (the layers of a list)."""
    if len(arguments) < 2:
        return call_source(func, arguments, indent)
    inner = indent + INDENT
    return f"{func}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent})"


def _ternary(target: str, choice: tuple[str, Built, Built], indent: str, deeper: int = 0) -> list[str] | None:
    """``target = then if test else otherwise`` as one line where that fits ruff's line length,
    as ruff (SIM108) wants it; None where a branch needs statements first or it does not fit.
    ``deeper``: how many characters of ``indent`` the line loses before it is written."""
    test, then, otherwise = choice
    if then.setup or otherwise.setup:
        return None
    line = f"{indent}{target} = {one_line(then.source)} if {test} else {one_line(otherwise.source)}"
    return [line] if len(line) - deeper <= RUFF_LINE else None


def _setup(built: Built, indent: str) -> list[str]:
    """The statements before a list's item, written one level in until dedented (see
    :func:`_appended`): an ``if`` that chooses it is one line where that fits once dedented."""
    if built.choice is None:
        return built.setup
    return _ternary(built.source, built.choice, indent, deeper=len(INDENT)) or built.setup


def _flat(items: list[_Item]) -> list[str] | None:
    """``items`` as the arguments of one call (``a, *[b for _ in range(n)]``), or None if a loop
    carries a variable, an ``if`` adds a layer, or a layer needs statements first."""
    arguments = []
    for item in items:
        match item:
            case _One() if not item.built.setup:
                arguments.append(item.built.source)
            case _Loop() if not item.before and not item.carry:
                headers, body = [item.header], item.body
                while len(body) == 1 and isinstance(body[0], _Loop) and not body[0].before and not body[0].carry:
                    headers.append(body[0].header)
                    body = body[0].body
                if len(body) != 1 or not isinstance(body[0], _One) or body[0].built.setup:
                    return None
                arguments.append(f"*[{body[0].built.source} {' '.join(headers)}]")
            case _:
                return None
    return arguments


# ---------------------------------------------------------------------- small pieces
#: Scratch expansions inside scratch expansions (an ``if`` in a branch not taken) go this deep.
_MAX_SCRATCH = 3
#: Scratch expansions per written file. Branches that hold blocks whose own branches hold more
#: of them multiply (a block whose untaken branch calls itself three times: 3 + 9 + 27 per call,
#: for every copy); the specs in specs/ need at most 85 (MobileNetV3-Small).
_SCRATCH_BUDGET = 256
#: The shortest size expression that starts a variable along named steps (``4 * width`` reads
#: best written out; ``num_init_features + block_config[0] * growth_rate`` would grow with every step).
_MIN_KEPT_TEXT = 40
#: The longest output size expression a class passes to its callers (see :func:`_passable`).
_MAX_SIZE_TEXT = 80
#: The attribute a class keeps a size too long to pass in (see :attr:`Draft.wide_out`).
_OUT_ATTRIBUTE = "out_channels"
_MERGE_WORDS: dict[type, str] = {Concat: "concat", Add: "add", Mul: "mul"}


def _read_steps(nodes: Iterable[DagNode]) -> dict[str, list[int]]:
    """The numbered steps of each DAG node that later ``nodes`` read (``in: [backbone.4]``), in order."""
    read: dict[str, set[int]] = {}
    for node in nodes:
        for ref in node.in_:
            owner, _, step = ref.partition(".")
            if step:  # the expander admits only a number here
                read.setdefault(owner, set()).add(int(step))
    return {owner: sorted(steps) for owner, steps in read.items()}


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


def _branches(merge: Concat | Add | Mul) -> list[Layer] | dict[str, Layer]:
    return merge.concat if isinstance(merge, Concat) else merge.add if isinstance(merge, Add) else merge.mul


def _named(branches: list[Layer] | dict[str, Layer]) -> Iterator[tuple[str, Layer]]:
    """Each branch with its path key: ``branch1``, ... for a list, the names of a mapping."""
    if isinstance(branches, list):
        yield from ((f"branch{i}", b) for i, b in enumerate(branches, start=1))
    else:
        yield from branches.items()


def _size(t: TensorType) -> Any:
    """The size a class follows from layer to layer: the channels (axis 1), or the features of a
    features-last tensor (tokens [N, T, D], ConvNeXt's MLP on [N, H, W, C]), as a person names them."""
    axis = t.features_axis
    return t.shape[axis] if t.rank >= 2 and isinstance(t.shape[axis], int) else None


def _is_list(layer: Layer) -> bool:
    if isinstance(layer, For):
        return layer.name is None  # a named for's copies are named layers of a class of their own
    return isinstance(layer, Repeat) or (isinstance(layer, Seq) and isinstance(layer.seq, list))


def _is_named_loop(layer: Layer) -> bool:
    return isinstance(layer, For) and layer.name is not None


def _body_kind(layer: Layer) -> str | None:
    """How a block's body is written: ``list`` (a Sequential class), ``module`` (a Module class), or
    None: one call, or an ``if`` between anything but module bodies, written where it is called."""
    if _is_list(layer) or _is_named_loop(layer):
        return "list"
    if isinstance(layer, Seq | Concat | Add | Mul | Dag):
        return "module"
    if isinstance(layer, If) and layer.else_ is not None:
        both = (_body_kind(layer.then), _body_kind(layer.else_))
        return "module" if both == ("module", "module") else None
    return None


def _returning(lines: list[str], result: str) -> list[str]:
    """Forward statements ending ``v = expr`` returned as ``return expr`` (else ``return result``)."""
    if lines and lines[-1].startswith(f"{result} = "):
        return [*lines[:-1], "return " + lines[-1][len(result) + 3 :]]
    return [*lines, f"return {result}"]


def _preferred(candidates: list[Term], actual: Any, env: Env, test: str | None = None, alike: bool = False) -> Term:
    """The first candidate whose expression gives ``actual`` here (a branch's size that the other
    branch's also is), else, given the ``if``'s ``test``, the size of each branch as the ``if``
    chooses it, else ``actual`` as a literal. ``alike``: the chosen size first, where the branches'
    are written apart, so that every copy of a loop writes the same (``channels if k % 2 == 0 else
    2 * dim``: a Swin stage keeps the width, patch merging doubles it; see :attr:`Frame.alike`)."""
    chosen = None
    sources = [t.source for t in candidates if not t.is_literal]
    if test is not None and len(sources) == 2 and sources[0] != sources[1]:
        chosen = expression(f"({sources[0]}) if {test} else ({sources[1]})")
    written = [t.expr for t in candidates]
    for expr in [chosen, *written] if alike else [*written, chosen]:
        term = env.check(actual, expr) if expr is not None else Term(actual)
        if not term.is_literal:
            return term
    return Term(actual)


def _shallower(built: Built) -> Built:
    """``built`` written one level less deep."""
    return replace(built, source=dedented([built.source])[0], setup=dedented(built.setup))


def _rechecked(term: Term, env: Env) -> Term:
    """``term`` if its expression still gives its value here (a loop variable has moved on)."""
    return env.check(term.value, term.expr) if term.expr is not None else term


def _names(source: str | None) -> frozenset[str]:
    parsed = expression(source) if source is not None else None
    return parsed.names if parsed is not None else frozenset()


def _input_of(xs: tuple[str, ...], view: View) -> InputShape:
    """What ``input`` is in the spec's expressions of a layer reading ``xs``."""
    return InputShape(lambda: Expander.one_input(xs, view.type))


def _read(frame: Frame) -> Callable[[Parameter], bool]:
    """Whether the class written in ``frame`` reads a parameter (it takes only those)."""
    return lambda parameter: parameter.name in frame.used


def _input_size(
    env: Env,
    xs: tuple[str, ...],
    view: View,
    size: Term,
    given: Mapping[str, tuple[Term, bool]] | None = None,
    taken: Mapping[str, Any] | None = None,
    same: str | None = None,
) -> tuple[Term | None, Env]:
    """A class's parameter for the size of its input (``xs``, given as ``size`` by its caller) that
    it follows (see :func:`_size`), and its env with it: for channels, ``in_channels`` (``in_features``
    on [N, F]), which ``input.channels`` reads. For the features of a features-last input, which
    ``input.channels`` (axis 1) does not read: a block takes the parameter its caller passes them as
    (torchvision's ``EncoderBlock(num_heads, hidden_dim, ...)``), else ``in_features`` of its own, so
    one class serves every width (Swin's blocks on [N, H, W, C]); the class of a block's steps
    (``taken``: the names of the class around it) the same expression, over names it takes. A
    block's parameter that is its input's channels in every call (``same``) is that parameter."""
    t = view.type(xs[0]) if len(xs) == 1 else None
    value = _size(t) if t is not None else None
    if t is None or value is None:
        return None, env
    if not t.features_last and same is not None:
        return Term(value, parameter(same)), env.child({}, input_channels=same)
    if not t.features_last:
        name = Namespace({*env.values, *(taken or {})}).new("in_channels" if t.rank > 2 else "in_features")
        return Term(value, parameter(name)), env.child({name: value}, input_channels=name)
    if given is None:
        return (size if size.names and size.names <= (taken or {}).keys() else None), env
    if size.expr is not None:
        for name, (term, _) in given.items():
            if name in env.values and term.expr is not None and term.source == size.source:
                return Term(value, parameter(name)), env
    name = Namespace(set(env.values)).new("in_features")
    return Term(value, parameter(name)), env.child({name: value})


def _step_name(path: str, default: str) -> str:
    key = path.rsplit(".", 1)[-1]
    return key if key.isidentifier() else default


def _anonymous_label(layer: Layer, path: str, around: str) -> str:
    """A name for an unnamed composite: its step's key, else what it does in the class around it
    (``residual_add``: the add of a residual block, not one more ``Add``)."""
    key = path.rsplit(".", 1)[-1]
    if isinstance(layer, Concat | Add | Mul) and not key.isidentifier():
        op = _MERGE_WORDS[type(layer)]
        return f"{around}_{op}" if around.isidentifier() and around.rsplit("_", 1)[-1] != op else op
    return key if key.isidentifier() else f"{around}_layers"


def _anonymous_doc(layer: Layer) -> str:
    if isinstance(layer, Concat | Add | Mul):
        return f"Branches on one input, merged by {_MERGE_WORDS[type(layer)]}."
    return "Layers of the spec."


def _read_stores(lines: list[str], var: str) -> list[str]:
    """``lines`` without the assignments to ``var`` that the next line naming it assigns again, at
    the same depth and without reading it (a size kept for steps that were given theirs another
    way: ShuffleNet's stages take their widths). One in a loop or an ``if`` is left as it is."""
    mentions = re.compile(rf"\b{re.escape(var)}\b")
    kept = []
    for i, line in enumerate(lines):
        store = line[: len(line) - len(line.lstrip())] + f"{var} = "
        later = next((later for later in lines[i + 1 :] if mentions.search(later)), "")
        if not (line.startswith(store) and later.startswith(store) and not mentions.search(later.removeprefix(store))):
            kept.append(line)
    return kept


def _args(values: Mapping[str, str], xs: Sequence[str], built: Built) -> list[str]:
    """The forward expressions of what ``built`` is given: ``xs``, then what it reads besides."""
    return [values[x] for x in (*xs, *built.reads)]


def _merge_in_list(step: Layer) -> SpecError:
    what = step.call if isinstance(step, Call) else "this step"
    return SpecError(
        f"'{what}' must read several values, but here it is a step of a list",
        step.loc,
        hint="merge branches with 'concat: [...]', 'add: [...]' or 'mul: [...]'",
    )


def _reads_input(layer: Layer) -> bool:
    """Whether an expression of ``layer`` itself (not of the blocks it calls) reads ``input``."""
    return any(INPUT in _names(n.expr) for n in _spec_nodes(layer) if isinstance(n, Expr))


def _loop_names(program: Program) -> frozenset[str]:
    """Every name a ``for`` of the program binds."""
    roots = [program.spec.network, *(block.body for block in program.blocks.values())]
    loops = (node for root in roots for node in _spec_nodes(root) if isinstance(node, For))
    return frozenset(name for loop in loops for name in loop.for_)


def _reads(layer: Layer, blocks: Mapping[str, Block]) -> frozenset[str]:
    """Every name the expressions of ``layer`` read, through the blocks it calls (and theirs)."""
    expressions = (node for node in _spec_nodes(layer, blocks) if isinstance(node, Expr))
    return frozenset(name for node in expressions for name in _names(node.expr))


def _spec_nodes(root: Any, blocks: Mapping[str, Block] | None = None) -> Iterator[Located]:
    """Every spec model object under ``root`` (in lists, mappings and fields; an expression's own
    parts not), and with ``blocks`` those of every block it calls, each block once."""
    entered: set[str] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, Located):
            yield value
            if isinstance(value, Expr):
                continue
            if blocks is not None and isinstance(value, Call) and value.call in blocks and value.call not in entered:
                entered.add(value.call)
                stack.append(blocks[value.call])
            stack.extend(getattr(value, name) for name in type(value).model_fields)


def other_values(value: Any) -> list[Any]:
    """Other values of a network param's kind, to check that the network class follows it (none
    for a string or null): ints +1, then doubled (a width must stay a multiple of a head count:
    ViT's hidden_dim 769 makes no valid network with 12 heads, 1536 does), floats halved, bools
    flipped, a list item by item (each item's first other value, then each one's last: Swin's heads
    doubled still divide its widths, one more head each does not), and a list one item shorter (a
    table of stages whose changed entries make no valid network still has one stage fewer)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1] if value * 2 in (value, value + 1) else [value + 1, value * 2]
    if isinstance(value, float):
        return [value / 2]
    if isinstance(value, list) and value:
        changed = [other_values(v) for v in value]
        each = [[c[0] for c in changed], [c[-1] for c in changed]] if all(changed) else []
        return [v for k, v in enumerate(each) if v not in each[:k]] + ([value[:-1]] if len(value) > 1 else [])
    return []
