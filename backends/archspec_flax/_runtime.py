"""What the Flax backend does with jax: instantiate a generated network class, and run it.

Kept apart from :mod:`archspec_flax._backend` so that emitting source imports neither jax nor flax.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from archspec.backends import RunResult, by_name
from archspec.errors import SpecError
from archspec.ir import GRAPH_INPUT, GRAPH_OUTPUT
from archspec_flax import weights as canonical

#: The attribute of a built network that names the layers whose outputs it holds channels-last
#: (private, so no step can take it), read when :func:`run` captures them.
CHANNELS_LAST = "_archspec_channels_last"


def instantiate(
    entry: Callable[..., nnx.Module],
    data_format: str,
    seed: int,
    weights: str | Path | None,
    channels_last: frozenset[str] = frozenset(),
) -> nnx.Module:
    """``entry`` (a generated network class) constructed in ``data_format``, initialised from
    ``seed``, with canonical ``weights`` when given; ``channels_last`` names the paths whose
    outputs it holds channels-last (the others it holds as the spec has them).

    With ``weights``, the module is first built abstractly (``nnx.eval_shape``: no random
    initialisation to throw away), the file is checked against it (every mismatch at once,
    nothing loaded on any), then filled in.
    """
    takes_rngs = "rngs" in inspect.signature(entry).parameters

    def create() -> nnx.Module:
        if takes_rngs:
            return entry(data_format=data_format, rngs=nnx.Rngs(seed))
        return entry(data_format=data_format)

    if weights is None:
        model = create()
    else:
        model = nnx.eval_shape(create)
        canonical.load_weights(model, weights)
        _materialise(model, seed)
    setattr(model, CHANNELS_LAST, channels_last)
    return model


def run(
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
    entries = canonical.canonical_entries(model)
    stats = [e for e in entries.values() if isinstance(e.variable, nnx.BatchStat)]
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def forward(
        params: Any, floats: dict[str, jax.Array], fixed: dict[str, jax.Array], rest: Any
    ) -> tuple[dict[str, jax.Array], tuple[dict[str, jax.Array], dict[str, jax.Array]]]:
        inner = nnx.merge(graphdef, params, rest)
        inner_entries = canonical.canonical_entries(inner)  # before capture wrappers hide layers
        captured: dict[str, jax.Array] = {}
        # Deepest first: a wrapped layer hides its children from the paths that go through it.
        for path in sorted(capture, key=lambda p: p.count("."), reverse=True):
            _install_capture(inner, path, captured)
        xs = {**floats, **fixed}
        outs = by_name(inner(*(xs[name] for name in names)), GRAPH_OUTPUT)
        order[:] = outs  # the network's order (jit hands dicts back with their keys sorted)
        return outs, (captured, {e.name: inner_entries[e.name].variable[...] for e in stats})

    def forward_backward(
        params: Any, floats: dict[str, jax.Array], fixed: dict[str, jax.Array], rest: Any, cotangents: Any
    ) -> Any:
        # integer inputs (token ids) are constants of the pullback: only floats have gradients
        outs, pullback, aux = jax.vjp(lambda p, f, r: forward(p, f, fixed, r), params, floats, rest, has_aux=True)
        param_grads, input_grads, _ = pullback({k: _cotangent(v, cotangents[k]) for k, v in outs.items()})
        return outs, aux, param_grads, input_grads

    order: list[str] = []
    # rest (the running statistics) is an argument, so train mode may update it inside the trace
    forward_fn, forward_backward_fn = jax.jit(forward), jax.jit(forward_backward)

    # One jit-compiled program, not hundreds of op-by-op dispatches (each compiled on its own);
    # highest precision, so fp32 matmuls and convs are not computed in TF32/bf16 on GPUs.
    # A float64 input runs the whole pass in float64 (jax keeps 64-bit types only under x64).
    arrays = {name: np.asarray(value) for name, value in by_name(inputs, GRAPH_INPUT).items()}
    names = list(arrays)
    wide = any(a.dtype == np.float64 for a in arrays.values())
    with jax.default_device(target), jax.default_matmul_precision("highest"), jax.enable_x64(wide):
        floats = {k: jnp.asarray(a) for k, a in arrays.items() if np.issubdtype(a.dtype, np.floating)}
        # integer inputs (token ids) as jax's default int, int32 outside x64 mode
        fixed = {k: jnp.asarray(a, dtype=int) for k, a in arrays.items() if k not in floats}
        if wide:
            params, rest = _promoted(params), _promoted(rest)
        params, rest = jax.device_put((params, rest), target)
        if cotangent is None:
            outs, (captured, new_stats) = forward_fn(params, floats, fixed, rest)
            param_grads, input_grads = None, None
        else:
            cotangents = {k: jnp.asarray(v) for k, v in by_name(cotangent, GRAPH_OUTPUT).items()}
            outs, (captured, new_stats), param_grads, input_grads = forward_backward_fn(
                params, floats, fixed, rest, cotangents
            )
    grads: dict[str, Any] = {}
    if param_grads is not None:
        grads.update((name, np.asarray(g)) for name, g in input_grads.items())
        flat = [(tuple(p), v[...] if isinstance(v, nnx.Variable) else v) for p, v in nnx.to_flat_state(param_grads)]
        grads.update(canonical.to_canonical(entries, flat))
    for entry in stats:
        entry.variable[...] = np.asarray(new_stats[entry.name]).astype(entry.variable[...].dtype)
    state = {e.name: np.asarray(new_stats[e.name]) for e in stats}
    # a module built elsewhere (from compiled source) is taken to hold every such output channels-last
    held = getattr(model, CHANNELS_LAST, None)
    captured_nchw = {p: np.asarray(_nchw(v) if held is None or p in held else v) for p, v in captured.items()}
    return RunResult({k: np.asarray(outs[k]) for k in order}, captured_nchw, state, grads)


def _cotangent(out: jax.Array, given: jax.Array) -> Any:
    """The cotangent of one output: ``given`` in the output's dtype, or for an integer output
    (token ids passed through) jax's zero-size ``float0``: integers have no gradient."""
    if jnp.issubdtype(out.dtype, jnp.inexact):
        return given.astype(out.dtype)
    return np.zeros(out.shape, dtype=jax.dtypes.float0)


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
