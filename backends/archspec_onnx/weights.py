"""Canonical weights as numpy arrays: the names and shapes a graph expects, seeded random ones,
and safetensors files (never pickle), checked all at once.

The names are the IR paths plus the parameter or buffer name (``b3.0.branch2.1.weight``,
``bn1.running_var``) in PyTorch layouts, exactly as every archspec backend reads and writes them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from archspec.infer import ShapeReport
from archspec.io import atomic_write
from archspec.ir import tensor_name
from archspec.ops.param import Param
from archspec.weights import check_tensors, described, read_checked, read_safetensors

#: The seed of the weights ``archspec compile --backend onnx`` writes when given none.
DEFAULT_SEED = 0


def expected_shapes(report: ShapeReport) -> dict[str, tuple[int, ...]]:
    """Every canonical tensor of the network by name, parameters then buffers per node."""
    shapes: dict[str, tuple[int, ...]] = {}
    for node in report.graph.nodes:
        info = report.info[node.name]
        for group in (info.params, info.buffers):
            for name, shape in group.items():
                shapes[tensor_name(node.name, name)] = tuple(int(d) for d in shape)
    return shapes


def random_weights(report: ShapeReport, seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """Seeded weights drawn like a fresh PyTorch module's: weights and biases uniform in
    ±1/√fan_in, norm scales 1 and shifts 0, running mean 0 and variance 1; a ``param`` step as
    its ``init`` says."""
    rng = np.random.default_rng(seed)
    tensors: dict[str, np.ndarray] = {}
    for node in report.graph.nodes:
        info = report.info[node.name]
        if isinstance(node.op, Param):
            tensors[node.name] = _fresh_param(node.op, rng)
            continue
        weight = info.params.get("weight")
        fan_in = math.prod(int(d) for d in weight[1:]) if weight is not None and len(weight) >= 2 else 0
        for name, shape in (*info.params.items(), *info.buffers.items()):
            dims = tuple(int(d) for d in shape)
            if fan_in and name in ("weight", "bias"):
                bound = np.float32(1.0 / math.sqrt(fan_in))
                value = rng.random(dims, dtype=np.float32) * (2 * bound) - bound  # float32 throughout: big nets
            elif name in ("weight", "running_var"):
                value = np.ones(dims, np.float32)
            else:
                value = np.zeros(dims, np.float32)
            tensors[tensor_name(node.name, name)] = value
    return tensors


def _fresh_param(op: Param, rng: np.random.Generator) -> np.ndarray:
    start = op.initial_value()
    if start is not None:
        return np.full(op.shape, start, np.float32)
    assert op.std is not None, "a param without a constant init is init=normal, with its std"
    return (rng.standard_normal(op.shape) * op.std).astype(np.float32)


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (never a pickle), or a SpecError saying why it cannot be read."""
    from safetensors.numpy import load_file

    return read_safetensors(path, load_file)


def check_weights(report: ShapeReport, tensors: dict[str, np.ndarray], source: str = "weights") -> None:
    """Raise one SpecError listing every missing, unexpected, misshapen or mistyped tensor."""
    expected = {k: (shape, "float32") for k, shape in expected_shapes(report).items()}
    check_tensors(expected, described(tensors), source)


def load_weights(report: ShapeReport, path: str | Path) -> dict[str, np.ndarray]:
    """The canonical tensors of ``path``, checked against the network (all of them, or a SpecError);
    the file's header is checked before any tensor is read."""
    expected = {k: (shape, "float32") for k, shape in expected_shapes(report).items()}
    return {k: np.ascontiguousarray(v) for k, v in read_checked(path, expected, "numpy").items()}


def save_weights(tensors: dict[str, np.ndarray], path: str | Path) -> None:
    """Write canonical tensors to ``path`` (safetensors, atomically)."""
    from safetensors.numpy import save_file

    contiguous = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    atomic_write(path, lambda tmp: save_file(contiguous, str(tmp), metadata={"format": "pt", "writer": "archspec"}))
