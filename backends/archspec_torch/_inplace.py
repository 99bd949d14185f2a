"""Which nodes may overwrite their input, as ``nn.ReLU(inplace=True)`` does in hand-written PyTorch.

An in-place activation writes its result into its input tensor and so saves allocating, and
writing, a second tensor of the same size: on CPU that is most of the gap between ResNet-18
with ``nn.ReLU()`` and torchvision's ``nn.ReLU(inplace=True)`` at batch 32 (about 9%). It is
safe exactly when

* the input is the output of one op node and nothing else reads it: no other branch, not the
  network's output (graph input, block inputs shared by branches: never), and
* that op returns a fresh tensor whose values its own backward pass does not read: convolution,
  linear, the norms, pooling, and ``add``, ``mul`` and ``concat`` of two or more branches (of one,
  the merge is that branch's value itself, which may be the network's input). Not ``identity``, ``dropout`` or
  ``flatten`` (they may return their input itself, or a view of it), not activations or
  ``softmax`` (their backward reads their output), not ``lrn`` (composite; left alone).

The analysis is on the IR, so it holds across generated class boundaries. Forward hooks on the
producing module see a tensor that is overwritten afterwards, as with torchvision's models;
:meth:`TorchBackend.run` copies what it captures.
"""

from __future__ import annotations

from collections import Counter

from archspec.ir import Graph
from archspec.ops.conv import Conv, Conv1d
from archspec.ops.linear import Linear
from archspec.ops.merge import Add, Concat, Mul
from archspec.ops.norm import BatchNorm, LayerNorm
from archspec.ops.pool import AdaptiveAvgPool, AvgPool, AvgPool1d, GlobalAvgPool, GlobalMaxPool, MaxPool, MaxPool1d

#: Ops whose output is a new tensor that their backward pass never reads.
FRESH_OUTPUT = (
    Conv, Conv1d, Linear, BatchNorm, LayerNorm, MaxPool, MaxPool1d, AvgPool, AvgPool1d,
    GlobalAvgPool, GlobalMaxPool, AdaptiveAvgPool, Add, Concat, Mul,
)  # fmt: skip


def overwritable_inputs(graph: Graph) -> frozenset[str]:
    """Names of the one-input nodes of ``graph`` that may overwrite their input tensor."""
    readers = Counter(name for node in graph.nodes for name in node.inputs)
    readers.update(graph.outputs.values())  # the caller reads the network's outputs
    producers = {node.name: node for node in graph.nodes}

    def fresh(name: str) -> bool:
        producer = producers.get(name)
        if producer is None or not isinstance(producer.op, FRESH_OUTPUT):
            return False
        return type(producer.op).arity is not None or len(producer.inputs) > 1

    return frozenset(
        node.name
        for node in graph.nodes
        if len(node.inputs) == 1 and readers[node.inputs[0]] == 1 and fresh(node.inputs[0])
    )
