"""`archspec draw`: files by suffix, depth and counts, usage errors, and Graphviz missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOGLENET = str(ROOT / "specs" / "googlenet.yaml")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def run(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"PATH": path} if path is not None else {})}
    return subprocess.run(
        [sys.executable, "-m", "archspec", "draw", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )


@needs_dot
def test_draws_svg_at_a_depth_with_counts_and_the_options_of_shapes(tmp_path: Path) -> None:
    out = tmp_path / "net.svg"
    result = run(GOOGLENET, "-o", str(out), "--depth", "2", "--counts", "--input", "2x1x64x64", "--set", "classes=7")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote {out} (22 boxes, 21 edges)\n"
    svg = out.read_text()
    assert "inception(c1=64, c2=[96, 128]," in svg and "[2, 7]" in svg and "params" in svg


def test_writes_dot_and_mermaid_without_graphviz(tmp_path: Path) -> None:
    for suffix in ("dot", "mmd"):
        out = tmp_path / f"net.{suffix}"
        result = run(GOOGLENET, "-o", str(out), "--depth", "1", path=str(tmp_path))
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "net.dot").read_text().startswith("digraph archspec {")
    assert (tmp_path / "net.mmd").read_text().startswith("flowchart TD\n")


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_svg_and_png_without_graphviz_say_in_one_line_how_to_install_it(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"net.{suffix}"
    result = run(GOOGLENET, "-o", str(out), path=str(tmp_path))  # a PATH without dot
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: drawing {suffix.upper()} needs Graphviz's `dot` program")
    assert "apt-get install graphviz" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "net.jpg"), "expected a .svg, .png, .dot or .mmd file"),
        (("-o", "-"), "'-' would be standard output"),
        (("-o", "pictures/"), "names a folder"),
        (("-o", "net.dot", "--depth", "0"), "--depth"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run(GOOGLENET, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_spec_error_exits_1_located_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("archspec: 1\nname: bad\ninput: [N, 3, 8, 8]\nnetwork:\n  head: linear(10)\n")
    out = tmp_path / "bad.dot"
    result = run(str(spec), "-o", str(out))
    assert result.returncode == 1
    assert f"{spec}:5:9: error: linear acts on the last axis" in result.stderr
    assert not out.exists()
