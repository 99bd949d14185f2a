"""archspec's Flax NNX backend: specs to ``nnx.Module``s, readable source, canonical weights.

Registered under the entry-point group ``archspec.backends`` as ``flax``; use it through
``archspec.build(spec, backend="flax")`` or directly::

    from archspec_flax import backend
    model = backend.build(graph, report)   # takes and returns NCHW arrays
"""

from archspec_flax._backend import FlaxBackend
from archspec_flax.weights import canonical_state, check_weights, load_weights, save_weights

backend = FlaxBackend()

__all__ = ["FlaxBackend", "backend", "canonical_state", "check_weights", "load_weights", "save_weights"]
