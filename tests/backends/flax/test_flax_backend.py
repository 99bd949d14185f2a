"""The Flax backend alone: emitted source, build = emit, node shapes, canonical weights."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from archspec.api import to_graph
from archspec.errors import SpecError
from archspec.infer import infer_shapes
from archspec.ir import TensorType
from archspec.parity import draw_weights

archspec_flax = pytest.importorskip("archspec_flax")
backend = archspec_flax.backend


def _report(spec_case):
    spec_path, shape, params = spec_case
    return infer_shapes(to_graph(spec_path, params or None, shape))


def test_emitted_source_imports_only_jax_and_flax(spec_case):
    emitted = backend.emit(*(lambda r: (r.graph, r))(_report(spec_case)))
    tree = ast.parse(emitted.source)
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots <= {"jax", "flax"}, roots
    assert f"class {emitted.entry}(" in emitted.source


def test_build_runs_the_emitted_source():
    report = infer_shapes(to_graph("specs/inception_small.yaml"))
    emitted = backend.emit(report.graph, report)
    model = backend.build(report.graph, report)
    assert inspect.getsource(type(model)) in emitted.source
    assert "padding=" in emitted.source  # nnx.Conv pads 'SAME' by default: always explicit


@pytest.mark.parametrize("spec", ["specs/lenet_bn.yaml", "specs/inception_small.yaml", "specs/resnet18.yaml"])
def test_every_node_shape_matches_the_shape_pass(spec, tmp_path):
    graph = to_graph(spec, None, ["N", 3, 32, 32] if "resnet" in spec else None)
    report = infer_shapes(graph)
    model = backend.build(graph, report)
    layers = [n.name for n in graph.nodes if type(n.op).arity is not None]
    x = np.zeros([2 if isinstance(d, str) else d for d in graph.input.shape], np.float32)
    result = backend.run(model, x, capture=layers)
    for name in layers:
        want = tuple(2 if isinstance(d, str) else d for d in report.info[name].output.shape)
        assert result.captured[name].shape == want, name  # captured values are NCHW again
    assert result.output.shape == tuple(2 if isinstance(d, str) else d for d in report.output.shape)
    assert isinstance(report.output, TensorType)


def test_a_layer_and_layers_inside_it_are_captured_in_any_order():
    graph = to_graph("specs/resnet18.yaml", None, ["N", 3, 32, 32])
    report = infer_shapes(graph)
    model = backend.build(graph, report)
    x = np.ones((2, 3, 32, 32), np.float32)
    outer, inner = "layer1.0", "layer1.0.bn1"  # wrapping the outer one first hid the inner one
    captured = backend.run(model, x, capture=[outer, inner]).captured
    alone = backend.run(model, x, capture=[inner]).captured
    assert set(captured) == {outer, inner}
    np.testing.assert_array_equal(captured[inner], alone[inner])


def test_weights_round_trip_in_canonical_layouts(tmp_path):
    from safetensors.numpy import load_file, save_file

    report = infer_shapes(to_graph("specs/lenet_bn.yaml"))
    weights = draw_weights(report, seed=3)
    path = tmp_path / "w.safetensors"
    save_file(weights, str(path))
    model = backend.build(report.graph, report, path)
    out = tmp_path / "out.safetensors"
    backend.save_weights(model, out)
    saved = load_file(str(out))
    assert saved.keys() == weights.keys()
    for name, value in weights.items():
        np.testing.assert_array_equal(saved[name], value, err_msg=name)
    assert saved["0.weight"].shape == (6, 1, 5, 5)  # OIHW, as PyTorch


def test_weight_mismatches_are_all_reported_and_nothing_is_loaded(tmp_path):
    from safetensors.numpy import save_file

    report = infer_shapes(to_graph("specs/lenet_bn.yaml"))
    weights = draw_weights(report)
    weights["0.weight"] = weights["0.weight"][:3]
    del weights["1.running_var"]
    weights["extra"] = np.zeros(2, np.float32)
    path = tmp_path / "bad.safetensors"
    save_file(weights, str(path))
    model = backend.build(report.graph, report)
    before = archspec_flax.canonical_state(model)
    with pytest.raises(SpecError, match="3 problems, nothing loaded") as info:
        backend.load_weights(model, path)
    notes = "\n".join(info.value.notes)
    assert "missing: 1.running_var" in notes and "unexpected: extra" in notes and "wrong shape: 0.weight" in notes
    after = archspec_flax.canonical_state(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_eval_and_train_switch_modes():
    report = infer_shapes(to_graph("specs/lenet_bn.yaml"))
    model = backend.build(report.graph, report)
    model.eval()
    assert model.layers[1].use_running_average
    model.train()
    assert not model.layers[1].use_running_average


def test_build_passes_backend_options_and_nhwc_equals_nchw():
    import archspec

    nchw = archspec.build("specs/lenet_bn.yaml", backend="flax")
    nhwc = archspec.build("specs/lenet_bn.yaml", backend="flax", options={"data_format": "NHWC"})
    nchw.eval()
    nhwc.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(nchw(x)), np.asarray(nhwc(x.transpose(0, 2, 3, 1))))


def test_an_unknown_build_option_is_named():
    import archspec

    with pytest.raises(SpecError, match="the flax backend has no option 'data_fromat'") as info:
        archspec.build("specs/lenet_bn.yaml", backend="flax", options={"data_fromat": "NHWC"})
    assert info.value.hint == "did you mean 'data_format'?"


def test_the_written_out_reserved_names_cover_the_installed_nnx_module():
    from archspec_flax._reserved import NNX_MODULE_ATTRIBUTES
    from flax import nnx

    missing = sorted(set(dir(nnx.Module)) - NNX_MODULE_ATTRIBUTES)
    assert not missing, f"add to archspec_flax/_reserved.py: {missing}"


def test_compile_refuses_options_that_only_a_build_takes(tmp_path):
    import archspec

    report = infer_shapes(to_graph("specs/lenet_bn.yaml"))
    out = tmp_path / "lenet.py"
    with pytest.raises(
        SpecError, match=r"option 'data_format' is for archspec\.build, not for compiled source"
    ) as info:
        backend.export(report.graph, report, out, options={"data_format": "NHWC"})
    assert info.value.hint == "the compiled class takes data_format= and rngs= when you construct it"
    assert not out.exists()
    assert backend.export(report.graph, report, out).startswith(f"wrote {out} (LenetBn, ")
    assert out.read_text() == archspec.emit("specs/lenet_bn.yaml", backend="flax").source


def test_a_bad_option_value_says_what_the_option_takes():
    import archspec

    with pytest.raises(SpecError, match="option 'data_format' of the flax backend") as info:
        archspec.build("specs/lenet_bn.yaml", backend="flax", options={"data_format": "nhwc"})
    assert info.value.expected is not None and info.value.expected.startswith("data_format: Literal['NCHW', 'NHWC']")
    assert info.value.found == "'nhwc'"
