"""The command line: help, version, exit codes, output formats and options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOGLENET = str(ROOT / "specs" / "googlenet.yaml")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archspec", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_version() -> None:
    from archspec import __version__

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"archspec {__version__}"


@pytest.mark.parametrize("command", ["check", "shapes", "schema", "compile", "parity", "draw"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example: archspec " + command in result.stdout


def test_no_arguments_shows_help_and_usage_exit_code() -> None:
    result = run()
    assert "Usage" in result.stdout + result.stderr
    assert result.returncode == 2


@pytest.mark.parametrize(
    "args",
    [
        ("shapes",),  # missing SPEC
        ("shapes", GOOGLENET, "--format", "xml"),
        ("shapes", GOOGLENET, "--input", "1x-3x9"),
        ("shapes", GOOGLENET, "--set", "classes"),
        ("shapes", GOOGLENET, "--depth", "0"),
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_shapes_json_format() -> None:
    result = run("shapes", GOOGLENET, "--format", "json", "--depth", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"name", "input", "nodes", "total_params", "total_buffers", "total_macs"}
    assert data["name"] == "googlenet"
    assert data["input"] == ["N", 1, 96, 96]
    assert [n["path"] for n in data["nodes"]] == ["b1", "b2", "b3", "b4", "b5", "head"]
    assert data["nodes"][-1]["shape"] == ["N", 10]
    assert all(set(n) == {"path", "op", "shape", "params", "macs", "output"} for n in data["nodes"])
    assert sum(n["params"] for n in data["nodes"]) == data["total_params"]


def test_shapes_input_and_set_options() -> None:
    result = run("shapes", GOOGLENET, "-f", "json", "-d", "1", "--input", "2x1x96x96", "--set", "classes=100")
    data = json.loads(result.stdout)
    assert data["input"] == [2, 1, 96, 96]
    assert data["nodes"][-1]["shape"] == [2, 100]


def test_an_input_of_another_rank_is_refused_at_the_specs_input() -> None:
    for given in ("abc", "1x1x96"):
        result = run("shapes", GOOGLENET, "--input", given)
        assert result.returncode == 1
        assert f"has {len(given.split('x'))} dim" in result.stderr and "[N, 1, 96, 96] has 4" in result.stderr
        assert "googlenet.yaml:4:9" in result.stderr and "conv" not in result.stderr


def test_macs_scale_with_batch() -> None:
    one = json.loads(run("shapes", GOOGLENET, "-f", "json", "--input", "1x1x96x96").stdout)
    four = json.loads(run("shapes", GOOGLENET, "-f", "json", "--input", "4x1x96x96").stdout)
    assert four["total_macs"] == 4 * one["total_macs"]
    assert four["total_params"] == one["total_params"]


def test_shapes_table_for_people() -> None:
    result = run("shapes", GOOGLENET, "--depth", "2")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("googlenet  input [N, 1, 96, 96]")
    assert lines[1].split() == ["path", "op", "output", "shape", "params", "MACs"]
    assert any(line.split()[:2] == ["b3", "seq"] and "[N, 480, 6, 6]" in line for line in lines)
    assert any(line.strip().startswith("0") and "inception" in line for line in lines)
    assert "total params:  5,977,530" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal


def test_check_several_files_and_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("archspec: 1\nname: bad\ninput: [1, 3, 8, 8]\nnetwork: convv(8, 3)\n")
    result = run("check", GOOGLENET, str(bad), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [r["ok"] for r in report] == [True, False]
    (error,) = report[1]["errors"]
    assert error["line"] == 4 and error["column"] == 10
    assert error["hint"] == "did you mean 'conv'?"


def test_check_ok_exit_0() -> None:
    result = run("check", GOOGLENET)
    assert result.returncode == 0
    assert result.stdout.startswith("ok  ")


def test_spec_error_exit_1_no_partial_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("archspec: 1\nname: bad\ninput: [1, 3, 8, 8]\nnetwork:\n  a: conv(8, 3)\n  b: linear(4)\n")
    result = run("shapes", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""  # nothing printed before the error was found
    assert f"{bad}:6:6: error: linear acts on the last axis, here the width of a feature map" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_to_stdout_and_file(tmp_path: Path) -> None:
    result = run("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "archspec spec file"
    out = tmp_path / "schema.json"
    assert run("schema", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text()) == schema


def test_there_is_no_build_cache_command() -> None:
    result = run("cache")
    assert result.returncode == 2 and "No such command 'cache'" in result.stderr


def test_check_accepts_block_libraries_and_shapes_refuses_them() -> None:
    library = str(ROOT / "specs" / "blocks" / "inception.yaml")
    result = run("check", library)
    assert result.returncode == 0, result.stderr
    assert "block library: inception" in result.stdout
    result = run("shapes", library)
    assert result.returncode == 1
    assert "is a block library" in result.stderr


def test_check_reports_errors_inside_a_library(tmp_path: Path) -> None:
    lib = tmp_path / "lib.yaml"
    lib.write_text("archspec: 1\nblocks:\n  unit(c): conv(c, 3) -> relu\n  broken(: relu\n")
    result = run("check", str(lib))
    assert result.returncode == 1
    assert f"{lib}:4:" in result.stderr


def test_compile_notes_an_output_name_that_suggests_the_other_kind_of_file(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    lenet = str(ROOT / "specs" / "lenet_bn.yaml")
    result = run("compile", lenet, "-o", str(tmp_path / "model.onnx"))
    assert result.returncode == 0 and "model.onnx gets PyTorch source, which is usually named *.py" in result.stderr
    result = run("compile", lenet, "-b", "onnx", "-o", str(tmp_path / "model.py"))
    assert (
        result.returncode == 0
        and "model.py gets an ONNX model (binary), which is usually named *.onnx" in result.stderr
    )
    result = run("compile", lenet, "-o", str(tmp_path / "model.py"))
    assert result.returncode == 0 and "note:" not in result.stderr


def test_shapes_in_json_reports_errors_as_json_like_check(tmp_path: Path) -> None:
    spec = tmp_path / "seq.yaml"
    spec.write_text("archspec: 1\nname: seq\ninput: [N, 3, 32]\nnetwork: conv(16, 3)\n")
    result = run("shapes", str(spec), "--format", "json")
    assert result.returncode == 1 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["file"] == str(spec)
    (error,) = data["errors"]
    assert (error["line"], error["column"], error["hint"]) == (4, 10, "a 3-D input takes 'conv1d'")
    (checked,) = json.loads(run("check", str(spec), "-f", "json").stdout)[0]["errors"]
    assert error["notes"] == [] and checked == error  # one report of a spec's errors, whichever command


def test_compile_help_names_every_option_of_every_built_in_backend() -> None:
    from archspec.backends import get_backend

    shown = run("compile", "--help").stdout
    section = shown[shown.index("Options of the built-in backends") : shown.index("Example: archspec compile")]
    for name in ("torch", "flax", "onnx"):
        pytest.importorskip(f"archspec_{name}")
        options = get_backend(name).Options.model_fields
        line = next(line for line in section.splitlines() if line.split()[:1] == [name])
        assert all(option in section for option in options), (name, list(options))
        assert options or line.split()[1] == "none", line
