"""Canonical weights for Flax NNX modules: safetensors files named by IR path, PyTorch layouts.

A canonical file holds every parameter and running statistic under its IR path plus
PyTorch's name (``b3.0.branch2.2.weight``, ``block1.1.running_var``) in PyTorch's
layout. The NNX module keeps them in Flax's names and layouts; this module is the one
place that translates, both ways:

==================  ===================  ===========================================
NNX layer           variable             canonical name and layout
==================  ===================  ===========================================
``nnx.Conv``        ``kernel`` (H W I O)  ``weight`` (O I H W): transposed
``ConvTranspose``   ``kernel`` (H W O I)  ``weight`` (I O H W): transposed
``nnx.Linear``      ``kernel`` [in, out]  ``weight`` [out, in]: transposed
norms               ``scale``             ``weight``
``LayerNorm``       ``scale``, ``bias``   ``weight``, ``bias``; over C, H, W held NHWC: [H, W, C] to [C, H, W]
``BatchNorm``       ``mean``, ``var``     ``running_mean``, ``running_var``
``nnx.Embed``       ``embedding``         ``weight`` [num, dim]
``SelfAttention``   ``in_proj_weight``    ``in_proj_weight`` [3D, D] (and ``in_proj_bias``), as torch's
``WindowAttention`` its bias table       ``relative_position_bias_table``, as torchvision's Swin
any                 ``bias``              ``bias``
a ``param`` step    its own name          the same; held channels-last, [1, 1, C] to [C, 1, 1]
==================  ===================  ===========================================

A ``param`` step's variable carries the metadata ``learnable_tensor=True``: its name is its
step's, whatever it is (a step may be called ``bias``). It is held as the spec has it (ViT's class
token and position embedding, held as the tokens they meet are), unless it also carries
``channels_last=True``: then the spec's axis 1 is its last (a layer scale met by channels-last maps).

A transposed convolution's kernel is in ``nnx.ConvTranspose``'s ``transpose_kernel`` layout,
which the generated ``ConvTranspose`` always uses; it then permutes as a convolution's does.
Module paths drop the ``layers`` attribute of ``nnx.Sequential`` (``b1.layers.0`` is
``b1.0``). Nothing is pickled, and loading is all or nothing: every mismatch is
reported at once, by name, before any value is assigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from archspec.io import atomic_write
from archspec.weights import check_tensors, described, read_checked


@dataclass(frozen=True)
class Entry:
    """One canonical tensor of a module: where NNX keeps it and how its layout converts.

    ``perm`` takes the NNX array to the canonical layout (``np.transpose(a, perm)``); None
    when the layouts are the same.
    """

    name: str
    path: tuple[Any, ...]  # the variable's path in nnx.state(module)
    variable: nnx.Variable[Any]
    perm: tuple[int, ...] | None

    def to_canonical(self, array: Any) -> np.ndarray:
        array = np.asarray(array)
        return array if self.perm is None else np.transpose(array, self.perm)

    def from_canonical(self, array: Any) -> np.ndarray:
        array = np.asarray(array)
        return array if self.perm is None else np.transpose(array, np.argsort(self.perm))

    def canonical(self) -> np.ndarray:
        return self.to_canonical(self.variable.get_value())

    @property
    def shape(self) -> tuple[int, ...]:
        """The canonical shape (works on abstract modules from ``nnx.eval_shape`` too)."""
        shape = tuple(self.variable.get_value().shape)
        return shape if self.perm is None else tuple(shape[i] for i in self.perm)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.variable.get_value().dtype)


def _kernel_perm(ndim: int) -> tuple[int, ...]:
    """Conv kernels (*K, I, O) → (O, I, *K), transposed-conv kernels (*K, O, I) → (I, O, *K) (PyTorch's
    layouts of both); linear kernels ([in, out] → [out, in]) are the ndim-2 case."""
    return (ndim - 1, ndim - 2, *range(ndim - 2))


_NAMES = {
    "kernel": "weight",
    "scale": "weight",
    "bias": "bias",
    "mean": "running_mean",
    "var": "running_var",
    "embedding": "weight",
    "in_proj_weight": "in_proj_weight",
    "in_proj_bias": "in_proj_bias",
    "relative_position_bias_table": "relative_position_bias_table",
}


def _convert(
    owner: Any, leaf: str, ndim: int, variable: nnx.Variable[Any]
) -> tuple[str, tuple[int, ...] | None] | None:
    metadata = variable.get_metadata()
    if metadata.get("learnable_tensor", False):
        return leaf, ((0, ndim - 1, *range(1, ndim - 1)) if metadata.get("channels_last", False) else None)
    name = _NAMES.get(leaf)
    if name is None:
        return None
    if leaf == "kernel" and isinstance(owner, nnx.Conv | nnx.ConvTranspose | nnx.Linear):
        return name, _kernel_perm(ndim)
    if leaf in ("mean", "var") and not isinstance(owner, nnx.BatchNorm):
        return None
    over_channels = getattr(owner, "channels_last", True) and _holds_channels(getattr(owner, "feature_axes", ()))
    if isinstance(owner, nnx.LayerNorm) and ndim > 1 and over_channels:
        return name, _channels_first_perm(ndim)
    return name, None


def _holds_channels(axes: int | tuple[int, ...]) -> bool:
    """Whether a layer norm over the spec's last axes includes the channels, which channels-last
    keeps in the last axis (the layernorm lowering writes its axes as negative indices)."""
    return -1 in (axes if isinstance(axes, tuple) else (axes,))


def _channels_first_perm(ndim: int) -> tuple[int, ...]:
    """A scale over channels-last axes ([H, W, C]) → the spec's order ([C, H, W])."""
    return (ndim - 1, *range(ndim - 1))


def canonical_entries(module: nnx.Module) -> dict[str, Entry]:
    """Every canonical tensor of ``module`` by canonical name, in the module's order."""
    nodes: dict[tuple[Any, ...], Any] = {}
    variables: list[tuple[tuple[Any, ...], nnx.Variable[Any]]] = []
    for path, node in nnx.iter_graph(module):
        path = tuple(path)
        nodes[path] = node
        if isinstance(node, nnx.Param | nnx.BatchStat):
            variables.append((path, node))
    entries: dict[str, Entry] = {}
    for path, variable in sorted(variables, key=lambda item: _order(item[0])):
        owner = nodes.get(path[:-1])
        if isinstance(owner, nnx.Module) and isinstance(getattr(owner, "tied_to", None), str) and path[-1] == "weight":
            # a tied layer's weight is its owner's variable (NNX lists a shared one once, wherever
            # it meets it first): named as the owner's
            entries[owner.tied_to] = Entry(owner.tied_to, path, variable, None)
            continue
        converted = _convert(owner, str(path[-1]), len(variable.get_value().shape), variable)
        if converted is None:
            continue
        name, perm = converted
        parts = [str(p) for i, p in enumerate(path[:-1]) if not _is_sequential_layers(nodes, path, i)]
        canonical = ".".join([*parts, name])
        entries[canonical] = Entry(canonical, path, variable, perm)
    return entries


def _is_sequential_layers(nodes: Mapping[tuple[Any, ...], Any], path: tuple[Any, ...], i: int) -> bool:
    return path[i] == "layers" and isinstance(nodes.get(path[:i]), nnx.Sequential)


def _order(path: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in path)


def canonical_state(module: nnx.Module) -> dict[str, np.ndarray]:
    """``module``'s canonical tensors by name, as numpy arrays in PyTorch layouts."""
    return {name: entry.canonical() for name, entry in canonical_entries(module).items()}


def save_weights(module: nnx.Module, path: str | Path) -> None:
    """Write ``module``'s canonical weights to ``path`` (safetensors, atomically)."""
    from safetensors.numpy import save_file

    tensors = {k: np.ascontiguousarray(v) for k, v in canonical_state(module).items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "np", "writer": "archspec"}))


def check_weights(module: nnx.Module, tensors: Mapping[str, np.ndarray], source: str = "weights") -> None:
    """Raise one SpecError listing every missing, unexpected, misshapen or mistyped tensor."""
    expected = {k: (e.shape, str(e.dtype)) for k, e in canonical_entries(module).items()}
    check_tensors(expected, described(tensors), source)


def load_weights(module: nnx.Module, path: str | Path) -> None:
    """Load canonical weights from ``path`` into ``module`` (built, or abstract from
    ``nnx.eval_shape``): all of them, or none (a SpecError). The file's header is checked against
    the module before any tensor is read."""
    entries = canonical_entries(module)
    tensors = read_checked(path, {k: (e.shape, str(e.dtype)) for k, e in entries.items()}, "numpy")
    for name, entry in entries.items():
        entry.variable.set_value(jnp.asarray(entry.from_canonical(tensors[name])))


def to_canonical(entries: Mapping[str, Entry], values: Iterable[tuple[tuple[Any, ...], Any]]) -> dict[str, np.ndarray]:
    """Arrays keyed by NNX state path (gradients, new statistics) as canonical name → numpy array."""
    by_path = {entry.path: entry for entry in entries.values()}
    out: dict[str, np.ndarray] = {}
    for path, value in values:
        entry = by_path.get(tuple(path))
        if entry is not None:
            out[entry.name] = entry.to_canonical(value)
    return out
