"""What the onnx backend builds: an :class:`OnnxModel`, canonical weights plus export options.

The ``onnx.ModelProto`` is derived from them on demand (and cached), so loading new weights
re-exports, and the canonical weights survive ``fold_bn`` untouched. onnxruntime sessions are
created lazily, one per set of captured values.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.io import atomic_write_bytes
from archspec.ir import Graph
from archspec_onnx._export import Exported, export, value_info

#: Protocol buffers cannot serialise a message of 2 GiB or more; ONNX then stores the
#: initializers in a side file. Models within 64 MiB of the limit use it too (the graph
#: itself takes some room).
PROTOBUF_LIMIT = 2**31
EXTERNAL_DATA_MARGIN = 64 * 2**20


class OnnxModel:
    """A network for the onnx backend. ``model`` is the ONNX ``ModelProto``; ``weights`` the
    canonical tensors (name → float32 array); ``opset`` and ``fold_bn`` the export options."""

    def __init__(
        self, graph: Graph, report: ShapeReport, weights: dict[str, np.ndarray], *, opset: int, fold_bn: bool
    ) -> None:
        self.graph = graph
        self.report = report
        self.opset = opset
        self.fold_bn = fold_bn
        self._weights = weights
        self._exported: Exported | None = None
        self._sessions: dict[tuple[str, ...], tuple[Any, list[str]]] = {}
        self._tmp: Path | None = None  # where sessions of models past the protobuf limit load from
        self._export()  # now: an unsupported op or opset is a SpecError at build time

    # ---------------------------------------------------------------- weights
    @property
    def weights(self) -> dict[str, np.ndarray]:
        return dict(self._weights)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Replace the canonical weights (already checked); the model is re-exported on next use."""
        self._weights = dict(weights)
        self._exported = None
        self._sessions.clear()

    # ------------------------------------------------------------------ model
    def _export(self) -> Exported:
        if self._exported is None:
            self._exported = export(self.graph, self.report, self._weights, opset=self.opset, fold_bn=self.fold_bn)
        return self._exported

    @property
    def exported(self) -> Exported:
        """The ONNX model and how IR paths map onto its values (re-exported after new weights)."""
        return self._export()

    @property
    def model(self) -> onnx.ModelProto:
        return self.exported.model

    @property
    def weight_bytes(self) -> int:
        return sum(t.nbytes for t in self._weights.values())

    def needs_external_data(self, limit: int = PROTOBUF_LIMIT - EXTERNAL_DATA_MARGIN) -> bool:
        return self.weight_bytes >= limit

    def save(self, path: str | Path, *, external_limit: int = PROTOBUF_LIMIT - EXTERNAL_DATA_MARGIN) -> list[Path]:
        """Write the model to ``path`` atomically; returns the files written.

        Weights of ``external_limit`` bytes or more go to ``<name>.data`` beside it (ONNX
        external data, as ``onnx.load`` and onnxruntime read it), written first.
        """
        target = Path(path)
        if not self.needs_external_data(external_limit):
            atomic_write_bytes(target, self.model.SerializeToString())
            return [target]
        from onnx.external_data_helper import convert_model_to_external_data, write_external_data_tensors

        data_name = target.name + ".data"
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        convert_model_to_external_data(model, all_tensors_to_one_file=True, location=data_name, size_threshold=1024)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as tmp:
            write_external_data_tensors(model, tmp)  # moves the tensors' bytes out of the model
            os.replace(Path(tmp) / data_name, target.parent / data_name)
        atomic_write_bytes(target, model.SerializeToString())
        return [target, target.parent / data_name]

    # ---------------------------------------------------------------- running
    def __call__(self, *xs: Any, **named: Any) -> Any:
        """The model's output for its inputs, run by onnxruntime on the CPU, as a torch or flax
        build is called: positionally in the spec's order, or by name (``model(image=x,
        mask=m)``); each a numpy array or anything ``np.asarray`` reads, in the spec's layout
        (NCHW), float32 (int64 for an integer input). The output is a numpy array, or
        ``{name: array}`` where the spec names its outputs."""
        names = list(self.graph.inputs)
        if len(xs) > len(names) or len(xs) + len(named) != len(names) or set(named) - set(names[len(xs) :]):
            raise SpecError(
                f"the {self.graph.name} ONNX model takes {len(names)} input(s)",
                expected=", ".join(names),
                found=", ".join([*(f"#{i + 1}" for i in range(len(xs))), *named]) or "none",
            )
        values = [*xs, *(named[name] for name in names[len(xs) :])]
        feed = {name: self.checked_input(name, value) for name, value in zip(names, values, strict=True)}
        session, outputs = self.session()
        results = dict(zip(outputs, session.run(outputs[: len(self.graph.outputs)], feed), strict=False))
        return results if self.graph.named_outputs else results[outputs[0]]

    def checked_input(self, name: str, x: Any) -> np.ndarray:
        """Input ``name``'s value as onnxruntime takes it, or a SpecError saying what it takes."""
        array = np.asarray(x)
        declared = self.graph.inputs[name]
        called = "input" if len(self.graph.inputs) == 1 else f"input '{name}'"
        if array.dtype != np.dtype(declared.dtype):
            raise SpecError(
                f"the {self.graph.name} ONNX model takes {declared.dtype} {called}, not {array.dtype}",
                hint=f"convert it: x.astype(np.{declared.dtype})",
            )
        expected = declared.shape
        if array.ndim != len(expected) or any(
            isinstance(want, int) and want != got for want, got in zip(expected, array.shape, strict=False)
        ):
            raise SpecError(
                f"the {self.graph.name} ONNX model cannot take an {called} of shape {_shape(array.shape)}",
                expected=_shape(expected),
                found=_shape(array.shape),
            )
        return np.ascontiguousarray(array)

    def capture_values(self, capture: Sequence[str]) -> list[tuple[str, str]]:
        """``(path, ONNX value)`` for each requested node or scope path."""
        scopes = {s.path: s.output for s in self.graph.scopes}
        exported = self.exported
        pairs = []
        for path in capture:
            node = scopes.get(path, path)
            if node in exported.folded:
                raise SpecError(
                    f"cannot capture '{path}': its convolution was folded with the batchnorm "
                    f"'{exported.folded[node]}' (--fold-bn)",
                    hint="capture the batchnorm's path, or export without fold_bn",
                )
            value = exported.values.get(node)
            if value is None:
                raise SpecError(
                    f"cannot capture '{path}': the network has no node or block there",
                    hint="paths are those of `archspec shapes`",
                )
            pairs.append((path, value))
        return pairs

    def session(self, capture: Sequence[str] = (), providers: Sequence[str] = ("CPUExecutionProvider",)) -> Any:
        """An onnxruntime session for this model, with the captured values as extra outputs;
        returns ``(session, output names)``, the network's outputs first."""
        key = (*providers, "|", *capture)
        cached = self._sessions.get(key)
        if cached is not None:
            return cached
        import onnxruntime as ort

        model = self.model
        outputs = list(self.graph.outputs)
        extra = [v for _, v in self.capture_values(capture) if v not in outputs and v not in self.graph.inputs]
        if extra:
            model = onnx.ModelProto()
            model.CopyFrom(self.model)
            by_value = {v: k for k, v in self.exported.values.items()}
            for name in dict.fromkeys(extra):
                model.graph.output.append(value_info(name, self.report.info[by_value[name]].output))
                outputs.append(name)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            if self.needs_external_data():
                if self._tmp is None:
                    self._tmp = Path(tempfile.mkdtemp(prefix="archspec-onnx-"))
                    weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
                path = self._tmp / f"model{len(self._sessions)}.onnx"
                onnx.save_model(model, path, save_as_external_data=True, location=path.name + ".data")
                session = ort.InferenceSession(str(path), options, providers=list(providers))
            else:
                session = ort.InferenceSession(model.SerializeToString(), options, providers=list(providers))
        except Exception as exc:  # onnxruntime's own errors (an opset it does not implement, ...)
            raise SpecError(
                f"onnxruntime cannot load the {self.graph.name} model (opset {self.opset}): {exc}",
                hint=f"onnxruntime {ort.__version__} may not implement this opset; try the default opset",
            ) from None
        self._sessions[key] = (session, outputs)
        return self._sessions[key]

    def __repr__(self) -> str:
        fold = ", fold_bn" if self.fold_bn else ""
        return f"<OnnxModel {self.graph.name} opset {self.opset}{fold}, {len(self.model.graph.node)} nodes>"


def _shape(dims: Sequence[int | str]) -> str:
    return "[" + ", ".join(str(d) for d in dims) + "]"
