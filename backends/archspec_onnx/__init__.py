"""archspec's ONNX backend: specs straight to ``onnx.ModelProto``s, run by onnxruntime.

Registered under the entry-point group ``archspec.backends`` as ``onnx``. Export needs
only the ``onnx`` package (no torch, no jax); running needs ``onnxruntime``::

    archspec compile specs/resnet18.yaml --backend onnx -o resnet18.onnx --weights w.safetensors

    from archspec_onnx import backend
    model = backend.build(graph, report, "w.safetensors", {"opset": 17, "fold_bn": True})
    model(x)             # onnxruntime on an NCHW float32 array: the output array
    model.model          # the onnx.ModelProto
    model.save("resnet18.onnx")

The default opset is 17 (:data:`DEFAULT_OPSET`). Runtimes and converters trail the newest
opsets: onnx2torch handles these ops only up to opset 18, TensorRT 8.6 and the TorchScript
``torch.onnx`` exporter stop at 17, and opset 18 changed how Reduce*, Pad and Split take
their axes, which many older readers do not follow. 17 is the newest opset all of them
read, and the first with ``LayerNormalization``, so ``layernorm`` stays one node. Any opset
from 13 (Softmax over one axis, Clip with inputs) to the newest the installed onnx knows
can be chosen with ``options={"opset": N}`` / ``-O opset=N``; an op that needs a newer one (``layernorm``
below 17) is a SpecError naming the opset it needs, and ``gelu`` uses ONNX's ``Gelu`` from
opset 20 and the erf (or tanh) formula below it. The model's IR version is the oldest that
carries the opset (8 for 17), again so that older runtimes load it.
"""

from archspec_onnx._backend import OnnxBackend, OnnxOptions
from archspec_onnx._export import Exported, export, fold_plan
from archspec_onnx._lowering import DEFAULT_OPSET, MIN_OPSET
from archspec_onnx._model import OnnxModel
from archspec_onnx.weights import check_weights, load_weights, random_weights, read_weights, save_weights

backend = OnnxBackend()

__all__ = [
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "Exported",
    "OnnxBackend",
    "OnnxModel",
    "OnnxOptions",
    "backend",
    "check_weights",
    "export",
    "fold_plan",
    "load_weights",
    "random_weights",
    "read_weights",
    "save_weights",
]
