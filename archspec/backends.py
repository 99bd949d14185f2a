"""Backends: the contract, their discovery, their options, and per-backend op lowerings.

A backend turns a shape-checked graph into a framework's module. It is a
:class:`Backend` (a :class:`typing.Protocol`, so any object with these members
qualifies) found through the entry-point group ``archspec.backends``; the built-in
ones register the same way a third party's would::

    [project.entry-points."archspec.backends"]
    torch = "archspec_torch:backend"

What a backend can be asked beyond the graph (ONNX's opset, Flax's data layout) it
declares as a :class:`BackendOptions` model; :func:`resolve_options` checks what a
user gives (``options={...}``, ``--option NAME=VALUE``) against it.

Each backend lowers ops through a :class:`Lowerings` table, filled by decorator in
files mirroring :mod:`archspec.ops`::

    LOWERINGS: Lowerings[LoweringContext, ModuleCall] = Lowerings("torch")

    @LOWERINGS.register(Conv)
    def conv(op: Conv, ctx: LoweringContext) -> ModuleCall: ...

This module imports no framework, and neither may the object an entry point names:
a backend imports its framework when it builds, runs or checks weights, so emitting
source needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeAlias, TypeVar, overload, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import Self

from archspec.errors import SpecError, did_you_mean, one_of

if TYPE_CHECKING:
    from archspec.api import SpecSource
    from archspec.infer import ShapeReport
    from archspec.ir import Graph, Node
    from archspec.ops import Op
    from archspec.spec.interface import InputShapes

ENTRY_POINT_GROUP = "archspec.backends"

#: What each built-in backend needs installed, for the "not installed" message.
_EXTRAS = {"torch": "archspec[torch]", "flax": "archspec[flax]", "onnx": "archspec[onnx]"}


@dataclass(frozen=True)
class EmittedSource:
    """Generated source code: the text, the file name it is compiled under, and what it defines.

    ``entry`` names the top-level object (the network's class) that building instantiates.
    """

    source: str
    filename: str
    entry: str
    imports: tuple[str, ...] = ()
    #: Names a reader may want: block classes by the spec block they come from.
    classes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    """What ``archspec compile`` writes for a backend: ``kind`` for people ("PyTorch source"),
    and the ``suffix`` such a file is usually named with (``.py``)."""

    kind: str
    suffix: str


@dataclass(frozen=True)
class RunResult:
    """What :meth:`Backend.run` returns; every array is a numpy array in the spec's layout (NCHW).

    ``outputs`` maps each network output's name to its value (``"output"`` for the one output of
    a spec that names none); ``captured`` maps each requested node or scope path to its output;
    ``state`` maps the canonical buffer names (``b1.1.running_mean``) to their values after the
    run (train mode updates them); ``grads`` maps each floating-point input's name (``"input"``
    for the one unnamed input) and every canonical parameter name to the gradient of the sum over
    outputs of ``sum(output * cotangent)`` when cotangents were given, else it is empty.
    """

    outputs: Mapping[str, Any]
    captured: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    grads: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> Any:
        """The value of the network's one output."""
        if len(self.outputs) != 1:
            raise ValueError(f"the network has {len(self.outputs)} outputs ({', '.join(self.outputs)}); pick one")
        return next(iter(self.outputs.values()))


def by_name(values: Any, name: str) -> dict[str, Any]:
    """``values`` by name, as :meth:`Backend.run` takes inputs and cotangents and modules return
    outputs: a mapping as it is, a single array as the one named ``name``."""
    return dict(values) if isinstance(values, Mapping) else {name: values}


class BackendOptions(BaseModel):
    """The options one backend takes: subclass it with a field per option, each with a type, a
    default and a ``description`` (what ``archspec compile --help`` and errors show). A backend
    without options uses this class itself. Frozen; a name it does not declare is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def resolve(cls, backend: str, given: OptionsArg) -> Self:
        """``given`` checked against these options of the backend named ``backend``.

        A name this class does not declare, or a value its field does not take, is a SpecError
        naming the backend, the option and what it takes. Values are read as pydantic reads them,
        so the text of ``--option opset=18`` or ``--option fold_bn=true`` becomes an int or a bool.
        """
        if type(given) is cls:  # exactly: a backend without options declares the base class itself
            return given
        if isinstance(given, BackendOptions):
            raise SpecError(
                f"the {backend} backend was given another backend's options ({type(given).__name__})",
                expected=f"{cls.__name__}, or a mapping of option names to values",
            )
        values = dict(given or {})
        fields = cls.model_fields
        for name in values:
            if name not in fields:
                raise SpecError(
                    f"the {backend} backend has no option '{name}'",
                    expected=("one of " + one_of(fields)) if fields else "no options",
                    found=name,
                    hint=did_you_mean(name, fields) or "archspec compile --help lists each backend's options",
                )
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            if not error["loc"]:  # a check across several options
                raise SpecError(f"the {backend} backend's options: {error['msg']}", found=repr(values)) from None
            name = str(error["loc"][0])
            raise SpecError(
                f"option '{name}' of the {backend} backend: {error['msg']}",
                expected=cls.describe(name),
                found=repr(values.get(name)),
            ) from None

    @classmethod
    def describe(cls, name: str) -> str:
        """One option as errors show it: ``opset: int = 17 (the ONNX opset, from 13 ...)``."""
        info = cls.model_fields[name]
        annotation = info.annotation
        kind = annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")
        text = f"{name}: {kind} = {info.default!r}"
        return f"{text} ({info.description})" if info.description else text


#: ``options=`` as a caller gives it: a mapping of names to values, a backend's validated
#: options, or None for the defaults.
OptionsArg = Mapping[str, Any] | BackendOptions | None


@runtime_checkable
class Backend(Protocol):
    """What a backend offers. ``name`` is its entry-point name (``"torch"``).

    Every method that takes ``options`` accepts what :data:`OptionsArg` allows and reads it
    with its own ``Options.resolve`` (:meth:`BackendOptions.resolve`).
    """

    name: str
    #: The options this backend declares (:class:`BackendOptions` itself when it has none).
    Options: ClassVar[type[BackendOptions]]
    #: What :meth:`export` writes.
    artifact: ClassVar[Artifact]

    def build(
        self, graph: Graph, report: ShapeReport, weights: str | Path | None = None, options: OptionsArg = None
    ) -> Any:
        """The framework module for ``graph``, with canonical ``weights`` loaded when given. A
        backend that emits source builds by running the text :meth:`emit` returns."""
        ...

    def emit(self, graph: Graph, report: ShapeReport, options: OptionsArg = None) -> EmittedSource:
        """Standalone, readable source for ``graph`` (for torch and flax, what :meth:`build` runs)."""
        ...

    def export(
        self,
        graph: Graph,
        report: ShapeReport,
        output: str | Path,
        weights: str | Path | None = None,
        options: OptionsArg = None,
    ) -> str:
        """Write :attr:`artifact` to ``output`` (what ``archspec compile`` does) and say, in one
        line for people, what was written. ``weights`` are checked against the network first
        (every mismatch in one SpecError, nothing written); the artefact then uses or refers to them."""
        ...

    def check(self, graph: Graph, report: ShapeReport) -> None:
        """Raise the SpecError :meth:`build` would for ``graph`` (an op this backend has no
        lowering for, one of its limitations), building nothing and allocating no weights: what
        ``archspec check`` asks of every installed backend, so it must stay cheap."""
        ...

    def load_weights(self, module: Any, path: str | Path) -> None:
        """Load a canonical safetensors file into ``module``; all mismatches in one SpecError."""
        ...

    def save_weights(self, module: Any, path: str | Path) -> None:
        """Save ``module``'s canonical weights as safetensors."""
        ...

    def supports(self, op: type[Op]) -> bool:
        """Whether this backend has a lowering for ``op``."""
        ...

    def run(
        self,
        module: Any,
        inputs: Any,
        *,
        train: bool = False,
        capture: Sequence[str] = (),
        cotangent: Any = None,
        device: str = "cpu",
    ) -> RunResult:
        """One forward pass of ``module`` (from :meth:`build`) on ``inputs``, numpy arrays in the
        spec's layout by input name, in the graph's order (a single array: the one input), in eval
        or train mode, on ``device``; see :class:`RunResult`. ``cotangent``, by output name (a
        single array: the one output), asks for gradients. The pass runs in the dtype of the
        floating-point inputs: float32, or float64 (parameters promoted; a SpecError where the
        backend cannot); integer inputs stay int64. This is what ``archspec parity`` compares
        across backends."""
        ...


# ------------------------------------------------------------------ discovery
def backend_entry_points() -> dict[str, metadata.EntryPoint]:
    """The installed backends' entry points by name (nothing is imported)."""
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


_LOADED: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``; a SpecError if unknown or its framework is missing."""
    if name in _LOADED:
        return _LOADED[name]
    points = backend_entry_points()
    point = points.get(name)
    if point is None:
        raise SpecError(
            f"unknown backend '{name}'",
            expected="one of " + one_of(points),
            found=name,
            hint=did_you_mean(name, points) or "a backend registers under the entry-point group " + ENTRY_POINT_GROUP,
        )
    try:
        backend = point.load()
    except ImportError as exc:
        extra = _EXTRAS.get(name)
        raise SpecError(
            f"backend '{name}' cannot be loaded: {exc}",
            hint=f"install its framework: pip install '{extra}'" if extra else "install the backend's framework",
        ) from None
    if not isinstance(backend, Backend):
        missing = [member for member in _protocol_members() if not hasattr(backend, member)]
        raise SpecError(
            f"entry point '{name}' ({point.value}) is not an archspec backend",
            expected="the members of archspec.backends.Backend",
            found="no " + ", ".join(missing),
        )
    _LOADED[name] = backend
    return backend


def _protocol_members() -> list[str]:
    methods = {name for name, value in vars(Backend).items() if callable(value) and not name.startswith("_")}
    return sorted(methods | set(Backend.__annotations__))


def backends_supporting(op: type[Op], exclude: str = "") -> list[str]:
    """Names of the installed, loadable backends that lower ``op`` (loads them: error paths only)."""
    names = []
    for name in sorted(backend_entry_points()):
        if name == exclude:
            continue
        try:
            backend = get_backend(name)
        except SpecError:
            continue
        if backend.supports(op):
            names.append(name)
    return names


# ------------------------------------------------------------------ lowerings
_OpA = TypeVar("_OpA", bound="Op")
_OpB = TypeVar("_OpB", bound="Op")
_OpC = TypeVar("_OpC", bound="Op")
_OpD = TypeVar("_OpD", bound="Op")
_OpE = TypeVar("_OpE", bound="Op")
_OpT = TypeVar("_OpT", bound="Op")
ContextT = TypeVar("ContextT")
LoweredT = TypeVar("LoweredT")

#: A lowering rule: the op's validated attributes (typed: ``Conv``, not ``Op``) and the backend's
#: context (the node, its input and output types, terms for its arguments) to what it lowers to.
Rule: TypeAlias = Callable[[_OpT, ContextT], LoweredT]
_Registers: TypeAlias = Callable[[Rule[_OpT, ContextT, LoweredT]], Rule[_OpT, ContextT, LoweredT]]


class LoweringBug(Exception):
    """A lowering rule failed on a node it was given: archspec's (or the backend's) bug, not the spec's.

    It names the backend and the node; the rule's own exception is its ``__cause__``.
    """


class Lowerings(Generic[ContextT, LoweredT]):
    """One backend's lowering rules, keyed by op class and registered by decorator::

        LOWERINGS: Lowerings[LoweringContext, ModuleCall] = Lowerings("torch")

        @LOWERINGS.register(Conv, Conv1d)
        def conv(op: Conv | Conv1d, ctx: LoweringContext) -> ModuleCall: ...

    :meth:`register` is typed so that a type checker sees which ops a rule lowers: the rule's
    first parameter must accept every op class registered for it (their union), so a rule
    registered for the wrong op, or typed for one op and registered for two, is flagged.
    One rule takes up to five ops (a union per count of them is spelt out as an overload).
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        # Each rule takes the op class it is keyed by; the table cannot say so per entry.
        self._rules: dict[type[Op], Rule[Any, ContextT, LoweredT]] = {}

    @overload
    def register(self, op: type[_OpA], /) -> _Registers[_OpA, ContextT, LoweredT]: ...
    @overload
    def register(self, a: type[_OpA], b: type[_OpB], /) -> _Registers[_OpA | _OpB, ContextT, LoweredT]: ...
    @overload
    def register(
        self, a: type[_OpA], b: type[_OpB], c: type[_OpC], /
    ) -> _Registers[_OpA | _OpB | _OpC, ContextT, LoweredT]: ...
    @overload
    def register(
        self, a: type[_OpA], b: type[_OpB], c: type[_OpC], d: type[_OpD], /
    ) -> _Registers[_OpA | _OpB | _OpC | _OpD, ContextT, LoweredT]: ...
    @overload
    def register(
        self, a: type[_OpA], b: type[_OpB], c: type[_OpC], d: type[_OpD], e: type[_OpE], /
    ) -> _Registers[_OpA | _OpB | _OpC | _OpD | _OpE, ContextT, LoweredT]: ...

    def register(self, *ops: type[Op]) -> Callable[[Rule[Any, ContextT, LoweredT]], Rule[Any, ContextT, LoweredT]]:
        """Decorator: the rule lowers each of ``ops`` (op classes from :mod:`archspec.ops`)."""

        def decorate(rule: Rule[Any, ContextT, LoweredT]) -> Rule[Any, ContextT, LoweredT]:
            for op in ops:
                if op in self._rules:
                    raise ValueError(f"{self.backend}: op '{op.op_name}' has two lowerings")
                self._rules[op] = rule
            return rule

        return decorate

    def __contains__(self, op: type[Op]) -> bool:
        return op in self._rules

    def ops(self) -> frozenset[type[Op]]:
        return frozenset(self._rules)

    def lower(self, node: Node, ctx: ContextT) -> LoweredT:
        """``node`` lowered by the rule for its op.

        A node's op without a rule is the spec's problem (a SpecError naming the op and the
        backends that do lower it); a SpecError from the rule gets the node's location; any
        other failure of the rule is a :class:`LoweringBug`, never passed off as the spec's fault.
        """
        op = type(node.op)
        rule = self._rules.get(op)
        if rule is None:
            others = backends_supporting(op, exclude=self.backend)
            raise SpecError(
                f"the {self.backend} backend has no lowering for op '{op.op_name}' (at {node.name})",
                node.loc,
                node.trace,
                hint=("backends that have one: " + ", ".join(others)) if others else "no installed backend has one",
            )
        try:
            return rule(node.op, ctx)
        except SpecError as exc:
            raise exc.with_context(node.loc, node.trace) from None
        except Exception as exc:
            message = f"the {self.backend} backend failed to lower '{node.name}' ({node.op_name})"
            raise LoweringBug(f"{message}: {type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------------ the API
def build(
    spec: SpecSource,
    backend: str = "torch",
    weights: str | Path | None = None,
    *,
    input_shape: InputShapes | None = None,
    max_params: int | None = None,
    max_activation: int | None = None,
    options: OptionsArg = None,
    params: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Any:
    """Compile ``spec`` (a path, mapping or loaded program) into ``backend``'s module.

    Keyword ``overrides`` set network params (like ``--set``); ``params={...}`` does the same for
    any name, one of this function's own (``options``) included, as in :func:`archspec.shapes`.
    ``weights`` is a canonical safetensors file to load. A network over the bounds of
    :func:`archspec.infer.infer_shapes` is refused before the backend allocates anything;
    ``max_params`` and ``max_activation`` raise them (like ``--max-params``). ``options`` are the
    backend's own (flax: ``{"data_format": "NHWC"}``; see its ``Options``), checked before any
    work is done. Example::

        model = archspec.build("specs/googlenet.yaml", backend="torch", classes=100)
    """
    chosen = get_backend(backend)
    resolved = chosen.Options.resolve(chosen.name, options)
    graph, report = _shapes(spec, {**(params or {}), **overrides}, input_shape, max_params, max_activation)
    return chosen.build(graph, report, weights, resolved)


def emit(
    spec: SpecSource,
    backend: str = "torch",
    *,
    input_shape: InputShapes | None = None,
    max_params: int | None = None,
    max_activation: int | None = None,
    options: OptionsArg = None,
    params: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> EmittedSource:
    """The source ``backend`` generates for ``spec``: what :func:`build` runs, for torch and flax
    (see :func:`build` for the arguments)."""
    chosen = get_backend(backend)
    resolved = chosen.Options.resolve(chosen.name, options)
    graph, report = _shapes(spec, {**(params or {}), **overrides}, input_shape, max_params, max_activation)
    return chosen.emit(graph, report, resolved)


def _shapes(
    spec: SpecSource,
    params: Mapping[str, Any],
    input_shape: InputShapes | None,
    max_params: int | None,
    max_activation: int | None,
) -> tuple[Graph, ShapeReport]:
    from archspec.api import to_graph
    from archspec.infer import infer_shapes

    graph = to_graph(spec, params or None, input_shape)
    return graph, infer_shapes(graph, max_params=max_params, max_activation=max_activation)
