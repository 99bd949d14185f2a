"""Canonical weights files, the part every backend shares: reading one safely and checking it
against what a network expects.

A weights file is safetensors only, never a pickle (``torch.save`` writes a zip of pickles): a
file from a stranger must not be able to run code. A mismatch is reported once, naming every
missing, unexpected, misshapen or mistyped tensor, before a backend loads anything. Framework-free:
each backend passes its own safetensors loader and describes tensors as shapes and dtype names.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from archspec.errors import Location, SpecError

#: Tensors a framework keeps beside the canonical ones, by the end of their names: ignored in a
#: file, so that a state dict saved straight from torch loads anywhere. torch's BatchNorm batch
#: counter, and the relative-position index torchvision's Swin keeps beside its bias table (a
#: function of the window size, which every backend computes for itself).
NON_CANONICAL_SUFFIXES = ("num_batches_tracked", "relative_position_index")


def is_canonical(name: str) -> bool:
    """Whether ``name`` can be a canonical tensor, not framework bookkeeping (see :data:`NON_CANONICAL_SUFFIXES`)."""
    return not name.endswith(tuple("." + suffix for suffix in NON_CANONICAL_SUFFIXES))


Tensors = TypeVar("Tensors")
#: A tensor described for the comparison: its shape and its dtype's name (``float32``).
Described = tuple[Sequence[int], str]


#: A safetensors header names every tensor with its dtype, shape and offsets: some 100 bytes a
#: tensor. 16 MiB is room for 150,000 tensors; a larger header is not a network's weights.
MAX_HEADER_BYTES = 16 * 1024 * 1024

#: safetensors' dtype codes, by the names archspec (numpy, torch) gives dtypes.
_DTYPE_NAMES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U64": "uint64",
    "U32": "uint32",
    "U16": "uint16",
    "U8": "uint8",
    "BOOL": "bool",
}


class WeightsFile:
    """A safetensors file opened for checking before loading: :attr:`described` is its header
    (every tensor's shape and dtype, read without the data); :meth:`tensor` then reads one tensor
    at a time, so a file is never held whole in memory beside the network it fills.

    ``framework`` is safetensors' (``"pt"`` for torch tensors, ``"numpy"``). Every failure of the
    file is a SpecError naming it; use as a context manager."""

    def __init__(self, path: str | Path, framework: str) -> None:
        self.path = path
        self._where = Location(str(path))
        _check_header_size(path, self._where)
        try:
            from safetensors import safe_open

            self._file = safe_open(str(path), framework=framework)
            self._handle = self._file.__enter__()
            self.described: dict[str, Described] = {}
            for name in self._handle.keys():  # noqa: SIM118 (a safetensors handle is no mapping)
                part = self._handle.get_slice(name)
                self.described[name] = (tuple(part.get_shape()), _DTYPE_NAMES.get(part.get_dtype(), part.get_dtype()))
        except BaseException as exc:
            raise self._refusal(exc) from None

    def tensor(self, name: str) -> Any:
        """The tensor ``name``, read from the file now."""
        try:
            return self._handle.get_tensor(name)
        except BaseException as exc:
            raise self._refusal(exc) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._file.__exit__(None, None, None)

    def __enter__(self) -> WeightsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _refusal(self, exc: BaseException) -> BaseException:
        """What to raise for ``exc``: Ctrl-C and exit pass; anything the safetensors library raises
        (a Rust panic included: it is a BaseException) is a SpecError, never a traceback."""
        if isinstance(exc, KeyboardInterrupt | SystemExit | SpecError):
            return exc
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return SpecError(
            f"{self.path} is not a readable safetensors file: {reason}", self._where, hint=_pickle_hint(self.path)
        )


def _check_header_size(path: str | Path, where: Location) -> None:
    """Refuse what is not a regular file, and a header over :data:`MAX_HEADER_BYTES`, before the
    safetensors library reads it (it reads a header whole)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SpecError(f"weights file {path} does not exist", where) from None
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read weights file {path}: {exc}", where) from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"weights file {path} is not a regular file", where)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise SpecError(f"cannot read weights file {path}: {exc.strerror or exc}", where) from None
    if len(head) == 8 and int.from_bytes(head, "little") > MAX_HEADER_BYTES:
        raise SpecError(
            f"{path} is not a readable safetensors file: its header says it is "
            f"{int.from_bytes(head, 'little'):,} bytes, over the limit of {MAX_HEADER_BYTES:,}",
            where,
            hint=_pickle_hint(path),
        )


def read_checked(path: str | Path, expected: Mapping[str, Described], framework: str) -> dict[str, Any]:
    """The tensors of the weights file ``path`` that ``expected`` names, read only after its header
    matched ``expected`` (:func:`check_tensors`: one SpecError naming every problem, and then no
    tensor has been read). ``framework`` is safetensors' (``"pt"``, ``"numpy"``)."""
    with WeightsFile(path, framework) as file:
        try:
            check_tensors(expected, file.described, source=f"weights in {path}")
        except SpecError as exc:
            raise exc.with_context(Location(str(path))) from None
        return {name: file.tensor(name) for name in expected}


def read_safetensors(path: str | Path, load: Callable[[str], Tensors]) -> Tensors:
    """``load(path)`` (a safetensors ``load_file``: the whole file), or a SpecError saying why it
    cannot be read. Loading into a network goes through :class:`WeightsFile` instead, which checks
    the header against the network before it reads any tensor."""
    where = Location(str(path))
    _check_header_size(path, where)
    try:
        return load(str(path))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
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
        f"unexpected: {k} {tuple(shape)}" for k, (shape, _) in found.items() if k not in expected and is_canonical(k)
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
