"""Canonical safetensors weights: round trip, one report of every mismatch, nothing half-loaded."""

from __future__ import annotations

import pytest
from ruff_check import ruff_check
from torch_support import ROOT, example_input, randomise

import archspec
from archspec import api

torch = pytest.importorskip("torch")
from archspec_torch import backend, canonical_state  # noqa: E402


def test_round_trip_gives_identical_outputs(tmp_path):
    report = api.shapes("specs/inception_small.yaml")
    model = archspec.build("specs/inception_small.yaml").eval()
    randomise(model, seed=3)
    path = tmp_path / "w.safetensors"
    backend.save_weights(model, path)
    again = archspec.build("specs/inception_small.yaml", weights=path).eval()
    x = example_input(report)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def test_canonical_file_holds_no_num_batches_tracked_and_loads_with_plain_torch(tmp_path):
    from safetensors.torch import load_file

    model = archspec.build("specs/lenet_bn.yaml")
    path = tmp_path / "w.safetensors"
    backend.save_weights(model, path)
    tensors = load_file(str(path))
    assert not any(k.endswith("num_batches_tracked") for k in tensors)
    assert "1.running_mean" in tensors and "1.running_var" in tensors and "0.weight" in tensors
    fresh = archspec.build("specs/lenet_bn.yaml")
    fresh.load_state_dict(tensors, strict=True)  # torch's BatchNorm treats the counter as optional


def test_every_mismatch_is_reported_at_once_and_nothing_is_loaded(tmp_path):
    from safetensors.torch import save_file

    model = archspec.build("specs/lenet_bn.yaml")
    tensors = {k: v.clone() for k, v in canonical_state(model).items()}
    del tensors["0.bias"]
    tensors["extra.weight"] = torch.zeros(2)
    tensors["4.weight"] = torch.zeros(3, 3)
    tensors["15.bias"] = tensors["15.bias"].double()
    tensors["1.weight"] = torch.full_like(tensors["1.weight"], 7.0)
    path = tmp_path / "bad.safetensors"
    save_file(tensors, str(path))
    target = archspec.build("specs/lenet_bn.yaml")
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(archspec.SpecError, match="4 problems, nothing loaded") as info:
        backend.load_weights(target, path)
    notes = "\n".join(info.value.notes)
    assert "missing: 0.bias" in notes
    assert "unexpected: extra.weight" in notes
    assert "wrong shape: 4.weight is (3, 3), expected (16, 6, 5, 5)" in notes
    assert "wrong dtype: 15.bias is float64, expected float32" in notes
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_a_file_that_is_not_safetensors_is_a_spec_error(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"a": torch.zeros(1)}, path)  # a pickle: never read
    model = archspec.build("specs/lenet_bn.yaml")
    with pytest.raises(archspec.SpecError, match="not a readable safetensors file"):
        backend.load_weights(model, path)
    with pytest.raises(archspec.SpecError, match="does not exist"):
        backend.load_weights(model, tmp_path / "missing.safetensors")


def test_compile_with_weights_writes_a_standalone_file_that_loads_them(tmp_path):
    """`archspec compile --weights`: checked, then model.py defines load_weights(model, path=WEIGHTS)."""
    import ast
    import importlib.util
    import subprocess
    import sys

    spec = ROOT / "specs" / "lenet_bn.yaml"
    reference = archspec.build(spec, classes=3)
    randomise(reference, seed=4)
    (tmp_path / "weights").mkdir()
    weights = tmp_path / "weights" / "lenet.safetensors"
    backend.save_weights(reference, weights)
    out = tmp_path / "code" / "model.py"
    out.parent.mkdir()
    command = [sys.executable, "-m", "archspec", "compile", str(spec), "-o", str(out), "--set", "classes=3"]
    done = subprocess.run([*command, "--weights", str(weights)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "load_weights(LenetBn()) reads" in done.stderr
    source = out.read_text()
    assert 'WEIGHTS = pathlib.Path(__file__).parent / "../weights/lenet.safetensors"' in source
    top_level = {n.names[0].name.split(".")[0] for n in ast.parse(source).body if isinstance(n, ast.Import)}
    top_level |= {n.module.split(".")[0] for n in ast.parse(source).body if isinstance(n, ast.ImportFrom)}
    assert top_level == {"pathlib", "torch"}  # safetensors only inside load_weights
    lint = ruff_check(out)
    if lint is not None:
        assert lint.returncode == 0, lint.stdout

    loaded = importlib.util.spec_from_file_location("compiled_with_weights", out)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    model = module.load_weights(module.LenetBn()).eval()
    x = example_input(api.shapes(spec), batch=3)
    with torch.no_grad():
        assert torch.equal(model(x), reference.eval()(x))
    other = archspec.build(spec, classes=3)
    backend.save_weights(other, tmp_path / "other.safetensors")
    module.load_weights(model, tmp_path / "other.safetensors")  # any canonical file, by path
    assert torch.equal(model.state_dict()["0.weight"], other.state_dict()["0.weight"])

    # A file that does not fit is refused whole: nothing of it is loaded, no dtype is converted.
    from safetensors.torch import save_file

    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = {k: v.clone() for k, v in canonical_state(reference).items()}
    state["0.weight"] = state["0.weight"].half()
    del state["15.bias"]
    state["extra"] = torch.zeros(1)
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ValueError, match="nothing loaded") as info:
        module.load_weights(model, tmp_path / "bad.safetensors")
    assert str(info.value).endswith("missing: 15.bias; unexpected: extra")
    del state["extra"]
    state["15.bias"] = canonical_state(reference)["15.bias"]
    save_file(state, str(tmp_path / "half.safetensors"))
    with pytest.raises(ValueError, match=r"wrong dtype: 0\.weight is torch\.float16, expected torch\.float32"):
        module.load_weights(model, tmp_path / "half.safetensors")
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())

    out.unlink()
    wrong = subprocess.run([*command[:-2], "--weights", str(weights)], capture_output=True, text=True)
    assert wrong.returncode == 1 and "wrong shape: 15.weight is (3, 84), expected (10, 84)" in wrong.stderr
    assert not out.exists()
