"""``archspec parity``: the command, its exit codes and JSON, and the framework-free core."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archspec.parity import compare, draw_weights, stages, without_dropout


def test_compare_measures_abs_and_rel_against_the_reference():
    diff, rel, ok = compare([1.0, -200.0], [1.0, -200.01], atol=1e-4, rtol=1e-4)
    assert diff == pytest.approx(0.01) and rel == pytest.approx(0.01 / 200)
    assert ok  # 0.01 <= 1e-4 + 1e-4 * 200
    assert not compare([1.0], [1.1], 1e-4, 1e-4)[2]


def test_weights_are_seeded_and_running_variances_positive():
    from archspec import api

    report = api.shapes("specs/lenet_bn.yaml")
    a, b = draw_weights(report, 1), draw_weights(report, 1)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    assert all((v > 0).all() for k, v in a.items() if k.endswith("running_var"))


def test_stages_and_dropout_removal():
    from archspec.api import to_graph
    from archspec.ops.tensor import Dropout

    graph = to_graph("specs/googlenet.yaml")
    assert stages(graph) == ["b1", "b2", "b3", "b4", "b5", "head"]
    alex = without_dropout(to_graph("specs/alexnet.yaml"))
    assert all(n.op.p == 0 for n in alex.nodes if isinstance(n.op, Dropout))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archspec", *args], capture_output=True, text=True, timeout=300)


def test_cli_parity_passes_with_json():
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    done = _cli("parity", "specs/lenet_bn.yaml", "--mode", "train", "--grad", "--batch", "4", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] and data["reference"] == "torch"
    assert {r["kind"] for r in data["rows"]} == {"stage", "output", "state", "grad"}


def test_stages_leave_out_a_top_level_param():
    from archspec.api import to_graph

    network = {"scale": "param([3, 1, 1], init=0.5)", "x": {"in": ["input", "scale"], "do": "mul"}, "head": "relu"}
    graph = to_graph({"archspec": 1, "name": "t", "input": ["N", 3, 4, 4], "network": {"dag": network}})
    assert stages(graph) == ["head"]  # 'scale' is the network's tensor and 'x' an expression: no layers


@pytest.mark.parametrize("mode", [("--mode", "eval", "--backends", "torch,flax,onnx"), ("--mode", "train", "--grad")])
def test_cli_parity_of_convnext_tiny_at_reduced_depth(mode: tuple[str, ...]):
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    small = ("--input", "2x3x32x32", "--set", "depths=[1,1,1,1]", "--set", "classes=10", "--format", "json")
    done = _cli("parity", "specs/convnext_tiny.yaml", *mode, *small)
    assert done.returncode == 0, done.stdout + done.stderr
    grads = {r["name"]: r["tensors"] for r in json.loads(done.stdout)["rows"] if r["kind"] == "grad"}
    if "--grad" in mode:  # 4 blocks of 9 tensors (the layer scale one of them), a stem and 3 downsamples of 4
        assert grads["features"] == 4 * 9 + 4 + 3 * 4


@pytest.mark.parametrize("mode", [("--mode", "eval", "--backends", "torch,flax,onnx"), ("--mode", "train", "--grad")])
def test_cli_parity_of_a_small_vit_b_16(mode: tuple[str, ...]):
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    small = {"image_size": 32, "patch_size": 8, "num_layers": 2, "num_heads": 4, "hidden_dim": 64, "mlp_dim": 128}
    sets = [arg for name, value in {**small, "classes": 10}.items() for arg in ("--set", f"{name}={value}")]
    done = _cli("parity", "specs/vit_b_16.yaml", *mode, "--input", "2x3x32x32", *sets, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    grads = {r["name"]: r["tensors"] for r in json.loads(done.stdout)["rows"] if r["kind"] == "grad"}
    if "--grad" in mode:  # the position embedding, 2 blocks of 12 tensors, the final layer norm's 2
        assert grads["encoder"] == 1 + 2 * 12 + 2 and grads["class_token"] == 1


@pytest.mark.parametrize("mode", [("--mode", "eval", "--backends", "torch,flax,onnx"), ("--mode", "train", "--grad")])
def test_cli_parity_of_a_small_swin_t(mode: tuple[str, ...]):
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    # 16x16 and 8x8 maps of 4x4 windows: every second block's windows shifted and masked
    small = {"embed_dim": 24, "depths": "[2,2]", "num_heads": "[2,4]", "window_size": 4, "classes": 10}
    sets = [arg for name, value in small.items() for arg in ("--set", f"{name}={value}")]
    done = _cli("parity", "specs/swin_t.yaml", *mode, "--input", "2x3x64x64", *sets, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    grads = {r["name"]: r["tensors"] for r in json.loads(done.stdout)["rows"] if r["kind"] == "grad"}
    if "--grad" in mode:  # the stem's conv and norm, 4 blocks of 13 tensors (5 of attn), a patch merging's 3
        assert grads["features"] == 4 + 4 * 13 + 3


def test_cli_parity_exits_1_over_tolerance():
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    done = _cli("parity", "specs/lenet_bn.yaml", "--atol", "0", "--rtol", "0")
    assert done.returncode == 1
    assert "FAIL" in done.stdout


def test_float64_parity_is_rounding_tight_and_skips_float32_only_backends():
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    from archspec.parity import parity

    report = parity("specs/lenet_bn.yaml", ["torch", "flax", "onnx"], dtype="float64", grad=True, atol=1e-9, rtol=1e-9)
    assert report.ok and report.dtype == "float64", [r for r in report.rows if not r.ok]
    assert {r.kind for r in report.rows} == {"stage", "output", "grad"}
    assert "float32" in report.skipped["onnx"]
    # the same comparison in float32 does not meet float64's tolerance: the dtype really changed
    assert not parity("specs/lenet_bn.yaml", ["torch", "flax"], atol=1e-9, rtol=1e-9).ok


def test_cli_parity_refuses_an_unknown_dtype():
    done = _cli("parity", "specs/lenet_bn.yaml", "--dtype", "float16")
    assert done.returncode == 2 and "float32 or float64" in done.stderr


def test_onnx_joins_parity_in_eval_and_is_skipped_with_the_reason_in_train():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    done = _cli("parity", "specs/inception_small.yaml", "--backends", "torch,onnx", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] and {(r["backend"], r["kind"]) for r in data["rows"]} == {("onnx", "stage"), ("onnx", "output")}
    assert {r["name"] for r in data["rows"]} >= {"block1", "block4", "fc", "output"}
    done = _cli(
        "parity",
        "specs/lenet_bn.yaml",
        "--backends",
        "torch,flax,onnx",
        "--mode",
        "train",
        "--batch",
        "4",
        "--format",
        "json",
    )
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["ok"], done.stdout + done.stderr
    assert "train mode" in data["skipped"]["onnx"] and {r["backend"] for r in data["rows"]} == {"flax"}


def test_parity_with_nothing_to_compare_fails_and_says_why():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    done = _cli("parity", "specs/lenet_bn.yaml", "--backends", "torch,onnx", "--mode", "train")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nothing to compare" in done.stderr and "train mode" in done.stderr
    assert "\nok" not in done.stdout


def test_parity_on_a_device_that_is_not_one_is_a_usage_error_and_a_missing_one_a_located_refusal():
    torch = pytest.importorskip("torch")
    pytest.importorskip("flax")
    done = _cli("parity", "specs/lenet_bn.yaml", "--device", "tpu")
    assert done.returncode == 2 and "'tpu' is not a device" in done.stderr, done.stderr
    if not torch.cuda.is_available():
        done = _cli("parity", "specs/lenet_bn.yaml", "--device", "cuda")
        assert done.returncode == 1 and "has no 'cuda' device here" in done.stderr, done.stderr
        assert "bug" not in done.stderr
