"""The emitted source of every spec in specs/, for every source backend, as checked-in golden
files (tests/codegen/golden/<backend>/<spec>.py): a change to generated code is a reviewed diff.

After a deliberate change to the code generator, rewrite them and read the diff::

    ARCHSPEC_UPDATE_GOLDEN=1 python -m pytest tests/codegen/test_golden.py
    git diff tests/codegen/golden
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from ruff_check import ruff_check

import archspec

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
BACKENDS = ["torch", "flax"]
UPDATE = os.environ.get("ARCHSPEC_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_emitted_source_is_the_golden_file(spec: Path, backend: str) -> None:
    source = archspec.emit(spec, backend=backend).source
    golden = GOLDEN / backend / f"{spec.stem}.py"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(source, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.relative_to(ROOT)}: run with ARCHSPEC_UPDATE_GOLDEN=1"
    assert source == golden.read_text(encoding="utf-8"), (
        f"the {backend} source of {spec.name} changed: if that is meant, run "
        "ARCHSPEC_UPDATE_GOLDEN=1 python -m pytest tests/codegen/test_golden.py and review the diff"
    )


def test_every_golden_file_belongs_to_a_spec() -> None:
    expected = {(b, s.stem) for b in BACKENDS for s in SPECS}
    found = {(p.parent.name, p.stem) for p in GOLDEN.glob("*/*.py")}
    assert found <= expected, f"golden files of no spec: {sorted(found - expected)}"


def test_every_golden_file_passes_ruff(tmp_path: Path) -> None:
    """The golden files are the emitted source, so this holds every spec's torch and flax source to
    the project's ruff rules (checked in a copy: pyproject.toml excludes the folder in the tree)."""
    copy = tmp_path / "golden"
    shutil.copytree(GOLDEN, copy)
    result = ruff_check(copy)
    if result is None:
        pytest.skip("ruff is not installed")
    assert result.returncode == 0, result.stdout + result.stderr
