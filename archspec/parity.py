"""Cross-backend parity: the same weights and input through every backend, differences tabled.

:func:`parity` draws one seeded set of canonical weights (shapes from the
:class:`~archspec.infer.ShapeReport`) into a temporary safetensors file and one seeded
input, builds each backend's module with those weights, runs each through
:meth:`archspec.backends.Backend.run`, and compares every result with the first
backend's (the reference):

* the output of each top-level stage of the network (``b1``, ``b2``, ...) and every output;
* in train mode, every running statistic after the one step (``--mode train``);
* with ``grad``, the gradients of the sum over outputs of ``sum(output * cotangent)`` (a
  seeded cotangent per output) with respect to each floating-point input and every parameter.

Each input gets its own seeded data: standard normal values for a float input, integers for an
integer one (token ids), from 0 to below the smallest bound an op of the network sets
(:meth:`archspec.ops.Op.index_bound`: an embedding's rows), else below
:data:`INTEGER_INPUT_BOUND`.

How differences are measured: for a reference tensor ``a`` and another backend's ``b``,
``abs = max|a - b|``, ``scale = max|a|`` and ``rel = abs / scale``; a tensor agrees when
``abs <= atol + rtol * scale``, i.e. within ``atol`` absolutely where values are O(1) and
relative to the tensor's own scale where they are large (gradients of early layers,
logits of deep nets). A row aggregates its tensors: the largest abs and rel, and it
passes only when every tensor does.

``dtype="float64"`` runs every backend in float64 (the float32 weights promoted): where a
network is so ill-conditioned that float32 rounding alone moves its gradients past any useful
tolerance (train-mode BatchNorm over a few values per channel), float64 still separates a
lowering bug (differences of order 1) from rounding (about 1e-12). Backends that cannot run
float64 (onnx) are skipped with the reason.

Train mode sets every dropout's rate to 0: frameworks draw different random masks, so
dropout cannot be compared (it is identity in eval mode anyway). Weights are drawn so
activations stay O(1): He-scaled normal weights (std sqrt(2 / fan_in)), biases and
running means ~ 0.1 N(0, 1), norm scales and running variances uniform in [0.5, 1.5].

This module is framework-free: numpy and safetensors.numpy only (imported when used),
and backends only through the :class:`~archspec.backends.Backend` protocol.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.errors import SpecError
from archspec.ir import tensor_name

if TYPE_CHECKING:
    from archspec.api import SpecSource
    from archspec.infer import ShapeReport
    from archspec.ir import Graph
    from archspec.spec.interface import InputShapes

MODES = ("eval", "train")
DTYPES = ("float32", "float64")
#: Integer inputs are drawn below this, where no op that reads them bounds them.
INTEGER_INPUT_BOUND = 16


@dataclass(frozen=True)
class Row:
    """One line of a parity table: a group of tensors of one backend against the reference."""

    kind: str  # "stage", "output", "state" or "grad"
    name: str  # a stage path, an output's name, or the stage a group of statistics/gradients belongs to
    backend: str
    abs: float
    rel: float
    ok: bool
    tensors: int = 1
    worst: str = ""  # the tensor with the largest rel difference
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "backend": self.backend,
            "max_abs": self.abs,
            "max_rel": self.rel,
            "ok": self.ok,
            "tensors": self.tensors,
            "worst": self.worst,
            "note": self.note,
        }


@dataclass
class ParityReport:
    """What :func:`parity` found; ``ok`` is whether every row passed."""

    spec: str
    backends: tuple[str, ...]
    mode: str
    grad: bool
    device: str
    #: Each input's concrete shape, by name (``input`` for the one unnamed input).
    input_shapes: dict[str, tuple[int, ...]]
    atol: float
    rtol: float
    seed: int
    rows: list[Row] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # backend -> why it was not compared
    notes: list[str] = field(default_factory=list)
    dtype: str = "float32"

    @property
    def reference(self) -> str:
        return self.backends[0]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "backends": list(self.backends),
            "reference": self.reference,
            "mode": self.mode,
            "grad": self.grad,
            "device": self.device,
            "dtype": self.dtype,
            "input_shapes": {name: list(shape) for name, shape in self.input_shapes.items()},
            "atol": self.atol,
            "rtol": self.rtol,
            "seed": self.seed,
            "ok": self.ok,
            "rows": [r.to_dict() for r in self.rows],
            "skipped": dict(self.skipped),
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- weights and inputs
def draw_weights(report: ShapeReport, seed: int = 0) -> dict[str, Any]:
    """Seeded canonical weights for every parameter and buffer of ``report``'s graph (float32).

    Matrices and kernels are He-scaled (std sqrt(2 / fan_in)), so activations stay O(1)
    through deep ReLU stacks; running variances are positive.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for node in report.graph.nodes:
        info = report.info[node.name]
        for kind, shapes in (("param", info.params), ("buffer", info.buffers)):
            for name, shape in shapes.items():
                dims = tuple(int(d) for d in shape)
                # a layer's own weight, or one of several (attention's in_proj_weight, out_proj.weight)
                weight = name.rsplit(".", 1)[-1].endswith("weight")
                if name == "running_var" or (kind == "param" and weight and len(dims) == 1):
                    value = rng.uniform(0.5, 1.5, dims)
                elif weight:
                    fan_in = math.prod(dims[1:])
                    value = rng.standard_normal(dims) * math.sqrt(2.0 / max(fan_in, 1))
                else:  # biases, running means
                    value = 0.1 * rng.standard_normal(dims)
                out[tensor_name(node.name, name)] = value.astype(np.float32)
    return out


def draw_input(graph: Graph, shape: tuple[int, ...], rng: Any, dtype: str = "float32", name: str | None = None) -> Any:
    """Seeded data of ``shape`` for input ``name`` of ``graph`` (its one input by default): N(0, 1)
    values in ``dtype`` (float32 values, so the same in either float dtype), or, for an input of
    integer ids, ids every op that indexes with them accepts (below the smallest ``embedding``'s
    ``num``; :data:`INTEGER_INPUT_BOUND` where none does)."""
    import numpy as np

    declared = graph.inputs[name] if name is not None else graph.input
    if not declared.is_integer:
        return rng.standard_normal(shape).astype(np.float32).astype(dtype)
    bounds = [bound for node in graph.nodes if (bound := node.op.index_bound()) is not None]
    return rng.integers(0, min(bounds, default=INTEGER_INPUT_BOUND), shape).astype(declared.dtype)


def _concrete_shape(shape: Sequence[int | str], batch: int) -> tuple[int, ...]:
    dims = []
    for i, d in enumerate(shape):
        if isinstance(d, int):
            dims.append(d if i else batch)
        elif i == 0:
            dims.append(batch)
        else:
            raise SpecError(
                f"parity needs a concrete input shape, but axis {i} is the symbol '{d}'",
                hint="give one with --input, e.g. --input Nx3x64x64",
            )
    return tuple(dims)


def without_dropout(graph: Graph) -> Graph:
    """``graph`` with every random rate (dropout's and drop_path's ``p``, attention's ``dropout``)
    set to 0: train-mode masks differ between frameworks."""
    from archspec.ir import Node

    nodes = tuple(
        Node(n.name, n.op.model_copy(update=dict.fromkeys(n.op.random_rates, 0.0)), n.inputs, n.loc, n.trace)
        if n.op.random_rates
        else n
        for n in graph.nodes
    )
    return replace(graph, nodes=nodes, _index={})


def stages(graph: Graph) -> list[str]:
    """The top-level stages of ``graph`` whose outputs a backend can capture (not inline merges)."""
    seen: dict[str, None] = {}
    for node in graph.nodes:
        top = node.name.split(".", 1)[0]
        if top == node.name and (type(node.op).arity in (None, 0) or len(node.inputs) > 1):
            # a top-level concat/add (or a resize to another input's size) is an expression, a
            # param an attribute: no layer
            continue
        seen.setdefault(top, None)
    return [_in_slices(graph, stage) for stage in seen]


def _in_slices(graph: Graph, stage: str) -> str:
    """Where a stage's output is captured: the stage itself, or, where later steps read one of
    its steps (``backbone.4``) and generated code runs it in slices (whose hooks and wrappers never
    see the whole), its last step, which gives the stage's output (``backbone.16``)."""
    inner = stage + "."
    output = next((scope.output for scope in graph.scopes if scope.path == stage), stage)
    read = any(
        x.startswith(inner) and x != output for n in graph.nodes if not n.name.startswith(inner) for x in n.inputs
    )
    return ".".join(output.split(".")[:2]) if read and output.startswith(inner) else stage


# ---------------------------------------------------------------- comparison
def compare(reference: Any, other: Any, atol: float, rtol: float) -> tuple[float, float, bool]:
    """``(max abs difference, max abs difference / max|reference|, within atol + rtol * scale)``."""
    import numpy as np

    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf, math.inf, False
    if a.size == 0:
        return 0.0, 0.0, True
    diff = float(np.max(np.abs(a - b)))
    scale = float(np.max(np.abs(a)))
    if not math.isfinite(diff):
        return math.inf, math.inf, False
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)
    return diff, rel, diff <= atol + rtol * scale


def _group(
    kind: str,
    backend: str,
    reference: Mapping[str, Any],
    other: Mapping[str, Any],
    key: Any,
    atol: float,
    rtol: float,
) -> list[Row]:
    """Rows comparing two dicts of tensors, grouped by ``key(name)`` (the top-level stage)."""
    groups: dict[str, list[tuple[str, float, float, bool]]] = {}
    rows: list[Row] = []
    for name in list(reference) + [n for n in other if n not in reference]:
        if name not in reference or name not in other:
            where = backend if name not in other else "the reference"
            rows.append(Row(kind, name, backend, math.inf, math.inf, False, note=f"missing in {where}"))
            continue
        groups.setdefault(key(name), []).append((name, *compare(reference[name], other[name], atol, rtol)))
    for group, items in groups.items():
        worst = max(items, key=lambda item: item[2])
        rows.append(
            Row(
                kind,
                group,
                backend,
                max(i[1] for i in items),
                worst[2],
                all(i[3] for i in items),
                len(items),
                worst[0] if len(items) > 1 else "",
            )
        )
    return rows


def _stage_of(name: str) -> str:
    return name if name == "input" else name.split(".", 1)[0]


# ---------------------------------------------------------------- the run
def parity(
    spec: SpecSource,
    backends: Sequence[str] = ("torch", "flax"),
    *,
    mode: str = "eval",
    grad: bool = False,
    device: str = "cpu",
    batch: int = 2,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    input_shape: InputShapes | None = None,
    dtype: str = "float32",
) -> ParityReport:
    """Run ``spec`` through ``backends`` with the same seeded weights and input; see the module docstring."""
    import numpy as np
    from safetensors.numpy import save_file

    from archspec.api import to_graph
    from archspec.backends import get_backend
    from archspec.infer import infer_shapes

    if mode not in MODES:
        raise SpecError(f"unknown mode '{mode}'", expected="eval or train", found=mode)
    if dtype not in DTYPES:
        raise SpecError(f"unknown dtype '{dtype}'", expected="float32 or float64", found=dtype)
    names = tuple(dict.fromkeys(b.strip() for b in backends if b.strip()))
    if len(names) < 2:
        raise SpecError("parity compares at least two backends", found=", ".join(names) or "none")
    if device.startswith("cuda"):
        # fp32 parity on GPU: no TF32 in cuBLAS/cuDNN (either framework), full-precision jax matmuls
        os.environ.setdefault("NVIDIA_TF32_OVERRIDE", "0")
        os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    loaded = {name: get_backend(name) for name in names}
    graph = to_graph(spec, params, input_shape)
    ids = next((t for t in graph.inputs.values() if t.is_integer), None)
    if ids is not None and dtype != "float32":
        # Backend.run takes its dtype from the input's, which ids do not carry
        raise SpecError(
            f"a {dtype} run needs real-valued input; this network takes {ids.dtype} ids",
            expected="float32",
            found=dtype,
            hint="compare networks over ids in float32",
        )
    notes: list[str] = []
    if mode == "train" and graph != without_dropout(graph):
        graph = without_dropout(graph)
        notes.append("train mode: dropout and drop_path rates set to 0 (frameworks draw different random masks)")
    report = infer_shapes(graph)
    shapes = {name: _concrete_shape(t.shape, batch) for name, t in graph.inputs.items()}
    result = ParityReport(
        str(spec) if isinstance(spec, str | Path) else graph.name,
        names,
        mode,
        grad,
        device,
        shapes,
        atol,
        rtol,
        seed,
        notes=notes,
        dtype=dtype,
    )
    weights = draw_weights(report, seed)
    rng = np.random.default_rng(seed + 1)
    xs = {name: draw_input(graph, shapes[name], rng, dtype, name) for name in graph.inputs}
    cotangents = (
        {
            name: rng.standard_normal(_concrete_shape(t.shape, batch)).astype(np.float32).astype(dtype)
            for name, t in report.outputs.items()
        }
        if grad
        else None
    )
    capture = stages(graph)
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="archspec-parity-") as tmp:
        path = Path(tmp) / "weights.safetensors"
        save_file(weights, str(path))
        for name, backend in loaded.items():
            module = backend.build(graph, report, path)
            runs[name] = _run(backend, module, xs, mode, capture, cotangents, device, result)
    ref_name = names[0]
    reference = runs.get(ref_name)
    if reference is None:
        raise SpecError(
            f"the reference backend '{ref_name}' cannot run this comparison: {result.skipped[ref_name]}",
            hint="put a backend that supports it first in --backends",
        )
    compared = [name for name in names[1:] if runs.get(name) is not None]
    if not compared:
        skipped = "; ".join(f"{name}: {why}" for name, why in result.skipped.items())
        raise SpecError(
            f"nothing to compare: no backend besides '{ref_name}' can run this comparison ({skipped})",
            hint="add a backend that can, e.g. --backends torch,flax",
        )
    for name in compared:
        other = runs[name]
        for stage in capture:
            result.rows += _group("stage", name, {stage: reference.captured[stage]}, {stage: other.captured[stage]},
                                  _stage_of, atol, rtol)  # fmt: skip
        for output in graph.outputs:
            result.rows += _group("output", name, {output: reference.outputs[output]},
                                  {output: other.outputs[output]}, _stage_of, atol, rtol)  # fmt: skip
        if mode == "train":
            result.rows += _group("state", name, reference.state, other.state, _stage_of, atol, rtol)
        if grad and reference.grads and other.grads:
            result.rows += _group("grad", name, reference.grads, other.grads, _stage_of, atol, rtol)
    return result


def _run(
    backend: Any,
    module: Any,
    xs: dict[str, Any],
    mode: str,
    capture: list[str],
    cotangent: Any,
    device: str,
    result: ParityReport,
) -> Any:
    """One backend's run, or None (with the reason in ``result.skipped``) if it cannot do ``mode``."""
    train = mode == "train"
    try:
        return backend.run(module, xs, train=train, capture=capture, cotangent=cotangent, device=device)
    except SpecError as exc:
        if cotangent is not None:
            try:
                run = backend.run(module, xs, train=train, capture=capture, device=device)
            except SpecError:
                pass
            else:
                result.notes.append(f"{backend.name}: no gradients ({exc.message}); outputs compared")
                return run
        if train or result.dtype != "float32":
            result.skipped[backend.name] = exc.message
            return None
        raise
