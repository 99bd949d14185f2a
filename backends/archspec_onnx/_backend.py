"""The onnx backend object: build an :class:`OnnxModel`, write ``.onnx`` files, run onnxruntime.

Export needs only ``onnx``; onnxruntime loads when a model is first run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from pydantic import Field

from archspec.backends import Artifact, BackendOptions, EmittedSource, OptionsArg, RunResult, by_name
from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.ir import GRAPH_INPUT, Graph
from archspec.ops import Op
from archspec.ops.norm import BatchNorm
from archspec_onnx import _export
from archspec_onnx import weights as _weights
from archspec_onnx._lowering import DEFAULT_OPSET, LOWERINGS, MIN_OPSET
from archspec_onnx._model import OnnxModel

_EVAL_ONLY = "ONNX export is eval-only: the exported graph has batchnorm with running statistics and no dropout"


def _module(module: Any) -> OnnxModel:
    if not isinstance(module, OnnxModel):
        raise SpecError(f"the onnx backend expects a model from its build(), got {type(module).__name__}")
    return module


class OnnxOptions(BackendOptions):
    """What the onnx backend takes besides the graph and weights (``-O NAME=VALUE``, ``options={...}``)."""

    opset: int = Field(
        DEFAULT_OPSET, description=f"the ONNX opset, from {MIN_OPSET} to the newest the installed onnx knows"
    )
    fold_bn: bool = Field(False, description="fold each batchnorm into the convolution before it")
    seed: int = Field(
        _weights.DEFAULT_SEED, description="the seed of the random weights used when no weights file is given"
    )


class OnnxBackend:
    """ONNX models straight from the IR; see :class:`archspec.backends.Backend`.

    ``build`` returns an :class:`OnnxModel`: call it on an NCHW numpy array to run onnxruntime;
    its ``.model`` is the ``onnx.ModelProto``. :meth:`export` writes the ``.onnx`` file
    ``archspec compile --backend onnx`` makes.
    """

    name = "onnx"
    Options = OnnxOptions
    artifact = Artifact("an ONNX model (binary)", ".onnx")

    def build(
        self, graph: Graph, report: ShapeReport, weights: str | Path | None = None, options: OptionsArg = None
    ) -> OnnxModel:
        """The exported network, with canonical ``weights`` from a file, else seeded random ones."""
        resolved = self.Options.resolve(self.name, options)
        tensors = (
            _weights.random_weights(report, resolved.seed)
            if weights is None
            else _weights.load_weights(report, weights)
        )
        return OnnxModel(graph, report, tensors, opset=resolved.opset, fold_bn=resolved.fold_bn)

    def emit(self, graph: Graph, report: ShapeReport, options: OptionsArg = None) -> EmittedSource:
        """The model in ONNX's readable text form, initializers declared as typed inputs without
        their data (the artefact itself is the binary ``.onnx`` file: see :meth:`export`)."""
        model = onnx.ModelProto()
        model.CopyFrom(self.build(graph, report, options=options).model)
        for tensor in model.graph.initializer:
            model.graph.input.append(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims))
        del model.graph.initializer[:]
        text = onnx.printer.to_text(model)
        return EmittedSource(text, f"{graph.name}.onnx.txt", graph.name, imports=("onnx",))

    def export(
        self,
        graph: Graph,
        report: ShapeReport,
        output: str | Path,
        weights: str | Path | None = None,
        options: OptionsArg = None,
    ) -> str:
        """Write ``output`` (``.onnx``, plus ``.onnx.data`` beyond 2 GB); returns what was written, for people."""
        resolved = self.Options.resolve(self.name, options)
        model = self.build(graph, report, weights, resolved)
        files = model.save(output)
        folded = ""
        if resolved.fold_bn:
            total = sum(isinstance(node.op, BatchNorm) for node in graph.nodes)
            folded = f", {len(model.exported.folded)} of {total} batchnorms folded into the convolutions before them"
        origin = (
            f"weights from {weights}"
            if weights is not None
            else f"seeded random weights (seed {resolved.seed}); pass --weights W.safetensors for trained ones"
        )
        written = " + ".join(str(f) for f in files)
        return f"wrote {written} (opset {model.opset}, {report.total_params:,} params{folded}) with {origin}"

    def check(self, graph: Graph, report: ShapeReport) -> None:
        """Every lowering rule, at the default opset, with no weights allocated (see
        :func:`archspec_onnx._export.check`)."""
        _export.check(graph, report)

    def load_weights(self, module: Any, path: str | Path) -> None:
        model = _module(module)
        model.set_weights(_weights.load_weights(model.report, path))

    def save_weights(self, module: Any, path: str | Path) -> None:
        _weights.save_weights(_module(module).weights, path)

    def supports(self, op: type[Op]) -> bool:
        return op in LOWERINGS

    def run(
        self,
        module: Any,
        inputs: Any,
        *,
        train: bool = False,
        capture: Sequence[str] = (),
        cotangent: Any = None,
        device: str = "cpu",
    ) -> RunResult:
        """One eval-mode forward pass through onnxruntime; see :meth:`archspec.backends.Backend.run`.

        ``capture`` takes node or scope paths (a stage like ``b3``); their values become extra
        outputs of the session's copy of the model. Train mode and gradients are SpecErrors.
        """
        model = _module(module)
        arrays = {name: np.asarray(value) for name, value in by_name(inputs, GRAPH_INPUT).items()}
        wide = [str(a.dtype) for a in arrays.values() if np.issubdtype(a.dtype, np.floating) and a.dtype != np.float32]
        if wide:
            raise SpecError(f"the onnx model is float32; it cannot run a {wide[0]} pass", hint="use --dtype float32")
        if train:
            raise SpecError(f"{_EVAL_ONLY}; it cannot run in train mode", hint="compare onnx in eval mode only")
        if cotangent is not None:
            raise SpecError("onnxruntime computes no gradients", hint="compare gradients on torch and flax")
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            import onnxruntime as ort

            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise SpecError(
                    "onnxruntime here has no CUDA execution provider",
                    hint="install onnxruntime-gpu, or run the onnx backend on cpu",
                )
            providers.insert(0, "CUDAExecutionProvider")
        elif device != "cpu":
            raise SpecError(f"the onnx backend runs on cpu or cuda, not '{device}'")
        session, outputs = model.session(capture, providers)
        feed = {name: model.checked_input(name, array) for name, array in arrays.items()}
        results = dict(zip(outputs, session.run(outputs, feed), strict=True))
        captured = {}
        for path, value in model.capture_values(capture):
            captured[path] = feed[value].copy() if value in feed else results[value]
        state = {k: v.copy() for k, v in model.weights.items() if k.endswith((".running_mean", ".running_var"))}
        return RunResult({name: results[name] for name in model.graph.outputs}, captured, state, {})

    def __repr__(self) -> str:
        return "<archspec backend 'onnx'>"
