"""Canonical weights files, the part every backend shares: reading one safely and checking it
against what a network expects.

A weights file is safetensors only, never a pickle (``torch.save`` writes a zip of pickles): a
file from a stranger must not be able to run code. A mismatch is reported once, naming every
missing, unexpected, misshapen or mistyped tensor, before a backend loads anything. Framework-free:
each backend passes its own safetensors loader and describes tensors as shapes and dtype names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from archspec.errors import Location, SpecError

#: Tensors a framework keeps beside the canonical ones (torch's BatchNorm batch counter): ignored
#: in a file, so that a state dict saved straight from torch loads anywhere.
NON_CANONICAL_SUFFIX = "num_batches_tracked"

Tensors = TypeVar("Tensors")
#: A tensor described for the comparison: its shape and its dtype's name (``float32``).
Described = tuple[Sequence[int], str]


def read_safetensors(path: str | Path, load: Callable[[str], Tensors]) -> Tensors:
    """``load(path)`` (a safetensors ``load_file``), or a SpecError saying why it cannot be read."""
    from safetensors import SafetensorError

    where = Location(str(path))
    if not Path(path).exists():
        raise SpecError(f"weights file {path} does not exist", where)
    if not Path(path).is_file():
        raise SpecError(f"weights file {path} is not a regular file", where)
    try:
        return load(str(path))
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


def check_tensors(expected: Mapping[str, Described], found: Mapping[str, Described], source: str = "weights") -> None:
    """Raise one SpecError listing every missing, unexpected, misshapen or mistyped tensor."""
    notes = [f"missing: {k} {tuple(shape)}" for k, (shape, _) in expected.items() if k not in found]
    notes += [
        f"unexpected: {k} {tuple(shape)}"
        for k, (shape, _) in found.items()
        if k not in expected and not k.endswith("." + NON_CANONICAL_SUFFIX)
    ]
    for key, (want_shape, want_dtype) in expected.items():
        if key not in found:
            continue
        got_shape, got_dtype = found[key]
        if tuple(got_shape) != tuple(want_shape):
            notes.append(f"wrong shape: {key} is {tuple(got_shape)}, expected {tuple(want_shape)}")
        if got_dtype != want_dtype:
            notes.append(f"wrong dtype: {key} is {got_dtype}, expected {want_dtype}")
    if notes:
        raise SpecError(
            f"{source} do not match the network: {len(notes)} problem{'s' if len(notes) != 1 else ''}, nothing loaded",
            notes=tuple(notes),
            hint="weights are named by spec path, e.g. b3.0.branch2.2.weight; "
            "`archspec shapes --format json` lists every path",
        )


def described(tensors: Mapping[str, Any], dtype_name: Callable[[Any], str] = str) -> dict[str, Described]:
    """``tensors`` (numpy arrays, torch tensors) described for :func:`check_tensors`."""
    return {k: (tuple(v.shape), dtype_name(v.dtype)) for k, v in tensors.items()}
