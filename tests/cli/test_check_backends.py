"""``archspec check`` asks every installed backend whether it builds the network, so that what
check accepts every backend builds, and a backend's refusal is reported by check: located, with
the backend's name, in text and in JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from archspec import backends
from archspec.cli.main import main
from archspec.ir import TensorType
from archspec.ops import REGISTRY, Op, register

pytest.importorskip("torch")
pytest.importorskip("flax")
pytest.importorskip("onnx")


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["archspec", *argv])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), captured.out, captured.err


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    return lambda *argv: cli(monkeypatch, capsys, *argv)


def _spec(tmp_path: Path, network: str, name: str = "net") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"archspec: 1\nname: {name}\ninput: [N, 3, 8, 8]\nnetwork:\n{network}")
    return str(path)


class Negate(Op):
    """A test-only op: -x."""

    op_name = "test_only_negate"

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        return inputs[0]


@pytest.fixture
def negate_on_torch_and_onnx() -> Iterator[None]:
    """``test_only_negate``, an op that the torch and onnx backends lower and the flax one lacks."""
    from archspec_onnx._lowering import LOWERINGS as ONNX
    from archspec_torch._lowering import LOWERINGS as TORCH
    from archspec_torch._lowering import ModuleCall

    @TORCH.register(Negate)
    def negate_torch(node: Any, ctx: Any) -> ModuleCall:
        return ModuleCall("nn.Identity")  # check runs the rule; what the module computes is not its concern

    @ONNX.register(Negate)
    def negate_onnx(node: Any, ctx: Any) -> None:
        ctx.emit("Neg", [ctx.x])

    register(Negate)
    try:
        yield
    finally:
        del REGISTRY[Negate.op_name], TORCH._rules[Negate], ONNX._rules[Negate]


def test_an_op_one_backend_lacks_is_reported_by_check_with_its_name(
    run: Any, tmp_path: Path, negate_on_torch_and_onnx: None
) -> None:
    spec = _spec(tmp_path, "  - conv(4, 1)\n  - test_only_negate\n")
    code, out, err = run("check", spec)
    assert code == 1 and out == ""
    assert f"{spec}:6:5: error: the flax backend has no lowering for op 'test_only_negate' (at 1)" in err
    assert "hint: backends that have one: onnx, torch" in err
    code, out, _ = run("check", spec, "--format", "json")
    (result,) = json.loads(out)
    assert code == 1 and result["ok"] is False
    assert result["backends"] == {"flax": "refuses", "onnx": "ok", "torch": "ok"}
    (error,) = result["errors"]
    assert (error["backend"], error["line"], error["column"]) == ("flax", 6, 5)
    code, out, err = run("check", spec, "--backend", "torch")  # narrowed to a backend that has it
    assert code == 0 and "builds on torch)" in out and err == ""


def test_a_backend_limitation_is_located_and_names_the_backend(run: Any, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "  training: conv(4, 1)\n  sow: relu\n")  # an nn.Module name and an nnx.Module one
    code, out, _ = run("check", spec, "-f", "json")
    (result,) = json.loads(out)
    assert code == 1 and result["backends"] == {"flax": "refuses", "onnx": "ok", "torch": "refuses"}
    by_backend = {e["backend"]: e for e in result["errors"]}
    assert by_backend["torch"]["message"].startswith("the torch backend cannot build this: the layer name 'training'")
    assert (by_backend["torch"]["line"], by_backend["flax"]["line"]) == (5, 6)
    code, out, err = run("check", spec, "-b", "onnx")
    assert code == 0 and "builds on onnx)" in out and err == ""


def test_a_network_check_accepts_builds_on_every_backend(run: Any, tmp_path: Path) -> None:
    """The DAG whose merge-then-relu node torch and flax refused after check had said ok."""
    dag = (
        "  dag:\n    a: conv(4, 3, padding=1)\n    b: {in: [input], do: conv(4, 1)}\n"
        "    c: {in: [a, b], do: add -> relu}\n    d: {in: [c], do: global_avgpool -> flatten -> linear(2)}\n"
    )
    code, out, err = run("check", _spec(tmp_path, dag))
    assert code == 0 and "builds on flax, onnx, torch)" in out and err == ""


def test_check_json_marks_spec_errors_as_no_backend_s(run: Any, tmp_path: Path) -> None:
    code, out, _ = run("check", _spec(tmp_path, "  - convv(4, 1)\n"), "-f", "json")
    (result,) = json.loads(out)
    assert code == 1 and [e["backend"] for e in result["errors"]] == [None] and "backends" not in result


def test_an_unknown_backend_is_a_usage_error(run: Any, tmp_path: Path) -> None:
    code, _, err = run("check", _spec(tmp_path, "  - relu\n"), "--backend", "tourch")
    assert code == 2 and "no backend 'tourch'" in err and "did you mean 'torch'?" in err


@pytest.fixture
def broken_backends(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two more registered backends: one whose framework is missing, one whose import raises."""
    (tmp_path / "archspec_test_broken.py").write_text("raise RuntimeError('half-installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = backends.backend_entry_points()
    extra = {
        "missing": metadata.EntryPoint("missing", "archspec_test_no_such_module:backend", backends.ENTRY_POINT_GROUP),
        "broken": metadata.EntryPoint("broken", "archspec_test_broken:backend", backends.ENTRY_POINT_GROUP),
    }
    monkeypatch.setattr(backends, "backend_entry_points", lambda: {**installed, **extra})


def test_a_backend_that_cannot_be_loaded_is_noted_unless_asked_for(
    run: Any, tmp_path: Path, broken_backends: None
) -> None:
    spec = _spec(tmp_path, "  - conv(4, 1)\n")
    code, out, err = run("check", spec)
    assert code == 0 and "builds on flax, onnx, torch)" in out
    assert f"note: {spec}: not checked on the missing backend: backend 'missing' cannot be loaded" in err
    assert "not checked on the broken backend: " in err and "RuntimeError: half-installed" in err
    code, out, _ = run("check", spec, "-f", "json")
    assert json.loads(out)[0]["backends"]["broken"] == "unavailable"
    code, out, err = run("check", spec, "--backend", "missing")
    assert code == 1 and "error: backend 'missing' cannot be loaded: No module named" in err
    code, out, err = run("check", spec, "--backend", "broken")  # asked for, its failure is a bug: not the spec's
    assert code == 3 and err.startswith("internal error: RuntimeError: half-installed")


def test_a_bug_in_a_backend_s_check_is_an_internal_error(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archspec_flax._lowering import LOWERINGS

    from archspec.ops.conv import Conv

    def broken(*args: Any) -> Any:
        raise ValueError("a rule's own bug")

    monkeypatch.setitem(LOWERINGS._rules, Conv, broken)
    code, out, err = run("check", _spec(tmp_path, "  - conv(4, 1)\n"))
    assert code == 3 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("internal error: ") and "ValueError: a rule's own bug" in line
    assert "flax backend" in line and "(conv)" in line
