"""archspec's PyTorch backend: specs to ``nn.Module``s, readable source, canonical weights.

Registered under the entry-point group ``archspec.backends`` as ``torch``; use it
through ``archspec.build(spec, backend="torch")`` or directly::

    from archspec_torch import backend
    model = backend.build(graph, report)
"""

from archspec_torch._backend import TorchBackend
from archspec_torch.weights import canonical_state, check_weights, load_weights, save_weights

backend = TorchBackend()

__all__ = ["TorchBackend", "backend", "canonical_state", "check_weights", "load_weights", "save_weights"]
