"""archspec's Flax NNX backend: specs to ``nnx.Module``s, readable source, canonical weights.

Registered under the entry-point group ``archspec.backends`` as ``flax``; use it through
``archspec.build(spec, backend="flax")`` or directly::

    from archspec_flax import backend
    model = backend.build(graph, report)   # takes and returns NCHW arrays

Importing this package imports neither jax nor flax (emitting source needs neither); the
weights functions below load them when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archspec_flax._backend import FlaxBackend, FlaxOptions

if TYPE_CHECKING:
    from archspec_flax.weights import canonical_state, check_weights, load_weights, save_weights

backend = FlaxBackend()

__all__ = [
    "FlaxBackend",
    "FlaxOptions",
    "backend",
    "canonical_state",
    "check_weights",
    "load_weights",
    "save_weights",
]

_FROM_WEIGHTS = frozenset({"canonical_state", "check_weights", "load_weights", "save_weights"})


def __getattr__(name: str) -> Any:
    if name not in _FROM_WEIGHTS:
        raise AttributeError(f"module 'archspec_flax' has no attribute '{name}'")
    from archspec_flax import weights

    return getattr(weights, name)
