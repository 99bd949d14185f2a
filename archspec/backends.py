"""Backends: the contract, their discovery, and per-backend op lowerings.

A backend turns a shape-checked graph into a framework's module. It is a
:class:`Backend` (a :class:`typing.Protocol`, so any object with these members
qualifies) found through the entry-point group ``archspec.backends``; the built-in
ones register the same way a third party's would::

    [project.entry-points."archspec.backends"]
    torch = "archspec_torch:backend"

Each backend lowers ops through a :class:`Lowerings` table, filled by decorator in
files mirroring :mod:`archspec.ops`::

    LOWERINGS = Lowerings("torch")

    @LOWERINGS.register(Conv)
    def conv(node, ctx): ...

This module imports no framework: a backend's framework is imported only when
that backend is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from archspec.errors import SpecError, did_you_mean, one_of

if TYPE_CHECKING:
    from archspec.api import SpecSource
    from archspec.infer import ShapeReport
    from archspec.ir import Graph, Node
    from archspec.ops import Op

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
class RunResult:
    """What :meth:`Backend.run` returns; every array is a numpy array in the spec's layout (NCHW).

    ``captured`` maps each requested node or scope path to its output; ``state`` maps the
    canonical buffer names (``b1.1.running_mean``) to their values after the run (train mode
    updates them); ``grads`` maps ``"input"`` and every canonical parameter name to the
    gradient of ``sum(output * cotangent)`` when a cotangent was given, else it is empty.
    """

    output: Any
    captured: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    grads: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """What a backend offers. ``name`` is its entry-point name (``"torch"``)."""

    name: str

    def build(self, graph: Graph, report: ShapeReport, weights: str | Path | None = None) -> Any:
        """The framework module for ``graph``, with canonical ``weights`` loaded when given."""
        ...

    def emit(self, graph: Graph, report: ShapeReport) -> EmittedSource:
        """Standalone, readable source for ``graph`` (what :meth:`build` runs).

        A backend whose :meth:`build` runs this source may also offer
        ``build_from_source(emitted, weights=None, **options)``, the same build from source
        already emitted; :func:`archspec.build` then keeps the source in the build cache
        (:mod:`archspec.cache`) and skips the spec, shapes and emit on a hit.
        """
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
        """One forward pass of ``module`` (from :meth:`build`) on ``inputs``, a numpy array in the
        spec's layout, in eval or train mode, on ``device``; see :class:`RunResult`. The pass runs
        in the dtype of ``inputs``: float32, or float64 (parameters promoted; a SpecError where the
        backend cannot). This is what ``archspec parity`` compares across backends."""
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
        raise SpecError(f"entry point '{name}' ({point.value}) is not an archspec backend")
    _LOADED[name] = backend
    return backend


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
LoweringT = TypeVar("LoweringT", bound=Callable[..., Any])


class Lowerings(Generic[LoweringT]):
    """One backend's lowering rules, keyed by op class (registered by decorator)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._rules: dict[type[Op], LoweringT] = {}
        self._fingerprinted: tuple[tuple[type[Op], LoweringT], ...] | None = None  # the rules it was taken of
        self._fingerprint = ""

    def register(self, *ops: type[Op]) -> Callable[[LoweringT], LoweringT]:
        """Decorator: ``rule`` lowers each of ``ops`` (op classes from :mod:`archspec.ops`)."""

        def decorate(rule: LoweringT) -> LoweringT:
            for op in ops:
                if op in self._rules:
                    raise ValueError(f"{self.backend}: op '{op.op_name}' has two lowerings")
                self._rules[op] = rule
            return rule

        return decorate

    def __contains__(self, op: type[Op]) -> bool:
        return op in self._rules

    def fingerprint(self) -> str:
        """A digest of which rule lowers which op, by the rules' names and code: a rule added,
        removed or replaced in this process changes it (the build cache keys on it)."""
        snapshot = tuple(self._rules.items())
        if self._fingerprinted != snapshot:
            self._fingerprint = code_digest(snapshot)
            self._fingerprinted = snapshot
        return self._fingerprint

    def ops(self) -> frozenset[type[Op]]:
        return frozenset(self._rules)

    def get(self, node: Node) -> LoweringT:
        """The rule for ``node``'s op, or a SpecError naming the op and who does lower it."""
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
        return rule


def code_digest(pairs: Sequence[tuple[type, Callable[..., Any]]]) -> str:
    """A digest of (class, function) pairs by qualified names and bytecode, stable across processes."""
    import hashlib

    digest = hashlib.sha256()
    for cls, fn in sorted(pairs, key=lambda pair: (pair[0].__module__, pair[0].__qualname__)):
        code = getattr(fn, "__code__", None)
        digest.update(f"{cls.__module__}.{cls.__qualname__}={fn.__module__}.{fn.__qualname__}".encode())
        digest.update(code.co_code if code is not None else b"")
    return digest.hexdigest()


# ------------------------------------------------------------------ the API
def build(
    spec: SpecSource,
    backend: str = "torch",
    weights: str | Path | None = None,
    *,
    input_shape: list[int | str] | None = None,
    max_params: int | None = None,
    max_activation: int | None = None,
    options: Mapping[str, Any] | None = None,
    cache: bool = True,
    params: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Any:
    """Compile ``spec`` (a path, mapping or loaded program) into ``backend``'s module.

    Keyword ``overrides`` set network params (like ``--set``); ``params={...}`` does the same for
    any name, one of this function's own (``cache``) included, as in :func:`archspec.shapes`.
    ``weights`` is a canonical safetensors file to load. A network over the bounds of
    :func:`archspec.infer.infer_shapes` is refused before the backend allocates anything;
    ``max_params`` and ``max_activation`` raise them (like ``--max-params``). ``options`` go to
    the backend's own ``build`` (flax: ``{"data_format": "NHWC"}``). The generated source of a
    backend that builds from source (torch, flax) is kept in the build cache (:mod:`archspec.cache`), so building the
    same spec again skips straight to running it; ``cache=False`` bypasses it. Example::

        model = archspec.build("specs/googlenet.yaml", backend="torch", classes=100)
    """
    params = {**(params or {}), **overrides}
    chosen = get_backend(backend)
    options = dict(options or {})
    _check_options(chosen, options)
    from_source = getattr(chosen, "build_from_source", None)
    if from_source is None:
        graph, report = _shapes(spec, params, input_shape, max_params, max_activation)
        return chosen.build(graph, report, weights, **options)
    emitted = _emitted(chosen, spec, params, input_shape, max_params, max_activation, cache)
    return from_source(emitted, weights, **options)


def emit(
    spec: SpecSource,
    backend: str = "torch",
    *,
    input_shape: list[int | str] | None = None,
    max_params: int | None = None,
    max_activation: int | None = None,
    cache: bool = True,
    params: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> EmittedSource:
    """The source ``backend`` generates for ``spec`` (see :func:`build` for the arguments)."""
    params = {**(params or {}), **overrides}
    return _emitted(get_backend(backend), spec, params, input_shape, max_params, max_activation, cache)


def _check_options(chosen: Backend, options: Mapping[str, Any]) -> None:
    """Refuse build options the backend's ``build`` does not take, before any work is done."""
    if not options:
        return
    import inspect

    accepted = inspect.signature(chosen.build).parameters
    unknown = [name for name in options if name not in accepted or name in ("graph", "report", "weights")]
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        known = [n for n, p in accepted.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        raise SpecError(
            f"the {chosen.name} backend has no build option '{unknown[0]}'",
            expected=", ".join(known) if known else "no options",
            hint=did_you_mean(unknown[0], known),
        )


def _shapes(
    spec: SpecSource,
    params: Mapping[str, Any],
    input_shape: list[int | str] | None,
    max_params: int | None,
    max_activation: int | None,
) -> tuple[Graph, ShapeReport]:
    from archspec.api import to_graph
    from archspec.infer import infer_shapes

    graph = to_graph(spec, params or None, input_shape)
    return graph, infer_shapes(graph, max_params=max_params, max_activation=max_activation)


def _emitted(
    chosen: Backend,
    spec: SpecSource,
    params: Mapping[str, Any],
    input_shape: list[int | str] | None,
    max_params: int | None,
    max_activation: int | None,
    use_cache: bool,
) -> EmittedSource:
    """``chosen``'s source for ``spec``: from the build cache when it holds it within the bounds
    asked for, else generated (spec, expansion, shapes, emit) and kept there."""
    from archspec.api import load
    from archspec.cache import default_cache
    from archspec.infer import MAX_ACTIVATION, MAX_PARAMS, infer_shapes
    from archspec.spec.expand import lower

    store = default_cache() if use_cache else None
    key = store.key(spec, chosen, params, input_shape) if store is not None else None
    if store is not None and key is not None:
        entry = store.get(key)
        if (
            entry is not None
            and entry.total_params <= (MAX_PARAMS if max_params is None else max_params)
            and entry.largest_activation <= (MAX_ACTIVATION if max_activation is None else max_activation)
        ):
            return entry.emitted
    program = load(spec)
    graph = lower(program, params or None, input_shape)
    report = infer_shapes(graph, max_params=max_params, max_activation=max_activation)
    emitted = chosen.emit(graph, report)
    if store is not None and key is not None:
        store.put(key, program, report, emitted)
    return emitted
