"""The reference implementations zoo specs are compared with: torchvision's model definitions
and Hugging Face ``transformers`` models built from a config (test-only dependencies; no weights
are ever downloaded: the references get random weights from their constructors).

On the machines this project runs on, torch is a CPU build that torchvision's compiled ops do
not load against: ``import torchvision`` fails while registering fake (meta) kernels for
``torchvision::nms`` and its other detection ops. The model definitions need none of those
ops, so :func:`torchvision` imports it with those registrations skipped. ``transformers``
imports torchvision when it is installed, so :func:`transformers` goes through the same door.
This is the one place that does it. It also maps a Hugging Face GPT-2 state dict onto
specs/gpt2.yaml's names (:func:`gpt2_weights_from_hugging_face`), for the tests and benchmarks.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import pytest


@functools.cache
def torchvision() -> ModuleType:
    """``torchvision``, importable whether or not its compiled ops load (skips the test without it)."""
    torch = pytest.importorskip("torch")
    real = torch.library.register_fake

    def register_fake(op: object, *args: object, **kwargs: object) -> object:
        if isinstance(op, str) and op.startswith("torchvision::") and not _has_op(torch, op):
            return lambda fn: fn  # the compiled op is missing: its fake kernel has nothing to attach to
        return real(op, *args, **kwargs)

    torch.library.register_fake = register_fake
    try:
        import torchvision as module
    except ImportError:
        pytest.skip("torchvision is not installed (pip install -e '.[dev]')")
    finally:
        torch.library.register_fake = real
    return module


@functools.cache
def transformers() -> ModuleType:
    """``transformers`` (skips the test without it), after :func:`torchvision` where that is installed."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is not None:
        torchvision()
    try:
        import transformers as module
    except ImportError:
        pytest.skip("transformers is not installed (pip install -e '.[dev]')")
    return module


def _has_op(torch: ModuleType, qualified: str) -> bool:
    namespace, _, name = qualified.partition("::")
    try:
        return hasattr(getattr(torch.ops, namespace), name)
    except (AttributeError, RuntimeError):
        return False


#: Hugging Face's Conv1D layers of a GPT-2 block, by specs/gpt2.yaml's names for them.
_GPT2_CONV1D = {
    "attn.c_attn.weight": "attn.in_proj_weight",
    "attn.c_attn.bias": "attn.in_proj_bias",
    "attn.c_proj.weight": "attn.out_proj.weight",
    "attn.c_proj.bias": "attn.out_proj.bias",
    "mlp.c_fc.weight": "mlp.c_fc.weight",
    "mlp.c_proj.weight": "mlp.c_proj.weight",
}


def gpt2_weights_from_hugging_face(state: dict[str, Any]) -> dict[str, Any]:
    """A Hugging Face GPT-2 state dict in specs/gpt2.yaml's names and layouts: Hugging Face's Conv1D
    weights are [in, out] and transposed; its q, k, v order and head split are nn.MultiheadAttention's."""
    out = {}
    for name, tensor in state.items():
        if name.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # the causal mask buffers of older versions
        prefix, _, rest = name.partition(".h.")
        if rest:
            layer, _, local = rest.partition(".")
            if local in _GPT2_CONV1D:
                name = f"{prefix}.h.{layer}.{_GPT2_CONV1D[local]}"
                tensor = tensor.t() if local.endswith("weight") else tensor
        out[name] = tensor.contiguous()
    return out
