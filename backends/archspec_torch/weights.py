"""Canonical weights for torch modules: safetensors files named by IR path (no pickle, ever).

A canonical file holds every parameter and every running statistic under its
state_dict name (``b3.0.branch2.2.weight``, ``block1.1.running_mean``), in PyTorch
layouts. torch's ``num_batches_tracked`` counters are not canonical: torch reads
them only for cumulative averaging (``momentum=None``), which archspec never uses,
so they are neither saved nor expected; ``load_state_dict`` of a canonical dict
works unchanged because torch's BatchNorm treats the counter as optional.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from archspec.errors import Location, SpecError
from archspec.io import atomic_write

NON_CANONICAL_SUFFIX = "num_batches_tracked"


def canonical_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """``module``'s canonical tensors by name (its state_dict without bookkeeping)."""
    return {k: v for k, v in module.state_dict().items() if not k.endswith("." + NON_CANONICAL_SUFFIX)}


def save_weights(module: nn.Module, path: str | Path) -> None:
    """Write ``module``'s canonical weights to ``path`` (safetensors, atomically)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in canonical_state(module).items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt", "writer": "archspec"}))


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, or a SpecError saying why it cannot be read.

    Only safetensors is read, never a pickle (``torch.save`` writes a zip of pickles): a
    weights file from a stranger must not be able to run code."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    where = Location(str(path))
    if not Path(path).exists():
        raise SpecError(f"weights file {path} does not exist", where)
    if not Path(path).is_file():
        raise SpecError(f"weights file {path} is not a regular file", where)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise SpecError(f"{path} is not a readable safetensors file: {exc}", where, hint=_pickle_hint(path)) from None


def _pickle_hint(path: str | Path) -> str | None:
    """A hint for the files people mistake for weights files: torch.save's zip, a bare pickle."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError:
        return None
    if head == b"PK" or head[:1] == b"\x80":
        return (
            "this looks like torch.save (pickle) output, which archspec never loads (unpickling can run code); "
            "convert it where you trust it: safetensors.torch.save_file(model.state_dict(), 'w.safetensors')"
        )
    return None


def check_weights(module: nn.Module, tensors: dict[str, torch.Tensor], source: str = "weights") -> None:
    """Raise one SpecError listing every missing, unexpected, misshapen or mistyped tensor."""
    expected = canonical_state(module)
    notes: list[str] = []
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected and not k.endswith("." + NON_CANONICAL_SUFFIX)]
    notes += [f"missing: {k} {tuple(expected[k].shape)}" for k in missing]
    notes += [f"unexpected: {k} {tuple(tensors[k].shape)}" for k in unexpected]
    for key, want in expected.items():
        got = tensors.get(key)
        if got is None:
            continue
        if tuple(got.shape) != tuple(want.shape):
            notes.append(f"wrong shape: {key} is {tuple(got.shape)}, expected {tuple(want.shape)}")
        if got.dtype != want.dtype:
            notes.append(f"wrong dtype: {key} is {_dtype(got.dtype)}, expected {_dtype(want.dtype)}")
    if notes:
        raise SpecError(
            f"{source} do not match the network: {len(notes)} problem{'s' if len(notes) != 1 else ''}, nothing loaded",
            notes=tuple(notes),
            hint="weights are named by spec path, e.g. b3.0.branch2.2.weight; see `archspec shapes` for the paths",
        )


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Load canonical weights from ``path`` into ``module``: all of them, or none (a SpecError)."""
    tensors = read_weights(path)
    try:
        check_weights(module, tensors, source=f"weights in {path}")
    except SpecError as exc:
        raise exc.with_context(Location(str(path))) from None
    # torch's own counters (num_batches_tracked) are not canonical: left out, whatever their
    # shape, so that load_state_dict cannot fail half-way through (it copies as it goes).
    canonical = {k: v for k, v in tensors.items() if not k.endswith("." + NON_CANONICAL_SUFFIX)}
    with torch.no_grad():
        module.load_state_dict(canonical, strict=True)


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
