"""The exporter: a shape-checked graph and its canonical weights → an ``onnx.ModelProto``.

It walks the IR in order and lets each node's lowering add ONNX nodes (see
:mod:`archspec_onnx._lowering`). The result is the eval-mode graph:

* the inputs and outputs are named as the network's: ``input`` and ``output`` where the spec
  names none, else their names in the spec (``image``, ``mask``; ``out``, ``aux``), in its
  order; every other value is named by the path of the IR node that computes it (with a ``_``
  added where that is an output's name), nodes by the same paths, initializers exactly by
  the canonical weight names; symbolic dims (the batch ``N``) stay symbolic; an integer input
  (token ids) is int64;
* dropout and identity are removed; batchnorm uses its running statistics;
* with ``fold_bn``, a batchnorm that directly follows a convolution whose output nothing else
  reads is folded into that convolution (scaled weight, shifted bias) and disappears;
* the opset is written with the oldest IR version that allows it, for the widest readership,
  and the metadata records the spec's name, archspec's version and the opset.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper, numpy_helper

from archspec._version import __version__
from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.ir import Graph, TensorType, tensor_name
from archspec.ops.conv import Conv, Conv1d
from archspec.ops.norm import BatchNorm
from archspec_onnx import ops as _ops  # registers the lowerings
from archspec_onnx._lowering import DEFAULT_OPSET, LOWERINGS, MIN_OPSET, LoweringContext, max_opset

del _ops


@dataclass(frozen=True)
class Exported:
    """An exported model and how IR paths map onto its values.

    ``values`` maps each IR node path to the ONNX value holding its output (dropout maps to
    its input's value, an output node to the output's name); ``folded`` maps each convolution
    that absorbed a batchnorm to that batchnorm's path (the convolution's own output is gone).
    """

    model: onnx.ModelProto
    values: dict[str, str]
    folded: dict[str, str] = field(default_factory=dict)


def check_opset(opset: int) -> None:
    """A SpecError unless archspec can write ``opset`` with the installed onnx."""
    newest = max_opset()
    if not MIN_OPSET <= opset <= newest:
        raise SpecError(
            f"ONNX opset {opset} is not supported",
            expected=f"an opset from {MIN_OPSET} to {newest} (the newest the installed onnx knows)",
            found=str(opset),
            hint=f"the default, {DEFAULT_OPSET}, is read by most runtimes and converters",
        )


def fold_plan(graph: Graph) -> dict[str, str]:
    """``{conv path: batchnorm path}`` for every batchnorm that can be folded into its convolution."""
    readers = Counter(name for node in graph.nodes for name in node.inputs)
    outputs = set(graph.outputs.values())
    plan = {}
    for node in graph.nodes:
        if not isinstance(node.op, BatchNorm) or node.inputs[0] in graph.inputs:
            continue
        source = graph.node(node.inputs[0])
        if isinstance(source.op, Conv | Conv1d) and readers[source.name] == 1 and source.name not in outputs:
            plan[source.name] = node.name
    return plan


def fold_weights(graph: Graph, weights: dict[str, np.ndarray], plan: dict[str, str]) -> dict[str, np.ndarray]:
    """The weights with each planned batchnorm folded into its convolution (computed in float64)."""
    folded = dict(weights)
    batchnorms = {node.name: node.op for node in graph.nodes if isinstance(node.op, BatchNorm)}
    for conv, bn in plan.items():
        op = batchnorms[bn]
        mean = folded.pop(f"{bn}.running_mean").astype(np.float64)
        var = folded.pop(f"{bn}.running_var").astype(np.float64)
        gamma = folded.pop(f"{bn}.weight").astype(np.float64) if op.affine else np.ones_like(mean)
        beta = folded.pop(f"{bn}.bias").astype(np.float64) if op.affine else np.zeros_like(mean)
        scale = gamma / np.sqrt(var + op.eps)
        weight = folded[f"{conv}.weight"].astype(np.float64)
        bias = folded.get(f"{conv}.bias", np.zeros_like(mean)).astype(np.float64)
        folded[f"{conv}.weight"] = (weight * scale.reshape(-1, *[1] * (weight.ndim - 1))).astype(np.float32)
        folded[f"{conv}.bias"] = ((bias - mean) * scale + beta).astype(np.float32)
    return folded


def value_info(name: str, t: TensorType) -> onnx.ValueInfoProto:
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
    return helper.make_tensor_value_info(name, elem, list(t.shape))


def export(
    graph: Graph,
    report: ShapeReport,
    weights: dict[str, np.ndarray],
    *,
    opset: int = DEFAULT_OPSET,
    fold_bn: bool = False,
) -> Exported:
    """``graph`` as an ONNX model with ``weights`` (canonical names) as its initializers."""
    check_opset(opset)
    plan = fold_plan(graph) if fold_bn else {}
    effective = fold_weights(graph, weights, plan) if plan else weights
    declared: dict[str, TensorType] = {}
    nodes, values, used = _lower(graph, report, effective, opset, plan, declared)
    initializers = [numpy_helper.from_array(array, name) for name, array in used.items()]
    onnx_graph = helper.make_graph(
        nodes,
        graph.name,
        [value_info(name, t) for name, t in graph.inputs.items()],
        [value_info(name, t) for name, t in report.outputs.items()],
        initializer=initializers,
        value_info=[value_info(name, t) for name, t in declared.items() if name not in report.outputs],
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        onnx_graph,
        opset_imports=opsets,
        producer_name="archspec",
        producer_version=__version__,
        doc_string=graph.doc,
    )
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(
        model,
        {
            "archspec.spec": graph.name,
            "archspec.version": __version__,
            "archspec.opset": str(opset),
            "archspec.fold_bn": "true" if plan else "false",
            "archspec.params": json.dumps(dict(graph.params), sort_keys=True, default=str),
        },
    )
    return Exported(model, {k: v for k, v in values.items() if k not in graph.inputs}, plan)


def check(graph: Graph, report: ShapeReport, *, opset: int = DEFAULT_OPSET) -> None:
    """Raise the SpecError :func:`export` would for ``graph`` (an op without a lowering, one that
    needs a newer opset), running every lowering rule but allocating no weights: each is a
    read-only view of one zero, so a network of any size is checked in its graph's time."""
    check_opset(opset)
    zero = np.zeros((), np.float32)
    weights = {
        tensor_name(node.name, name): np.broadcast_to(zero, tuple(int(d) for d in shape))
        for node in graph.nodes
        for name, shape in (*report.info[node.name].params.items(), *report.info[node.name].buffers.items())
    }
    _lower(graph, report, weights, opset, {}, {})


def _lower(
    graph: Graph,
    report: ShapeReport,
    weights: dict[str, np.ndarray],
    opset: int,
    plan: dict[str, str],
    declared: dict[str, TensorType],
) -> tuple[list[onnx.NodeProto], dict[str, str], dict[str, np.ndarray]]:
    """Every node's lowering, in order: the ONNX nodes, each IR path's value (an output's is its
    name) and the weights the nodes read, by canonical name; ``declared`` gathers the values whose
    shapes the lowerings write into the model."""
    absorbed = {bn: conv for conv, bn in plan.items()}
    output_of = {node: name for name, node in graph.outputs.items()}
    taken = {*graph.inputs, *graph.outputs}  # the graph's own value names: no node's value takes one
    values: dict[str, str] = {name: name for name in graph.inputs}
    types: dict[str, TensorType] = dict(graph.inputs)
    types.update((name, info.output) for name, info in report.info.items())
    nodes: list[onnx.NodeProto] = []
    used: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        if node.name in absorbed:
            values[node.name] = values.pop(absorbed[node.name])
            continue
        produces = plan.get(node.name, node.name)  # a folding conv computes its batchnorm's value
        out = output_of.get(produces) or _untaken(produces, taken)
        ctx = LoweringContext(
            node,
            tuple(types[i] for i in node.inputs),
            types[node.name],
            tuple(values[i] for i in node.inputs),
            out,
            opset,
            weights,
            nodes,
            used,
            declared,
        )
        alias = LOWERINGS.lower(node, ctx)
        values[node.name] = alias if alias is not None else out
    for name, node_name in graph.outputs.items():
        if values[node_name] != name:  # an output is a removed op's (dropout): name its value
            nodes.append(helper.make_node("Identity", [values[node_name]], [name], name=name))
        values[node_name] = name
    return nodes, values, used


def _untaken(name: str, taken: set[str]) -> str:
    """``name``, or with ``_`` added until it is none of ``taken`` (a stage named ``output``
    that is not the network's output)."""
    while name in taken:
        name += "_"
    return name
