"""Canonical weights for torch modules: safetensors files named by IR path (no pickle, ever).

A canonical file holds every parameter and every running statistic under its
state_dict name (``b3.0.branch2.2.weight``, ``block1.1.running_mean``), in PyTorch
layouts. torch's ``num_batches_tracked`` counters are not canonical: torch reads
them only for cumulative averaging (``momentum=None``), which archspec never uses,
so they are neither saved nor expected; ``load_state_dict`` of a canonical dict
works unchanged because torch's BatchNorm treats the counter as optional. Nor is
``window_attention``'s ``relative_position_index`` (a function of its window), which
its module treats as optional in the same way.

A tied parameter (GPT-2's ``lm_head.weight`` is ``transformer.wte.weight``) is one
``nn.Parameter`` that ``state_dict`` lists under every module holding it: it is canonical
under its first name only (``named_parameters``' own rule), and loading fills the others.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from archspec.io import atomic_write
from archspec.weights import check_tensors, described, is_canonical, read_checked


def canonical_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """``module``'s canonical tensors by name (its state_dict without bookkeeping or a tied
    parameter's second names)."""
    aliases = tied_aliases(module)
    return {k: v for k, v in module.state_dict().items() if is_canonical(k) and k not in aliases}


def tied_aliases(module: nn.Module) -> dict[str, str]:
    """Each later name of a parameter that several modules hold, with its first (canonical) name."""
    first: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for name, parameter in module.named_parameters(remove_duplicate=False):
        canonical = first.setdefault(id(parameter), name)
        if canonical != name:
            aliases[name] = canonical
    return aliases


def save_weights(module: nn.Module, path: str | Path) -> None:
    """Write ``module``'s canonical weights to ``path`` (safetensors, atomically)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in canonical_state(module).items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt", "writer": "archspec"}))


def check_weights(module: nn.Module, tensors: dict[str, torch.Tensor], source: str = "weights") -> None:
    """Raise one SpecError listing every missing, unexpected, misshapen or mistyped tensor."""
    check_tensors(described(canonical_state(module), _dtype), described(tensors, _dtype), source)


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Load canonical weights from ``path`` into ``module``: all of them, or none (a SpecError).
    The file's header is checked against the module before any tensor is read."""
    tensors = read_checked(path, described(canonical_state(module), _dtype), "pt")
    tensors |= {alias: tensors[canonical] for alias, canonical in tied_aliases(module).items()}
    with torch.no_grad():
        module.load_state_dict(tensors, strict=True)  # the non-canonical buffers are optional


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
