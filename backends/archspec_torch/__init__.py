"""archspec's PyTorch backend: specs to ``nn.Module``s, readable source, canonical weights.

Registered under the entry-point group ``archspec.backends`` as ``torch``; use it
through ``archspec.build(spec, backend="torch")`` or directly::

    from archspec_torch import backend
    model = backend.build(graph, report)

Importing this package imports no torch (emitting source needs none); the weights
functions below load it when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archspec_torch._backend import TorchBackend

if TYPE_CHECKING:
    from archspec_torch.weights import canonical_state, check_weights, load_weights, save_weights

backend = TorchBackend()

__all__ = ["TorchBackend", "backend", "canonical_state", "check_weights", "load_weights", "save_weights"]

_FROM_WEIGHTS = frozenset({"canonical_state", "check_weights", "load_weights", "save_weights"})


def __getattr__(name: str) -> Any:
    if name not in _FROM_WEIGHTS:
        raise AttributeError(f"module 'archspec_torch' has no attribute '{name}'")
    from archspec_torch import weights

    return getattr(weights, name)
