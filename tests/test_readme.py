"""What the README shows is what archspec prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import archspec

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_shape_table_in_the_readme_is_what_archspec_shapes_prints():
    shown = re.search(r"```\n\$ (archspec shapes [^\n]+)\n(.*?)```", README, re.S)
    assert shown, "the README shows an `archspec shapes` run"
    command, output = shown.group(1).split(), shown.group(2)
    done = subprocess.run(
        [sys.executable, "-c", "from archspec.cli.main import main; main()", *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == output


def test_the_python_api_example_in_the_readme_prints_what_it_says():
    report = archspec.shapes("specs/resnet18.yaml", params={"classes": 100})
    line = f"print(report.total_params, report.output)  # {report.total_params} {report.output}"
    assert line in README
