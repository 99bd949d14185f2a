"""The emitted model.py is the in-memory build: it imports, runs, and matches bit for bit; ruff passes."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import pytest
from ruff_check import ruff_check
from torch_support import ROOT, example_input, outputs, randomise

import archspec
from archspec import api
from archspec.errors import SpecError

torch = pytest.importorskip("torch")


def _import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_emitted_file_equals_the_build_bit_for_bit(spec_path, tmp_path):
    report = api.shapes(spec_path)
    emitted = archspec.emit(spec_path)
    out = tmp_path / "model.py"
    out.write_text(emitted.source)
    from_file = getattr(_import_file(out, f"generated_{spec_path.stem}"), emitted.entry)()
    built = archspec.build(spec_path)
    randomise(built)
    from_file.load_state_dict(built.state_dict())
    x = example_input(report, batch=2)
    for mode in ("eval", "train"):
        getattr(built, mode)()
        getattr(from_file, mode)()
        torch.manual_seed(1)
        with torch.no_grad():
            a = outputs(built(x))
        torch.manual_seed(1)
        with torch.no_grad():
            b = outputs(from_file(x))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), mode


def test_emitted_source_imports_only_torch(spec_path):
    tree = ast.parse(archspec.emit(spec_path).source)
    roots = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert roots == {"torch"}


def test_emitted_source_passes_ruff(spec_path, tmp_path):
    out = tmp_path / f"{spec_path.stem}.py"
    out.write_text(archspec.emit(spec_path).source)
    result = ruff_check(out)
    if result is None:
        pytest.skip("ruff is not installed")
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_is_emit_plus_load_with_a_traceable_filename():
    import inspect
    import linecache

    model = archspec.build("specs/googlenet.yaml")
    filename = inspect.getsourcefile(type(model))
    assert filename is not None and filename.startswith("archspec_generated_googlenet_")
    assert linecache.getline(filename, 1).startswith('"""googlenet')
    assert "class Inception(nn.Module)" in inspect.getsource(sys.modules[type(model).__module__])


def test_block_classes_are_parametric_in_the_block_parameters():
    source = archspec.emit("specs/googlenet.yaml").source
    assert "class Inception(nn.Module):" in source
    assert "def __init__(self, in_channels, c1, c2, c3, c4) -> None:" in source
    assert "nn.Conv2d(in_channels, c2[0], 1)" in source
    assert "nn.Conv2d(c2[0], c2[1], 3, padding=1)" in source
    assert source.count("class Inception") == 1
    small = archspec.emit("specs/inception_small.yaml").source
    assert "nn.Conv2d(in_channels, out_channel, kernel_size, padding=kernel_size // 2)" in small


def test_compile_cli_writes_the_file(tmp_path):
    out = tmp_path / "model.py"
    command = [sys.executable, "-m", "archspec"]
    result = subprocess.run(
        [*command, "compile", str(ROOT / "specs/googlenet.yaml"), "--backend", "torch", "-o", str(out),
         "--set", "classes=3"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "nn.Linear(1024, classes)" in out.read_text() and "classes=3" in out.read_text()
    bad = subprocess.run(
        [*command, "compile", str(ROOT / "specs/googlenet.yaml"), "--backend", "tensorflow", "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no backend 'tensorflow'" in bad.stderr


def _other_values(value):
    """Different values of a network param's kind: what a person might pass the network class (a
    width doubled where + 3 is no multiple of the head count)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 3, value * 2]
    if isinstance(value, float):
        return [value / 2]
    return []


def _valid_build(spec, name, values):
    """The first of ``values`` of param ``name`` that makes a valid network, and archspec.build's module."""
    for value in values:
        try:
            return value, archspec.build(spec, **{name: value}).eval()
        except SpecError:
            continue
    return None, None


def _class_arguments_against_set(spec, tmp_path):
    """For each network param the emitted network class takes: the class built with another value
    of it against archspec.build with that value set; their parameter shapes and outputs' shapes agree."""
    from archspec.codegen import load_source

    emitted = archspec.emit(spec)
    network = getattr(load_source(emitted), emitted.entry)
    report = api.shapes(spec)
    x = example_input(report, batch=2)
    import inspect

    taken = {n: p.default for n, p in inspect.signature(network).parameters.items() if n != "self"}
    for name, default in taken.items():
        value, expected = _valid_build(spec, name, _other_values(default))
        if expected is None:
            continue
        ours = network(**{name: value}).eval()
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: v.shape for k, v in expected.state_dict().items()
        }, (spec, name)
        with torch.no_grad():
            shapes = [{k: v.shape for k, v in outputs(module(x)).items()} for module in (ours, expected)]
        assert shapes[0] == shapes[1], (spec, name)
    return taken


def test_the_network_class_takes_only_params_every_value_follows(spec_path, tmp_path):
    _class_arguments_against_set(spec_path, tmp_path)


def test_a_param_a_later_size_is_made_of_is_written_as_its_value(tmp_path):
    """The network class takes a param only if the sizes made from it are written in its terms: a
    width that sets a convolution's channels, flattened into a linear layer's features, is (the
    channels times the map's size, as torchvision's VGG writes ``512 * 7 * 7``); the kernel size
    that map's size is made of is not."""
    spec = {
        "archspec": 1,
        "name": "w1",
        "input": ["N", 3, 28, 28],
        "params": {"width": 16, "classes": 10, "rate": 0.25, "k": 5},
        "network": {
            "features": "conv(width, k) -> relu -> maxpool(2) -> dropout(rate)",
            "more": "conv(width, 1) -> relu",
            "head": "flatten -> linear(classes)",
        },
    }
    assert _class_arguments_against_set(spec, tmp_path) == {"width": 16, "classes": 10, "rate": 0.25}
    assert "nn.Linear(width * 12 * 12, classes)" in archspec.emit(spec).source
    chain = dict(spec, params={"width": 16, "classes": 10}, network="conv(width, 3) -> relu -> conv(width, 1)")
    assert _class_arguments_against_set(chain, tmp_path) == {"width": 16}
    # an add of a branch in the param's terms and one of a fixed size holds only at equal sizes
    residual = {"add": ["conv(width, 3, padding=1)", "identity"]}
    fixed = dict(spec, input=["N", 16, 8, 8], params={"width": 16}, network=residual)
    assert _class_arguments_against_set(fixed, tmp_path) == {}
    dag = {
        "a": "conv(width, 1)",
        "b": {"in": "a", "do": "conv(width, 3, padding=1)"},
        "c": {"in": ["a", "b"], "do": "add"},
    }
    follows = dict(fixed, network={"dag": dag})
    assert _class_arguments_against_set(follows, tmp_path) == {"width": 16}
