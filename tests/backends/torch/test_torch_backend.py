"""The torch backend object: the contract it declares, its options, and what compile writes."""

from __future__ import annotations

import pytest
from torch_support import ROOT

import archspec
from archspec import api
from archspec.backends import Backend, BackendOptions, get_backend

torch = pytest.importorskip("torch")

LENET = ROOT / "specs" / "lenet_bn.yaml"


def test_the_backend_satisfies_the_protocol_and_declares_no_options():
    backend = get_backend("torch")
    assert isinstance(backend, Backend)
    assert backend.Options is BackendOptions and not backend.Options.model_fields
    assert backend.artifact.suffix == ".py"


def test_an_option_is_refused_with_what_the_backend_takes():
    with pytest.raises(archspec.SpecError, match="the torch backend has no option 'opset'") as info:
        archspec.build(LENET, options={"opset": 17})
    assert info.value.expected == "no options"
    with pytest.raises(archspec.SpecError, match="given another backend's options \\(OnnxOptions\\)"):
        pytest.importorskip("archspec_onnx")
        from archspec_onnx import OnnxOptions

        archspec.build(LENET, options=OnnxOptions())


def test_the_written_out_reserved_names_cover_the_installed_nn_module():
    from archspec_torch._reserved import NN_MODULE_ATTRIBUTES
    from torch import nn

    missing = sorted(set(dir(nn.Module)) - NN_MODULE_ATTRIBUTES)
    assert not missing, f"add to archspec_torch/_reserved.py: {missing}"


def test_export_writes_the_emitted_source_and_with_weights_a_loader(tmp_path):
    backend = get_backend("torch")
    report = api.shapes(LENET)
    out = tmp_path / "lenet.py"
    assert backend.export(report.graph, report, out) == f"wrote {out} (LenetBn, {report.total_params:,} params)"
    assert out.read_text() == archspec.emit(LENET).source
    weights = tmp_path / "w.safetensors"
    backend.save_weights(archspec.build(LENET), weights)
    message = backend.export(report.graph, report, out, weights)
    assert message.endswith(f"; load_weights(LenetBn()) reads {weights})")
    assert "def load_weights(model: nn.Module" in out.read_text()


def test_export_checks_the_weights_before_writing(tmp_path):
    backend = get_backend("torch")
    weights = tmp_path / "w.safetensors"
    backend.save_weights(archspec.build(LENET, classes=5), weights)
    report = api.shapes(LENET)
    out = tmp_path / "lenet.py"
    with pytest.raises(archspec.SpecError, match="wrong shape"):
        backend.export(report.graph, report, out, weights)
    assert not out.exists()


def test_build_runs_the_source_emit_returns():
    import inspect

    model = archspec.build(LENET)
    assert inspect.getsource(type(model)) in archspec.emit(LENET).source
