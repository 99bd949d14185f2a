"""The onnx backend's API and command line: compile, weights, external data, run, capture."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx_support import ROOT, example_input, lively_weights

import archspec
from archspec import api
from archspec.backends import Backend, RunResult, get_backend

LENET = ROOT / "specs" / "lenet_bn.yaml"
GOOGLENET = ROOT / "specs" / "googlenet.yaml"


def archspec_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archspec", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_backend_is_registered_and_satisfies_the_protocol(onnx_backend):
    assert isinstance(onnx_backend, Backend)
    assert onnx_backend.name == "onnx"
    from archspec.ops import REGISTRY

    assert all(onnx_backend.supports(op) for op in REGISTRY.values())


def test_compile_without_weights_writes_seeded_ones_and_says_so(tmp_path):
    out = tmp_path / "lenet.onnx"
    result = archspec_cli("compile", str(LENET), "--backend", "onnx", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "seeded random weights (seed 0)" in result.stderr and "opset 17" in result.stderr
    onnx.checker.check_model(str(out), full_check=True)
    again = tmp_path / "again.onnx"
    archspec_cli("compile", str(LENET), "--backend", "onnx", "-o", str(again))
    assert out.read_bytes() == again.read_bytes()  # seeded: the same file every time


def test_compile_with_weights_opset_and_fold_bn(tmp_path, onnx_backend):
    report = api.shapes(GOOGLENET)
    from archspec_onnx import random_weights, save_weights

    weights = tmp_path / "w.safetensors"
    tensors = lively_weights(random_weights(report, seed=9))
    save_weights(tensors, weights)
    out = tmp_path / "g.onnx"
    args = ("compile", str(GOOGLENET), "-b", "onnx", "-o", str(out), "-w", str(weights))
    result = archspec_cli(*args, "--opset", "18")
    assert result.returncode == 0, result.stderr
    assert f"weights from {weights}" in result.stderr
    model = onnx.load(out)
    assert model.opset_import[0].version == 18
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert stored.keys() == tensors.keys()
    assert all(np.array_equal(stored[k], tensors[k]) for k in tensors)
    result = archspec_cli(*args, "--fold-bn", "--set", "classes=5")
    assert result.returncode == 1 and "wrong shape: head.1.weight" in result.stderr


def test_fold_bn_from_the_command_line_removes_batchnorms(tmp_path):
    out = tmp_path / "r.onnx"
    spec = str(ROOT / "specs" / "resnet18.yaml")
    result = archspec_cli("compile", spec, "-b", "onnx", "-o", str(out), "--fold-bn", "--input", "Nx3x64x64")
    assert result.returncode == 0, result.stderr
    assert "20 of 20 batchnorms folded" in result.stderr
    assert "BatchNormalization" not in {n.op_type for n in onnx.load(out).graph.node}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--opset", "9"), 1, "ONNX opset 9 is not supported"),
        (("--opset", "99"), 1, "an opset from 13 to"),
    ],
)
def test_bad_opsets_are_clear_errors(tmp_path, args, code, message):
    result = archspec_cli("compile", str(LENET), "-b", "onnx", "-o", str(tmp_path / "x.onnx"), *args)
    assert result.returncode == code
    assert message in result.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_onnx_options_on_a_source_backend_are_usage_errors(tmp_path):
    result = archspec_cli("compile", str(LENET), "-b", "torch", "-o", str(tmp_path / "x.py"), "--fold-bn")
    assert result.returncode == 2
    assert "the torch backend has no option 'fold_bn'; expected no options" in result.stderr
    assert not (tmp_path / "x.py").exists()


def test_options_and_their_shorthands_write_the_same_file(tmp_path):
    long, short = tmp_path / "long.onnx", tmp_path / "short.onnx"
    args = ("compile", str(LENET), "-b", "onnx")
    assert archspec_cli(*args, "-o", str(long), "-O", "opset=18", "--option", "fold_bn=true").returncode == 0
    assert archspec_cli(*args, "-o", str(short), "--opset", "18", "--fold-bn").returncode == 0
    assert long.read_bytes() == short.read_bytes()
    model = onnx.load(long)
    assert model.opset_import[0].version == 18
    assert [n.op_type for n in model.graph.node].count("BatchNormalization") == 2  # of 4: two follow no conv


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("-O", "opst=18"),
            "the onnx backend has no option 'opst'; expected one of fold_bn, opset, seed; did you mean",
        ),
        (("-O", "opset=seventeen"), "option 'opset' of the onnx backend: Input should be a valid integer"),
        (("-O", "fold_bn=maybe"), "expected fold_bn: bool = False (fold each batchnorm"),
        (("-O", "opset"), "expected NAME=VALUE, got 'opset'"),
        (("-O", "opset=17", "--opset", "18"), "--opset repeats -O opset=...: give one of them"),
        (("-O", "opset=17", "-O", "opset=18"), "opset is given twice (17 and 18)"),
    ],
)
def test_bad_options_are_usage_errors_that_say_what_the_backend_takes(tmp_path, options, message):
    result = archspec_cli("compile", str(LENET), "-b", "onnx", "-o", str(tmp_path / "x.onnx"), *options)
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "x.onnx").exists()


def test_the_built_model_is_called_like_a_torch_or_flax_one(onnx_backend):
    model = archspec.build(LENET, backend="onnx")
    x = example_input(api.shapes(LENET), batch=3)
    y = model(x)
    assert isinstance(y, np.ndarray) and y.shape == (3, 10) and y.dtype == np.float32
    np.testing.assert_array_equal(y, onnx_backend.run(model, x).output)
    assert isinstance(model.model, onnx.ModelProto)


def test_calling_the_model_on_what_it_cannot_take_is_a_spec_error():
    model = archspec.build(LENET, backend="onnx")
    with pytest.raises(archspec.SpecError, match="takes float32 input, not float64") as info:
        model(np.zeros((1, 1, 28, 28)))
    assert info.value.hint == "convert it: x.astype(np.float32)"
    with pytest.raises(archspec.SpecError, match=r"cannot take an input of shape \[1, 3, 28, 28\]") as info:
        model(np.zeros((1, 3, 28, 28), np.float32))
    assert info.value.expected == "[N, 1, 28, 28]"


def test_options_reach_build_and_emit_through_the_api():
    folded = archspec.build(GOOGLENET, backend="onnx", options={"opset": 18, "fold_bn": True})
    assert (folded.opset, folded.fold_bn) == (18, True)
    assert 'opset_import: ["" : 18' in archspec.emit(LENET, backend="onnx", options={"opset": 18}).source
    with pytest.raises(archspec.SpecError, match="the onnx backend has no option 'fold'") as info:
        archspec.build(LENET, backend="onnx", options={"fold": True})
    assert info.value.hint == "did you mean 'fold_bn'?"


def test_weights_round_trip_and_every_mismatch_at_once(tmp_path, onnx_backend):
    from safetensors.numpy import save_file

    report = api.shapes(LENET)
    model = onnx_backend.build(report.graph, report)
    path = tmp_path / "w.safetensors"
    onnx_backend.save_weights(model, path)
    again = onnx_backend.build(report.graph, report, path)
    x = example_input(report)
    assert np.array_equal(onnx_backend.run(model, x).output, onnx_backend.run(again, x).output)

    tensors = dict(model.weights)
    del tensors["0.bias"]
    tensors["extra.weight"] = np.zeros(2, np.float32)
    tensors["4.weight"] = np.zeros((3, 3), np.float32)
    tensors["15.bias"] = tensors["15.bias"].astype(np.float64)
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad))
    before = model.weights
    with pytest.raises(archspec.SpecError, match="4 problems, nothing loaded") as info:
        onnx_backend.load_weights(model, bad)
    notes = "\n".join(info.value.notes)
    assert "missing: 0.bias" in notes and "unexpected: extra.weight" in notes
    assert "wrong shape: 4.weight is (3, 3), expected (16, 6, 5, 5)" in notes
    assert "wrong dtype: 15.bias is float64, expected float32" in notes
    assert all(np.array_equal(before[k], v) for k, v in model.weights.items())


def test_new_weights_re_export_the_model(tmp_path, onnx_backend):
    report = api.shapes(LENET)
    model = onnx_backend.build(report.graph, report)
    first = onnx_backend.run(model, example_input(report)).output
    from archspec_onnx import random_weights, save_weights

    path = tmp_path / "w.safetensors"
    save_weights(random_weights(report, seed=5), path)
    onnx_backend.load_weights(model, path)
    assert not np.array_equal(first, onnx_backend.run(model, example_input(report)).output)


def test_external_data_for_models_past_the_limit(tmp_path, onnx_backend):
    import onnxruntime as ort

    report = api.shapes(GOOGLENET)
    model = onnx_backend.build(report.graph, report)
    path = tmp_path / "big.onnx"
    files = model.save(path, external_limit=1000)  # as if the 2 GB limit were 1 kB
    assert files == [path, tmp_path / "big.onnx.data"]
    assert path.stat().st_size < 100_000 < files[1].stat().st_size
    onnx.checker.check_model(str(path), full_check=True)
    loaded = onnx.load(path)
    assert {t.name for t in loaded.graph.initializer} == set(model.weights)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = example_input(report, batch=2)
    np.testing.assert_allclose(session.run(None, {"input": x})[0], onnx_backend.run(model, x).output, rtol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_sessions_of_models_past_the_limit_load_from_external_data(monkeypatch, onnx_backend):
    from archspec_onnx import OnnxModel

    report = api.shapes(LENET)
    model = onnx_backend.build(report.graph, report)
    x = example_input(report)
    want = onnx_backend.run(model, x).output
    big = onnx_backend.build(report.graph, report)
    monkeypatch.setattr(OnnxModel, "needs_external_data", lambda self, limit=0: True)
    np.testing.assert_allclose(onnx_backend.run(big, x, capture=["4"]).output, want, rtol=1e-5, atol=1e-7)


def test_run_is_eval_only(onnx_backend):
    report = api.shapes(LENET)
    model = onnx_backend.build(report.graph, report)
    x = example_input(report)
    with pytest.raises(archspec.SpecError, match=r"ONNX export is eval-only.*train mode"):
        onnx_backend.run(model, x, train=True)
    with pytest.raises(archspec.SpecError, match=r"onnxruntime computes no gradients"):
        onnx_backend.run(model, x, cotangent=np.ones((2, 10), np.float32))


def test_run_result_and_capture_match_torch(tmp_path, onnx_backend):
    pytest.importorskip("torch")
    report = api.shapes(GOOGLENET)
    model = onnx_backend.build(report.graph, report)
    weights = tmp_path / "w.safetensors"
    onnx_backend.save_weights(model, weights)
    reference = archspec.build(GOOGLENET, backend="torch", weights=weights)
    x = example_input(report, batch=2)
    stages = ["b1", "b3", "b5", "head"]
    got = onnx_backend.run(model, x, capture=stages)
    want = get_backend("torch").run(reference, x, capture=stages)
    assert isinstance(got, RunResult) and got.grads == {}
    for stage in stages:
        np.testing.assert_allclose(got.captured[stage], want.captured[stage], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.captured["head"], got.output)


def test_capture_errors_name_the_path(onnx_backend):
    report = api.shapes(ROOT / "specs" / "resnet18.yaml", None, ["N", 3, 32, 32])
    folded = onnx_backend.build(report.graph, report, options={"fold_bn": True})
    x = example_input(report)
    with pytest.raises(archspec.SpecError, match="cannot capture 'conv1': its convolution was folded"):
        onnx_backend.run(folded, x, capture=["conv1"])
    with pytest.raises(archspec.SpecError, match="cannot capture 'nowhere'"):
        onnx_backend.run(folded, x, capture=["nowhere"])
    assert onnx_backend.run(folded, x, capture=["bn1", "layer1"]).captured["layer1"].shape == (2, 64, 8, 8)


def test_emit_gives_the_readable_text_form(onnx_backend):
    report = api.shapes(LENET)
    emitted = onnx_backend.emit(report.graph, report)
    assert emitted.filename == "lenet_bn.onnx.txt"
    assert "BatchNormalization" in emitted.source and "0.weight" in emitted.source


def test_export_imports_neither_torch_nor_jax(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys

        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "jax", "jaxlib", "flax"):
                    raise ImportError("blocked: " + name)

        sys.meta_path.insert(0, Blocker())
        sys.argv = ["archspec", "compile", {str(GOOGLENET)!r}, "-b", "onnx", "-o", {str(tmp_path / "g.onnx")!r}]
        from archspec.cli.main import main
        try:
            main()
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.onnx").exists()
