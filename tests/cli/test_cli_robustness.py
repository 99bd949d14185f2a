"""The command line under hostile conditions: absurd networks and their bounds, failing writes,
user errors without tracebacks, internal errors with --debug, Ctrl-C.

Most commands run in process through the console entry point (``main``); Ctrl-C is also
sent as a real SIGINT to a subprocess busy with a large spec.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from archspec import infer
from archspec.cli.main import main
from archspec.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
LENET = str(ROOT / "specs" / "lenet_bn.yaml")
HUGE_LINEAR = "archspec: 1\nname: huge\ninput: [N, 1000000]\nnetwork: linear(1000000)\n"
HUGE_INPUT = "archspec: 1\nname: wide\ninput: [1, 3, 100000, 100000]\nnetwork: conv(8, 3)\n"


def run(*argv: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["archspec", *argv])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), captured.out, captured.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    return lambda *argv: run(*argv, capsys=capsys, monkeypatch=monkeypatch)


@pytest.fixture
def no_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if any backend is asked for: the spec must be refused before one is loaded."""
    import archspec.backends

    def refuse(name: str) -> Any:
        raise AssertionError(f"backend {name} loaded for an absurd network")

    monkeypatch.setattr(archspec.backends, "get_backend", refuse)


# ------------------------------------------------------------------ resources
@pytest.mark.parametrize("command", ["shapes", "check", "compile"])
def test_absurd_networks_are_refused_by_every_command(command: str, tmp_path: Path, cli: Any, no_backend: None) -> None:
    for text, figure, option in (
        (HUGE_LINEAR, "over 10,000,000,000 parameters (reached 1,000,001,000,000 at 'linear')", "--max-params"),
        (HUGE_INPUT, "has 30,000,000,000 elements, over the limit of 4,294,967,296", "--max-activation"),
    ):
        spec = tmp_path / "absurd.yaml"
        spec.write_text(text)
        extra = ["-o", str(tmp_path / "model.py")] if command == "compile" else []
        code, _, err = cli(command, str(spec), *extra)
        assert code == 1, err
        assert figure in err and option in err
        assert f"{spec}:" in err and "Traceback" not in err
        assert not (tmp_path / "model.py").exists()


def test_the_bounds_can_be_raised_on_every_command(tmp_path: Path, cli: Any) -> None:
    spec = tmp_path / "huge.yaml"
    spec.write_text(HUGE_LINEAR)
    code, out, _ = cli("shapes", str(spec), "--max-params", "1000000000000000", "-f", "json")
    assert code == 0 and json.loads(out)["total_params"] == 1_000_001_000_000
    code, out, _ = cli("check", str(spec), "--max-params", "1000000000000000")
    assert code == 0 and "1,000,001,000,000 params" in out
    out_file = tmp_path / "model.py"
    code, _, err = cli("compile", str(spec), "-o", str(out_file), "--max-params", "1000000000000000")
    assert code == 0, err  # emitted source only: nothing is allocated
    assert "nn.Linear(1000000, 1000000)" in out_file.read_text()
    wide = tmp_path / "wide.yaml"
    wide.write_text(HUGE_INPUT)
    code, out, _ = cli("shapes", str(wide), "--max-activation", "100000000000", "-f", "json")
    assert code == 0 and json.loads(out)["output"] == [1, 8, 99998, 99998]
    code, _, err = cli("shapes", LENET, "--max-params", "1000")
    assert code == 1 and "over 1,000 parameters" in err
    for command in ("shapes", "check"):
        code, _, err = cli(command, LENET, "--max-params", "0")
        assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("command", ["shapes", "check", "compile"])
def test_help_states_the_bounds_the_shape_pass_applies(command: str, cli: Any) -> None:
    code, out, _ = cli(command, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "--max-params" in text and f"{infer.MAX_PARAMS:,}" in text
    assert "--max-activation" in text and f"{infer.MAX_ACTIVATION:,}" in text


# ------------------------------------------------------------------ outputs
def _fail_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text write puts half its text on disk, then the disk is full."""

    def write_text(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", write_text)


@pytest.mark.parametrize("command", ["compile", "schema"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    command: str, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out" / "model.py"
    target.parent.mkdir()
    target.write_text("# a good file from before\n")
    _fail_half_way(monkeypatch)
    argv = ["compile", LENET, "-o", str(target)] if command == "compile" else ["schema", "-o", str(target)]
    code, _, err = cli(*argv)
    assert code == 1
    assert f"{target}: error: cannot write {target}: No space left on device" in err
    assert "Traceback" not in err and "internal error" not in err
    assert target.read_text() == "# a good file from before\n"
    assert [p.name for p in target.parent.iterdir()] == ["model.py"]


def test_outputs_that_cannot_be_written_are_spec_errors(tmp_path: Path, cli: Any) -> None:
    code, _, err = cli("compile", LENET, "-o", str(tmp_path))
    assert code == 1 and "is a directory" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli("schema", "-o", str(blocker / "schema.json"))
    assert code == 1 and f"cannot write {blocker / 'schema.json'}" in err
    nested = tmp_path / "a" / "b" / "model.py"
    code, _, err = cli("compile", LENET, "-o", str(nested))
    assert code == 0 and nested.read_text().startswith('"""lenet_bn')
    assert sorted(p.name for p in nested.parent.iterdir()) == ["model.py"]


def test_compile_never_replaces_a_node_or_its_own_inputs_and_does_no_work_first(
    tmp_path: Path, cli: Any, no_backend: None
) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    code, _, err = cli("compile", LENET, "-o", str(fifo))
    assert code == 1 and "it is a FIFO (named pipe)" in err
    assert fifo.is_fifo()
    spec = tmp_path / "net.yaml"
    library = tmp_path / "lib" / "blocks.yaml"
    library.parent.mkdir()
    library.write_text("archspec: 1\nblocks:\n  'stem(c)': conv(c, 3)\n")
    spec.write_text("archspec: 1\nname: n\ninput: [N, 3, 8, 8]\nuse: [lib/blocks.yaml]\nnetwork: stem(4)\n")
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"not read")
    for output, said in [
        (spec, "is the spec"),
        (tmp_path / "lib" / ".." / "lib" / "blocks.yaml", "is a block library the spec uses"),
        (weights, "is the weights file"),
    ]:
        before = Path(output).read_bytes()
        code, _, err = cli("compile", str(spec), "-o", str(output), "--weights", str(weights))
        assert code == 2 and said in err, err
        assert Path(output).read_bytes() == before
    for output, said in [("-", "would be standard output"), (f"{tmp_path}/out/", "names a folder")]:
        code, _, err = cli("compile", str(spec), "-o", output)
        assert code == 2 and said in err, err
    assert not (tmp_path / "-").exists() and not (tmp_path / "out").exists()


# ------------------------------------------------------------------ errors and exit codes
@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["shapes", "missing.yaml"], 1, "missing.yaml: error: cannot read spec file"),
        (["shapes", "."], 1, "expected a spec file, found a directory"),
        (["shapes", "README.md"], 1, "unknown spec file type '.md'"),
        (["check", "pyproject.toml"], 1, "unknown spec file type '.toml'"),
        (["compile", LENET, "-o", "x.py", "--backend", "tensorflow"], 2, "no backend 'tensorflow'; installed"),
        (["compile", LENET, "-o", "x.py", "--weights", "missing.safetensors"], 1, "does not exist"),
        (["shapes", LENET, "--input", "1x-1"], 2, "is not a shape like"),
        (["shapes", LENET, "--input", "1x1x\uff12\uff18x28"], 2, "(ASCII digits and names)"),
        (["shapes", LENET, "--input", "1x1x" + "9" * 5000 + "x28"], 2, "a dimension of 5,000 digits is not a size"),
        (["compile", LENET, "-o", "x.onnx", "-b", "onnx", "--opset", "0"], 1, "ONNX opset 0 is not supported"),
        (["parity", LENET, "--seed", "-5"], 2, "Invalid value for '--seed'"),
        (["parity", LENET, "--batch", "99999999999999999999"], 2, "Invalid value for '--batch'"),
        (["shapes", LENET, "--set", "c=__import__('os')"], 2, "is not a literal value"),
        (["shapes", LENET, "--max-activation", "many"], 2, "Invalid value for '--max-activation'"),
        (["compile", LENET], 2, "Missing option"),
        (["nonsense"], 2, "No such command"),
    ],
)
def test_user_errors_exit_1_or_2_without_traceback(
    argv: list[str], code: int, message: str, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    argv = [str(tmp_path / a) if a == "x.py" else a for a in argv]
    got, out, err = cli(*argv)
    assert got == code, err
    assert message in err
    assert "Traceback" not in err + out and "internal error" not in err


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import archspec.api

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(archspec.api, "shapes", broken)
    code, _, err = cli("shapes", LENET)
    assert code == 3
    (line,) = err.splitlines()
    assert line.startswith("internal error: RuntimeError: boom: a bug in archspec")
    assert "--debug" in line and "Traceback" not in err
    monkeypatch.setattr(sys, "argv", ["archspec", "--debug", "shapes", LENET])
    with pytest.raises(RuntimeError, match="boom"):  # Python prints the traceback
        main()


@pytest.mark.parametrize("backend", ["torch", "flax", "onnx"])
def test_a_lowering_bug_is_an_internal_error_naming_the_node_not_a_spec_error(
    backend: str, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib

    from archspec.ops.activation import Sigmoid

    lowerings = importlib.import_module(f"archspec_{backend}._lowering").LOWERINGS

    def broken(*args: Any) -> Any:
        raise ValueError("a rule's own bug")

    monkeypatch.setitem(lowerings._rules, Sigmoid, broken)
    out_file = tmp_path / ("model.onnx" if backend == "onnx" else "model.py")
    code, out, err = cli("compile", LENET, "--backend", backend, "-o", str(out_file))
    assert code == 3 and out == "" and not out_file.exists()
    (line,) = err.splitlines()
    assert line.startswith("internal error: ") and "ValueError: a rule's own bug" in line
    assert f"{backend} backend" in line and "(sigmoid)" in line  # where: the backend and the node
    assert "a bug in archspec" in line and "--debug" in line and "Traceback" not in err
    monkeypatch.setattr(sys, "argv", ["archspec", "--debug", "compile", LENET, "-b", backend, "-o", str(out_file)])
    with pytest.raises(Exception, match="a rule's own bug") as caught:  # Python prints the traceback
        main()
    assert not isinstance(caught.value, SpecError)


# ------------------------------------------------------------------ Ctrl-C
def test_ctrl_c_in_a_command_exits_130_with_one_line(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import archspec.api

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(archspec.api, "shapes", interrupted)
    code, out, err = cli("shapes", LENET)
    assert code == 130
    assert err.strip() == "interrupted; nothing was written (any file there is unchanged)" and out == ""


def test_ctrl_c_after_the_output_was_written_says_it_was_written_in_full(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archspec_torch import backend

    export = type(backend).export

    def export_then_interrupted(self: Any, *args: Any, **kwargs: Any) -> str:
        export(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(type(backend), "export", export_then_interrupted)
    out = tmp_path / "model.py"
    code, _, err = cli("compile", LENET, "-o", str(out))
    assert code == 130
    assert err.strip() == f"interrupted; {out} had been written in full"
    compile(out.read_text(), str(out), "exec")  # complete


def test_ctrl_c_that_a_library_swallows_still_exits_130(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import archspec.api

    shapes = archspec.api.shapes

    def swallowing(*args: Any, **kwargs: Any) -> Any:
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C inside a library...
            time.sleep(1)
        except KeyboardInterrupt:
            pass  # ...which catches it and carries on (printed a traceback and exited 0 before)
        return shapes(*args, **kwargs)

    monkeypatch.setattr(archspec.api, "shapes", swallowing)
    code, _, err = cli("shapes", LENET)
    assert code == 130 and err.strip().startswith("interrupted")


def test_sigint_to_a_busy_process_exits_130_cleanly(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("archspec: 1\nname: big\ninput: [N, 4]\nnetwork: (relu * 1000) * 99\n")  # 99,000 ops: seconds
    process = subprocess.Popen(
        [sys.executable, "-m", "archspec", "shapes", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(1.5)
    assert process.poll() is None, "the command finished before it could be interrupted"
    started = time.perf_counter()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert time.perf_counter() - started < 15
    assert process.returncode == 130, err
    assert err.strip() == "interrupted; nothing was written (any file there is unchanged)", err
    assert out == ""
