"""Source generation shared by the backends: a graph's module tree written as Python classes.

One emitter per tree-node kind (:class:`~archspec.codegen.Kind`): a leaf is its op's constructor
(from the op's lowering), an unnamed list is an inline ``Sequential(...)``, a block whose body
is a list is ``class X(Sequential)``, and anything with names, branches or a DAG is
``class X(Module)`` with a forward method. A list that starts by merging several values is a
Sequential too: its first slot passes its input through, and the forward that calls it computes the merge
(``self.c(a + b)``), so its steps keep their numbers. Classes are written bottom-up and shared:
two instances get one class when their text is the same, so a spec block used with different
arguments becomes one parametric class (``Inception(in_channels, c1, c2, c3, c4)``) when every
value in it can be written exactly in the block's parameters (see
:mod:`archspec.codegen._terms`), and numbered variants (``Residual2``) where the block's
structure differs between calls. The network class takes the spec's params as arguments a person
may change, so it takes one only if every value made from it is written in its terms (see
:attr:`ClassState.fixed`; a width whose channels a flatten turns into a linear layer's features
is written as its value instead).

:class:`ClassEmitter` is that walk, framework-free. A backend subclasses it with its vocabulary
(base classes, the forward method's name, the tensor annotation, its lowering rules and helpers)
and overrides the hooks where its framework differs (imports, the network class's extras,
arguments handed down to every layer such as Flax's ``rngs``).
"""

from __future__ import annotations

import functools
import hashlib
import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from typing_extensions import assert_never

from archspec.backends import EmittedSource, LoweringBug, Lowerings
from archspec.codegen._context import LoweringContext
from archspec.codegen._namespace import MODULE_NAMES, Namespace, camel_case, is_free_identifier
from archspec.codegen._terms import Env, Term, literal, parameter
from archspec.codegen._tree import Kind, TreeNode, build_tree
from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.ir import Graph, Node, TensorType
from archspec.ops import Op
from archspec.ops.merge import Concat

MAX_LINE = 110
INDENT = "    "
_OUT_SIZE_FIELDS = ("out_channels", "out_features")
_PLACEHOLDER = "__CLASS__"


class Helper(Protocol):
    """A definition a lowering may need at the top of the generated file (a backend's own class)."""

    name: str
    source: str
    needs: tuple[str, ...]


class FunctionCall(Protocol):
    """What a lowering returns for an op written inline, as a merge in forward (a backend's own class)."""

    needs: tuple[str, ...]

    def render(self, args: list[str]) -> str: ...


@dataclass(frozen=True)
class ClassRef:
    """A generated class: its name, ``__init__`` parameters and output size in those parameters,
    and the arguments it hands down to its layers (see :attr:`ClassState.threaded`)."""

    name: str
    params: tuple[str, ...]
    in_param: str | None
    out_size: Term | None
    threaded: frozenset[str] = frozenset()
    #: Parameters the class is exact for only at the values it was written for (see
    #: :attr:`ClassState.fixed`): the network class does not take these.
    fixed: frozenset[str] = frozenset()


@dataclass
class ClassState:
    """What is known while one class is being written."""

    env: Env
    sizes: dict[str, Term]
    #: The class's label (a block's name, a step's key): names the unnamed classes inside it.
    label: str = ""
    in_param: str | None = None
    terms: list[Term] = field(default_factory=list)
    #: Keyword arguments the class takes only to hand them to its layers (Flax's ``rngs``).
    threaded: set[str] = field(default_factory=set)
    #: Parameters whose value the class's text depends on beyond the terms that name them: one that
    #: sets anything but an op's output size (a kernel can change every later spatial size), or an
    #: output size that is later written as a number (the features a flatten hands a linear layer).
    #: The class is exact for other values of the rest, which only set channel counts that every
    #: later layer reads as a term.
    fixed: set[str] = field(default_factory=set)

    def use(self, terms: Iterable[Term]) -> None:
        self.terms.extend(terms)


def call_source(func: str, arguments: list[str], indent: str) -> str:
    """``func(a, b)`` on one line if it fits, else one argument per line."""
    line = f"{func}({', '.join(arguments)})"
    if len(indent) + len(line) <= MAX_LINE or not arguments:
        return line
    inner = indent + INDENT
    return f"{func}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent})"


class ClassEmitter:
    """Writes one graph as a Python module of a framework's classes (see the module docstring)."""

    # ------------------------------------------------------------------ the framework's vocabulary
    #: ``nn.Sequential``, ``nn.Module``: the bases of generated classes.
    sequential_base: ClassVar[str]
    module_base: ClassVar[str]
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
        self.graph = graph
        self.report = report
        self.reserved_attributes = reserved_attributes
        # Module-level names (classes, helpers) never equal a parameter name, which would shadow
        # them inside an __init__ that takes that parameter.
        self._parameters = {k for scope in graph.scopes for k, _ in scope.args} | {k for k, _ in graph.params}
        self._start()

    def _start(self) -> None:
        """Forget every class written so far (an emit starts here, and again if it must)."""
        self.class_names = Namespace(MODULE_NAMES | self.helper_table.keys() | self._parameters, class_style=True)
        self.known: dict[tuple[str, str], ClassRef] = {}
        self.definitions: list[str] = []
        self.helpers: list[str] = []
        self.needs: set[str] = set()
        self.block_classes: dict[str, str] = {}

    # ------------------------------------------------------------------ hooks
    def imports(self) -> list[str]:
        """The file's import lines, once every class is written (``self.needs`` is complete)."""
        raise NotImplementedError

    def context(
        self, node: Node, inputs: tuple[TensorType, ...], output: TensorType, env: Env, sizes: tuple[Term, ...]
    ) -> LoweringContext:
        """What the lowering rule of ``node`` is given."""
        return self.context_type(node, inputs, output, env, sizes)

    def module_init(self) -> list[str]:
        """The first lines of a Module class's ``__init__`` body."""
        return []

    def root_sequential_call(self) -> list[str]:
        """The method lines the network's class gets when it is a Sequential (none by default)."""
        return []

    def root_init(self, init: list[str], state: ClassState) -> None:
        """Adjust the network class's ``__init__`` body."""

    def extra_parameters(self, state: ClassState, root: bool) -> list[str]:
        """``__init__`` parameters after the class's own (keyword-only ones, with their ``*``)."""
        return []

    def root_forward(self, lines: list[str], params: list[str], result: str, local: Namespace) -> str:
        """Adjust the network class's forward body; returns the expression it returns."""
        return result

    def threaded_by(self, lowered: Any) -> set[str]:
        """The arguments a layer's constructor is handed (see :attr:`ClassState.threaded`)."""
        return set()

    def layer_source(self, lowered: Any, indent: str) -> str:
        """A layer's constructor expression."""
        return call_source(lowered.constructor, lowered.arguments(), indent)

    def pass_through(self) -> str:
        """A layer that returns its input: the slot of a list's entry, which the list's caller
        computes (see :attr:`archspec.codegen.TreeNode.entry`), so later steps keep their numbers."""
        raise NotImplementedError

    # ------------------------------------------------------------------ entry
    def emit(self) -> EmittedSource:
        tree = build_tree(self.graph)
        root_values = {k: v for k, v in self.graph.params if _plain_default(v) and self._usable_parameter(k)}
        root = self._class(tree, root_values, label=self.graph.name, root=True)
        if root.fixed:
            # The network class's arguments are for people to change: it takes a spec param only if
            # every value that follows from it is written in its terms; the others become numbers.
            self._start()
            root_values = {k: v for k, v in root_values.items() if k not in root.fixed}
            root = self._class(tree, root_values, label=self.graph.name, root=True)
            assert not root.fixed, root.fixed
        imports = self.imports()
        doc = f'"""{self.graph.name}: generated by archspec from its spec; edit the spec, not this file."""'
        parts = [doc, "\n".join(imports), *self.helpers, *self.definitions]
        source = "\n\n\n".join(parts).replace("\n\n\n" + "\n".join(imports), "\n\n" + "\n".join(imports), 1) + "\n"
        digest = hashlib.sha256(source.encode()).hexdigest()[:10]
        return EmittedSource(
            source=source,
            filename=f"archspec_generated_{_file_stem(self.graph.name)}_{digest}.py",
            entry=root.name,
            imports=tuple(imports),
            classes=dict(self.block_classes),
        )

    # ---------------------------------------------------------------- classes
    def _class(self, tree: TreeNode, values: dict[str, Any], label: str, root: bool = False) -> ClassRef:
        """Write (or reuse) the class for composite ``tree`` whose body sees ``values``."""
        state = ClassState(Env(values), {}, label=label)
        in_param = None
        in_types = [self._type(i) for i in tree.call_inputs]
        if len(in_types) == 1 and not root and _size(in_types[0]) is not None:
            names = Namespace(state.env.values)
            in_param = names.new("in_channels" if in_types[0].rank > 2 else "in_features")
            state.env.values[in_param] = _size(in_types[0])
            state.in_param = in_param
            state.sizes[tree.call_inputs[0]] = Term(_size(in_types[0]), parameter(in_param))
        else:
            for name, t in zip(tree.call_inputs, in_types, strict=True):
                state.sizes[name] = Term(_size(t))
        if tree.kind is Kind.SEQUENTIAL_CLASS:
            items = [self._child(c, state, INDENT * 3) for c in tree.children]
            init = [f"{INDENT * 2}super().__init__(\n" + _listing(items, INDENT * 3) + f"{INDENT * 2})"]
            forward = self.root_sequential_call() if root else []
            base = self.sequential_base
        else:
            init = self.module_init()
            for child in tree.children:
                if self._is_function(child):
                    assert child.node is not None
                    self._lower(child.node, state)  # written in forward; its output size is still known
                    continue
                attr = self._attribute(child)
                init.append(f"{INDENT * 2}self.{attr} = {self._child(child, state, INDENT * 2)}")
            if tree.merge is not None:
                self._lower(tree.merge, state)  # written in forward; records the merged size
            forward = self._forward(tree, root)
            base = self.module_base
        if root:
            self.root_init(init, state)
        used = {n for t in state.terms for n in t.names}
        params = tuple(p for p in state.env.values if p in used)
        if in_param in params:
            params = (in_param, *(p for p in params if p != in_param))
        arguments = ["self", *(f"{p}={literal(values[p])}" if root else p for p in params)]
        parameters = [*arguments, *self.extra_parameters(state, root)]  # one per line where they do not fit
        doc = docstring(_class_doc(tree, label, root, self.graph), INDENT)
        text = "\n".join(
            [
                f"class {_PLACEHOLDER}({base}):",
                doc,
                "",
                f"{INDENT}{call_source('def __init__', parameters, INDENT)} -> None:",
                *init,
                *forward,
            ]
        )
        out_size = state.sizes.get(tree.output)
        key = (label, text)
        ref = self.known.get(key)
        if ref is None:
            name = self.class_names.new(camel_case(label))
            in_ref = in_param if in_param in params else None
            fixed = frozenset(state.fixed & set(params))
            ref = ClassRef(name, params, in_ref, out_size, frozenset(state.threaded), fixed)
            self.known[key] = ref
            self.definitions.append(text.replace(_PLACEHOLDER, name, 1))
            if tree.is_block:
                self.block_classes.setdefault(name, tree.label)
        return ref

    def _forward(self, tree: TreeNode, root: bool) -> list[str]:
        local = Namespace(MODULE_NAMES | self.forward_reserved)
        params = (
            [local.new("x")] if len(tree.inputs) == 1 else [local.new(f"x{i}") for i in range(1, len(tree.inputs) + 1)]
        )
        values = dict(zip(tree.inputs, params, strict=True))
        merge = tree.merge
        lines: list[str] = []
        calls = {c.path: self._call_expression(c) for c in tree.children}
        if merge is not None and all(set(c.inputs) <= set(tree.inputs) for c in tree.children):
            produced = {c.output: c for c in tree.children}
            args = [
                calls[produced[i].path]([values[x] for x in self._reads(produced[i])]) if i in produced else values[i]
                for i in merge.inputs
            ]
            result = self._function(merge, args)
        else:
            chain = merge is None and len(tree.inputs) == 1 and _reads_previous(tree)
            for child in tree.children:
                call = calls[child.path]([values[i] for i in self._reads(child)])
                var = params[0] if chain else local.new(child.key)
                lines.append(f"{var} = {call}")
                values[child.output] = var
            result = self._function(merge, [values[i] for i in merge.inputs]) if merge else values[tree.output]
            if lines and lines[-1].startswith(f"{result} = "):
                result = lines.pop()[len(result) + 3 :]
        if root:
            result = self.root_forward(lines, params, result, local)
        signature = ", ".join(["self", *(f"{p}: {self.tensor_type}" for p in params)])
        body = [f"{INDENT * 2}{line}" for line in lines]
        return [
            "",
            f"{INDENT}def {self.call_method}({signature}) -> {self.tensor_type}:",
            *body,
            f"{INDENT * 2}return {result}",
        ]

    def _reads(self, child: TreeNode) -> tuple[str, ...]:
        if child.entry is not None:
            return child.entry.inputs
        return child.node.inputs if child.kind is Kind.LEAF and child.node is not None else child.inputs

    def _call_expression(self, child: TreeNode) -> Callable[[list[str]], str]:
        if self._is_function(child):
            assert child.node is not None
            node = child.node
            return lambda args: self._function(node, args)
        attr = child.key
        entry = child.entry
        if entry is not None:  # the list's first step, its merge, is computed here
            return lambda args: f"self.{attr}({self._function(entry, args)})"
        return lambda args: f"self.{attr}({', '.join(args)})"

    # ---------------------------------------------------------------- children
    def _child(self, child: TreeNode, state: ClassState, indent: str) -> str:
        """The constructor expression of a submodule (recording its output size)."""
        if child.entry is not None and child.entry.name not in state.sizes:
            self._lower(child.entry, state)  # the caller computes the merge: its size is the caller's term
        match child.kind:
            case Kind.LEAF:
                return self._leaf(child, state, indent)
            case Kind.SEQUENTIAL:
                return self._sequential(child, state, indent)
            case Kind.SEQUENTIAL_CLASS | Kind.MODULE_CLASS:
                return self._instance(child, state, indent)
            case Kind.ENTRY:
                return self._entry(child, state, indent)
            case _:
                assert_never(child.kind)

    def _leaf(self, tree: TreeNode, state: ClassState, indent: str) -> str:
        node = tree.node
        assert node is not None
        lowered = self._lower(node, state)
        if isinstance(lowered, self.function_type):
            raise SpecError(
                f"'{node.op_name}' at {node.name} must read several values, but here it is a step of a list",
                node.loc,
                node.trace,
                hint="merge branches with 'concat: [...]', 'add: [...]' or 'mul: [...]'",
            )
        state.use(lowered.terms)
        state.threaded |= self.threaded_by(lowered)
        if lowered.helper is not None:
            self._helper(lowered.helper)
        return self.layer_source(lowered, indent)

    def _entry(self, tree: TreeNode, state: ClassState, indent: str) -> str:
        """The slot of the merge a list starts with: its caller computes it (see :class:`Kind`)."""
        assert tree.node is not None and tree.node.name in state.sizes
        comment = f"# {tree.key}: the {tree.node.op_name} of the inputs, done where this is called"
        return f"{comment}\n{indent}{self.pass_through()}"

    def _sequential(self, tree: TreeNode, state: ClassState, indent: str) -> str:
        inner = indent + INDENT
        items = [self._child(c, state, inner) for c in tree.children]
        return f"{self.sequential_base}(\n" + _listing(items, inner) + f"{indent})"

    def _instance(self, tree: TreeNode, state: ClassState, indent: str) -> str:
        """A call of the class written for ``tree``: block arguments and input size as terms."""
        if tree.is_block and tree.scope is not None:
            values = {k: v for k, v in tree.scope.args if self._usable_parameter(k)}
            arguments = dict(tree.scope.args)
            sources = dict(tree.scope.arg_exprs)
            ref = self._class(tree, values, tree.label)
            given = {p: state.env.term(arguments[p], sources.get(p)) for p in ref.params if p != ref.in_param}
        else:  # an unnamed composite sees the parameters of the class around it
            values = {k: v for k, v in state.env.values.items() if k != state.in_param}
            ref = self._class(tree, values, _anonymous_label(tree, state.label))
            given = {p: state.env.name(p) for p in ref.params if p != ref.in_param}
        if ref.in_param is not None:
            given[ref.in_param] = state.sizes[tree.call_inputs[0]]
        ordered = [given[p] for p in ref.params]
        state.use(ordered)
        state.threaded |= ref.threaded
        for param in ref.fixed:
            state.fixed |= given[param].names
        if tree.is_block and tree.scope is not None:  # arguments the spec computes but are written as numbers
            state.fixed |= {n for p in ref.params if given[p].is_literal for n in state.env.term_names(sources.get(p))}
        out_value = _size(self._type(tree.output))
        if ref.out_size is not None:
            out_size = state.env.substitute(out_value, ref.out_size.expr, given)
            if out_size.is_literal and ref.out_size.expr is not None:
                state.fixed |= {n for p in ref.out_size.expr.names if p in given for n in given[p].names}
            state.sizes[tree.output] = out_size
        else:
            state.sizes[tree.output] = Term(out_value)
        handed = [f"{name}={name}" for name in sorted(ref.threaded)]
        return call_source(ref.name, [t.source for t in ordered] + handed, indent)

    # ---------------------------------------------------------------- lowering
    def _lower(self, node: Node, state: ClassState) -> Any:
        inputs = tuple(self._type(i) for i in node.inputs)
        output = self.report.info[node.name].output
        sizes = tuple(state.sizes.get(i, Term(_size(t))) for i, t in zip(node.inputs, inputs, strict=True))
        ctx = self.context(node, inputs, output, state.env, sizes)
        lowered = self.lowerings.lower(node, ctx)
        out_size = state.sizes[node.name] = self._out_size(node, ctx, sizes)
        size_field = _size_field(type(node.op))
        for attr, source in node.exprs:
            names = state.env.term_names(source)
            if not names:
                continue
            if attr == size_field:
                follows = not out_size.is_literal
            elif attr in type(node.op).shape_neutral:  # follows if it is written as the expression
                follows = not state.env.term(getattr(node.op, attr), source).is_literal
            else:  # a kernel, stride, padding...: later spatial sizes (and what is made of them) change
                follows = False
            if not follows:
                state.fixed |= names
        if out_size.is_literal and size_field is None:  # a size from its inputs' written as a number (flatten)
            state.fixed |= {n for size in sizes for n in size.names}
        if len({size.source for size in sizes}) > 1 and not isinstance(node.op, Concat):
            state.fixed |= {n for size in sizes for n in size.names}  # an add holds only while its sizes agree
        return lowered

    def _out_size(self, node: Node, ctx: LoweringContext, sizes: tuple[Term, ...]) -> Term:
        """The output's channel (or feature) count as a term: from the op's size attribute,
        the sum of a channel concat's inputs, or the input's when the op keeps it."""
        value = _size(ctx.output)
        if value is None:
            return Term(None)
        field_name = _size_field(type(node.op))
        if field_name is not None:
            return ctx.attr(field_name)
        if isinstance(node.op, Concat) and node.op.axis % ctx.output.rank == 1:
            return ctx.env.sum(value, list(sizes))
        if sizes and sizes[0].value == value and ctx.inputs[0].rank >= 2:
            return sizes[0]
        return Term(value)

    def _function(self, node: Node, args: list[str]) -> str:
        lowered = self.lowerings.lower(node, self.context(node, (), self.report.info[node.name].output, Env({}), ()))
        if not isinstance(lowered, self.function_type):  # merges are written inline: the backend's bug
            raise LoweringBug(
                f"the {self.lowerings.backend} lowering of {node.op_name} gave {lowered!r}, "
                f"not the {self.function_type.__name__} a merge is written inline as"
            )
        self.needs.update(lowered.needs)
        return lowered.render(args)

    def _is_function(self, tree: TreeNode) -> bool:
        if tree.kind is not Kind.LEAF or tree.node is None:
            return False
        return type(tree.node.op).arity is None  # merges are written inline in forward

    # ---------------------------------------------------------------- names and helpers
    def _attribute(self, child: TreeNode) -> str:
        key = child.key
        reserved = keyword.iskeyword(key) or key in self.reserved_attributes or key.startswith("_")
        if not key.isidentifier() or not key.isascii() or reserved:
            node = child.node or _first_node(child)
            raise SpecError(
                f"the layer name '{key}' (at {child.path}) cannot be {self.attribute_role}",
                node.loc if node else None,
                node.trace if node else (),
                hint=f"'{key}' is a Python keyword, private, or an {self.module_class} attribute; rename the step",
            )
        return key

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

    def _type(self, name: str) -> TensorType:
        info = self.report.info.get(name)
        return info.output if info is not None else self.graph.input


@functools.cache
def _size_field(op_class: type[Op]) -> str | None:
    """The attribute that sets an op's output channels or features (``out_channels``), if any."""
    return next((name for name in _OUT_SIZE_FIELDS if name in op_class.model_fields), None)


def _size(t: TensorType) -> Any:
    return t.shape[1] if t.rank >= 2 and isinstance(t.shape[1], int) else None


def _listing(items: list[str], indent: str) -> str:
    """``items`` as the lines of a call's argument list."""
    return "".join(f"{indent}{item},\n" for item in items)


def _reads_previous(tree: TreeNode) -> bool:
    previous = tree.inputs
    for child in tree.children:
        if tuple(dict.fromkeys(child.inputs)) != previous:
            return False
        previous = (child.output,)
    return True


def _plain_default(value: Any) -> bool:
    return isinstance(value, int | float | str | bool) or value is None


def _first_node(tree: TreeNode) -> Node | None:
    if tree.node is not None:
        return tree.node
    for child in tree.children:
        found = _first_node(child)
        if found is not None:
            return found
    return None


def _anonymous_label(tree: TreeNode, around: str) -> str:
    """A name for an unnamed composite: its step's key, else what it does in the class around it
    (``residual_add``: the add of a residual block, not one more ``Add``)."""
    if tree.merge is not None:
        op = tree.merge.op_name
        return f"{around}_{op}" if around.isidentifier() and around.rsplit("_", 1)[-1] != op else op
    return tree.key if tree.key.isidentifier() else (tree.scope.label if tree.scope else "layers")


def _class_doc(tree: TreeNode, label: str, root: bool, graph: Graph) -> str:
    if root:
        return graph.doc or f"The {graph.name} network."
    if tree.is_block:
        assert tree.scope is not None
        params = ", ".join(k for k, _ in tree.scope.args)
        return f"The spec's block ``{label}({params})``."
    if tree.merge is not None:
        return f"Branches on one input, merged by {tree.merge.op_name}."
    return "Layers of the spec."


@functools.lru_cache(maxsize=1024)
def docstring(text: str, indent: str) -> str:
    """``text`` (the spec's own words) as a docstring that says exactly that and nothing else: its
    words wrapped to the line length, then each line escaped (backslashes doubled, unprintable
    characters such as NUL, escapes and bidi controls written as ``\\uXXXX``, no quote run that
    could end the string). Wrapping comes first, on the text's own characters, so that no line
    break can fall inside an escape: any doc the spec can hold gives valid source."""
    width = MAX_LINE - len(indent) - 6
    lines = [_escaped(line) for line in _wrapped(" ".join(text.split()), width)]
    if lines[-1].endswith('"'):
        lines[-1] = lines[-1][:-1] + '\\"'  # not a quote just before the closing ones
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""'
    return f'{indent}"""' + f"\n{indent}".join(lines) + f'\n{indent}"""'


def _escaped(line: str) -> str:
    line = line.replace("\\", "\\\\")
    if not line.isprintable():
        line = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in line)
    return re.sub(r'"(?=")', r'\\"', line)  # no two quotes in a row, so no run of three


def _wrapped(text: str, width: int) -> list[str]:
    """``text``'s words in lines whose escaped form fits ``width``; a word too long for a line is
    cut between characters. Linear in the text's length (a doc may be megabytes)."""
    lines: list[str] = []
    line: list[str] = []
    used = 0  # the escaped width of ``line``, spaces included
    for word in text.split(" "):
        plain = word.isascii() and word.isprintable() and "\\" not in word and '"' not in word
        size = len(word) if plain else sum(map(_escaped_width, word))
        if line and used + 1 + size <= width:
            line.append(word)
            used += 1 + size
            continue
        if line:
            lines.append(" ".join(line))
        start = 0
        while size > width:  # longer than a line: as many of its characters as fit, then the rest
            if plain:
                end, taken = start + width, width
            else:  # the rest is wider than a line, so this stops before the word's end
                end, taken = start, 0
                while taken + _escaped_width(word[end]) <= width:
                    taken += _escaped_width(word[end])
                    end += 1
            lines.append(word[start:end])
            start, size = end, size - taken
        line, used = [word[start:]], size
    lines.append(" ".join(line))
    return lines


def _escaped_width(char: str) -> int:
    """How wide ``char`` is once escaped (a quote counted as if it needed its backslash)."""
    if char in '\\"':
        return 2
    return 1 if char.isprintable() else len(ascii(char)) - 2


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "network"
