"""The Flax backend object: build = emit + exec, so the two cannot drift."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from archspec.backends import EmittedSource, RunResult
from archspec.codegen import load_source
from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.ir import Graph
from archspec.ops import Op
from archspec_flax import ops as _ops  # registers the lowerings
from archspec_flax import weights as _weights
from archspec_flax._lowering import LOWERINGS
from archspec_flax.codegen._emit import ModuleEmitter

del _ops

#: Names a layer attribute cannot take: nnx.Module's own, and the network's data_format.
RESERVED_ATTRIBUTES = frozenset(dir(nnx.Module)) | frozenset({"data_format", "layers"})


class FlaxBackend:
    """Builds Flax NNX modules and their source; see :class:`archspec.backends.Backend`."""

    name = "flax"
    #: The op lowering rules (what the build cache keys on, with this package's code).
    lowerings = LOWERINGS

    def emit(self, graph: Graph, report: ShapeReport) -> EmittedSource:
        """Readable, standalone source (imports only jax and flax) whose entry class builds the network."""
        return ModuleEmitter(graph, report, RESERVED_ATTRIBUTES).emit()

    def build(
        self,
        graph: Graph,
        report: ShapeReport,
        weights: str | Path | None = None,
        *,
        data_format: str = "NCHW",
        seed: int = 0,
    ) -> nnx.Module:
        """The network as an NNX module (train mode, like a new torch module), weights loaded if given.

        It takes and returns arrays in the spec's NCHW layout unless ``data_format="NHWC"``;
        ``.eval()`` and ``.train()`` switch modes. With ``weights``, the module is first built
        abstractly (``nnx.eval_shape``: no random initialisation to throw away), the file is
        checked against it (every mismatch at once, nothing loaded on any), then filled in.
        """
        return self.build_from_source(self.emit(graph, report), weights, data_format=data_format, seed=seed)

    def build_from_source(
        self,
        emitted: EmittedSource,
        weights: str | Path | None = None,
        *,
        data_format: str = "NCHW",
        seed: int = 0,
    ) -> nnx.Module:
        """:meth:`build` from source :meth:`emit` returned (what the build cache keeps)."""
        if data_format not in ("NCHW", "NHWC"):
            raise SpecError(f"data_format must be 'NCHW' or 'NHWC', not '{data_format}'")
        entry = getattr(load_source(emitted, "archspec_generated_flax"), emitted.entry)
        takes_rngs = "rngs" in inspect.signature(entry).parameters

        def create() -> nnx.Module:
            if takes_rngs:
                return entry(data_format=data_format, rngs=nnx.Rngs(seed))
            return entry(data_format=data_format)

        if weights is None:
            return create()
        tensors = _weights.read_weights(weights)
        model = nnx.eval_shape(create)
        _weights.assign(model, tensors, source=f"weights in {weights}")
        _materialise(model, seed)
        return model

    def check(self, graph: Graph, report: ShapeReport) -> None:
        """Every lowering rule runs in :meth:`emit`, which writes source and builds nothing."""
        self.emit(graph, report)

    def load_weights(self, module: Any, path: str | Path) -> None:
        _weights.load_weights(module, path)

    def save_weights(self, module: Any, path: str | Path) -> None:
        _weights.save_weights(module, path)

    def supports(self, op: type[Op]) -> bool:
        return op in LOWERINGS

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
        """One forward (and, with a cotangent, backward) pass; see :meth:`archspec.backends.Backend.run`.

        The pass is ``jax.vjp`` of a pure function of the parameters and the input: the module is
        split into parameters and the rest, merged again inside, and the captured outputs and new
        running statistics come out as auxiliary values; the new statistics are then written
        back into ``module`` (as a torch module's would be).
        """
        platform = "gpu" if device.startswith("cuda") or device == "gpu" else device
        try:
            target = jax.devices(platform)[0]
        except RuntimeError:
            raise SpecError(f"jax has no '{device}' device here", hint="run on cpu, or install jax with CUDA") from None
        model: nnx.Module = module
        if train:
            model.train()
        else:
            model.eval()
        entries = _weights.canonical_entries(model)
        stats = [e for e in entries.values() if isinstance(e.variable, nnx.BatchStat)]
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)

        def forward(
            params: Any, x: jax.Array, rest: Any
        ) -> tuple[jax.Array, tuple[dict[str, jax.Array], dict[str, jax.Array]]]:
            inner = nnx.merge(graphdef, params, rest)
            inner_entries = _weights.canonical_entries(inner)  # before capture wrappers hide layers
            captured: dict[str, jax.Array] = {}
            for path in capture:
                _install_capture(inner, path, captured)
            out = inner(x)
            return out, (captured, {e.name: inner_entries[e.name].variable[...] for e in stats})

        def forward_backward(params: Any, x: jax.Array, rest: Any, cotangent: jax.Array) -> Any:
            out, pullback, aux = jax.vjp(forward, params, x, rest, has_aux=True)
            param_grads, input_grad, _ = pullback(cotangent.astype(out.dtype))
            return out, aux, param_grads, input_grad

        # rest (the running statistics) is an argument, so train mode may update it inside the trace
        forward_fn, forward_backward_fn = jax.jit(forward), jax.jit(forward_backward)

        # One jit-compiled program, not hundreds of op-by-op dispatches (each compiled on its own);
        # highest precision, so fp32 matmuls and convs are not computed in TF32/bf16 on GPUs.
        # A float64 input runs the whole pass in float64 (jax keeps 64-bit types only under x64).
        wide = np.asarray(inputs).dtype == np.float64
        with jax.default_device(target), jax.default_matmul_precision("highest"), jax.enable_x64(wide):
            x = jnp.asarray(inputs)
            if wide:
                params, rest = _promoted(params), _promoted(rest)
            params, rest = jax.device_put((params, rest), target)
            if cotangent is None:
                out, (captured, new_stats) = forward_fn(params, x, rest)
                param_grads, input_grad = None, None
            else:
                out, (captured, new_stats), param_grads, input_grad = forward_backward_fn(
                    params, x, rest, jnp.asarray(cotangent)
                )
        grads: dict[str, Any] = {}
        if param_grads is not None:
            grads["input"] = np.asarray(input_grad)
            flat = [(tuple(p), v[...] if isinstance(v, nnx.Variable) else v) for p, v in nnx.to_flat_state(param_grads)]
            grads.update(_weights.to_canonical(entries, flat))
        for entry in stats:
            entry.variable[...] = np.asarray(new_stats[entry.name]).astype(entry.variable[...].dtype)
        state = {e.name: np.asarray(new_stats[e.name]) for e in stats}
        captured_nchw = {p: np.asarray(_nchw(v)) for p, v in captured.items()}
        return RunResult(np.asarray(out), captured_nchw, state, grads)

    def __repr__(self) -> str:
        return "<archspec backend 'flax'>"


def _materialise(model: nnx.Module, seed: int) -> None:
    """Give the variables no weights file holds (dropout's random-stream state) concrete values."""
    key = jax.random.key(seed)
    for i, (_, variable) in enumerate(nnx.iter_graph(model)):
        if not isinstance(variable, nnx.Variable):
            continue
        value = variable.get_value()
        if not isinstance(value, jax.ShapeDtypeStruct):
            continue
        if isinstance(variable, nnx.RngKey):
            variable.set_value(jax.random.fold_in(key, i))
        else:
            variable.set_value(jnp.zeros(value.shape, value.dtype))


def _promoted(state: Any) -> Any:
    """``state`` with its floating-point arrays in float64 (call under ``jax.enable_x64``)."""

    def widen(value: Any) -> Any:
        if hasattr(value, "dtype") and jnp.issubdtype(value.dtype, jnp.floating):
            return jnp.asarray(value, jnp.float64)
        return value

    return jax.tree.map(widen, state)


def _nchw(x: jax.Array) -> jax.Array:
    return jnp.moveaxis(x, -1, 1) if x.ndim > 2 else x


def _install_capture(model: nnx.Module, path: str, captured: dict[str, jax.Array]) -> None:
    """Wrap the layer at ``path`` (a canonical path: no ``layers``) so its output lands in ``captured``."""
    parent: Any = model
    parts = path.split(".")
    for part in parts[:-1]:
        parent = _child(parent, part, path)
    layer = _child(parent, parts[-1], path)

    def record(*args: Any, **kwargs: Any) -> Any:
        out = layer(*args, **kwargs)
        captured[path] = out
        return out

    last = parts[-1]
    if isinstance(parent, nnx.Sequential):
        parent.layers[int(last)] = record
    else:
        setattr(parent, last, record)


def _child(parent: Any, key: str, path: str) -> Any:
    try:
        if isinstance(parent, nnx.Sequential):
            return parent.layers[int(key)]
        return getattr(parent, key)
    except (AttributeError, IndexError, ValueError):
        raise SpecError(f"cannot capture '{path}': the flax module has no layer '{key}' there") from None
