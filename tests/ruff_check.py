"""Generated source held to the project's ruff rules: one way to run ``ruff check`` for the tests
anywhere below (on PYTHONPATH through pyproject.toml, as references.py is)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def ruff_check(*paths: Path) -> subprocess.CompletedProcess[str] | None:
    """``ruff check`` of ``paths`` with the project's rules (the ruff of this interpreter's
    environment first), or None where ruff is not installed: each test says what that means."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return None
    command = [ruff, "check", "--no-cache", "--config", str(PYPROJECT), *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True)
