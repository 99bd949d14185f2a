"""The Python API: from a spec (file or mapping) to the graph IR and its shapes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archspec.infer import ShapeReport, infer_shapes
from archspec.ir import Graph
from archspec.spec.expand import Program, lower
from archspec.spec.interface import InputShapes
from archspec.spec.program import load_program, program_from_data

SpecSource = str | Path | Mapping[str, Any] | Program


def load(source: SpecSource) -> Program:
    """Load and validate a spec from a path, an in-memory mapping, or pass a Program through."""
    if isinstance(source, Program):
        return source
    if isinstance(source, Mapping):
        return program_from_data(dict(source))
    return load_program(source)


def to_graph(
    source: SpecSource, params: Mapping[str, Any] | None = None, input_shape: InputShapes | None = None
) -> Graph:
    """Expand a spec into the graph IR, with network ``params`` overridden (like ``--set``)."""
    return lower(load(source), params, input_shape)


def shapes(
    source: SpecSource | Graph,
    params: Mapping[str, Any] | None = None,
    input_shape: InputShapes | None = None,
    *,
    max_params: int | None = None,
    max_activation: int | None = None,
) -> ShapeReport:
    """Infer every shape of a spec (or of an already lowered graph); ``max_params`` and
    ``max_activation`` raise (or lower) the bounds on absurd networks (None: the defaults)."""
    graph = source if isinstance(source, Graph) else to_graph(source, params, input_shape)
    return infer_shapes(graph, max_params=max_params, max_activation=max_activation)
