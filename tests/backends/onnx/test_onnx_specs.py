"""Every spec in specs/ exports to a valid ONNX model that agrees with onnx's shape inference,
with archspec's shapes, and with torch on the same canonical weights."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx_support import example_input

import archspec
from archspec.backends import get_backend
from archspec.errors import SpecError

TOLERANCE = 1e-4


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value.type.tensor_type.shape.dim]


def _close(a: np.ndarray, b: np.ndarray) -> float:
    """Max abs difference, relative to the size of the values (1 at most)."""
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def test_full_check_passes(case):
    onnx.checker.check_model(case.onnx().model, full_check=True)


def test_every_value_has_archspecs_shape_under_strict_inference(case):
    model = case.onnx().model
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    shapes = {v.name: _dims(v) for v in (*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input)}
    shapes.update((i.name, list(i.dims)) for i in model.graph.initializer)  # a param step's value is its weight
    for path, value in case.onnx().exported.values.items():
        assert value in shapes, f"no inferred shape for {path} ({value})"
        assert shapes[value] == list(case.report.info[path].output.shape), path
    assert _dims(inferred.graph.input[0])[0] == "N" and _dims(inferred.graph.output[0])[0] == "N"


def test_names_metadata_and_doc(case):
    model = case.onnx().model
    assert {t.name for t in model.graph.initializer} == set(case.onnx().weights)
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == list(case.report.outputs)  # "output", or named ones
    node_names = [n.name for n in model.graph.node]
    assert len(node_names) == len(set(node_names))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["archspec.spec"] == case.report.graph.name
    assert props["archspec.version"] == archspec.__version__
    assert props["archspec.opset"] == "17"
    assert model.doc_string == case.report.graph.doc
    assert model.ir_version == 8  # the oldest IR version that carries opset 17
    assert not any(n.op_type == "Dropout" for n in model.graph.node)


def test_onnxruntime_matches_torch_on_the_same_weights(case):
    torch_backend, onnx_backend = get_backend("torch"), get_backend("onnx")
    x = example_input(case.report, batch=2)
    want = torch_backend.run(case.torch(), x).output
    got = onnx_backend.run(case.onnx(), x).output
    assert got.shape == want.shape
    assert _close(got, want) < TOLERANCE


def test_one_file_runs_batches_1_3_and_17(case, tmp_path):
    import onnxruntime as ort

    path = tmp_path / "model.onnx"
    case.onnx().save(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    full = example_input(case.report, batch=17, seed=4)
    outputs = {n: session.run(None, {"input": full[:n]})[0] for n in (1, 3, 17)}
    for n, out in outputs.items():
        assert out.shape[0] == n
        assert _close(out, outputs[17][:n]) < 1e-5  # each sample's result is independent of the batch


def test_fold_bn_agrees_and_leaves_no_foldable_batchnorm(case):
    onnx_backend = get_backend("onnx")
    plain, folded = case.onnx(), case.onnx(fold_bn=True)
    x = example_input(case.report, batch=3)
    assert _close(onnx_backend.run(folded, x).output, onnx_backend.run(plain, x).output) < TOLERANCE
    kinds = {n.name: n.op_type for n in folded.model.graph.node}
    for conv, bn in folded.exported.folded.items():
        assert kinds[conv] == "Conv" and bn not in kinds
    conv_bn = [n for n in case.report.graph.nodes if n.op_name == "batchnorm" and n.inputs[0] in folded.exported.folded]
    assert len(conv_bn) == len(folded.exported.folded)
    if case.name in ("resnet18", "resnet50", "mobilenet_v2", "inception_small"):  # every batchnorm follows a conv
        assert "BatchNormalization" not in kinds.values()
    onnx.checker.check_model(folded.model, full_check=True)


def test_round_trip_through_load_and_save_stays_valid(case, tmp_path):
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    case.onnx().save(first)
    loaded = onnx.load(first)
    onnx.save(loaded, second)
    again = onnx.load(second)
    onnx.checker.check_model(again, full_check=True)
    assert again.SerializeToString() == case.onnx().model.SerializeToString()


#: Specs whose ops need a newer opset than the oldest archspec writes, and why.
NEWER_OPSET = {
    "convnext_tiny": (17, "LayerNormalization"),
    "gpt2": (17, "LayerNormalization"),
    "vit_b_16": (17, "LayerNormalization"),
    "swin_t": (17, "LayerNormalization"),
}


@pytest.mark.parametrize("opset", [13, 18, 20])
def test_other_opsets_pass_the_checker_and_run(case, opset):
    needed, why = NEWER_OPSET.get(case.name, (0, ""))
    if opset < needed:
        with pytest.raises(SpecError, match=rf"needs ONNX opset {needed} or later \({why}\)"):
            case.onnx(opset=opset)
        return
    model = case.onnx(opset=opset)
    onnx.checker.check_model(model.model, full_check=True)
    assert model.model.opset_import[0].version == opset
    x = example_input(case.report, batch=1)
    onnx_backend = get_backend("onnx")
    assert _close(onnx_backend.run(model, x).output, onnx_backend.run(case.onnx(), x).output) < TOLERANCE
