"""archspec.io: atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archspec.errors import SpecError
from archspec.io import atomic_write, atomic_write_text


def test_written_file_gets_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.py"
    atomic_write_text(target, "x = 1\n")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_replacing_keeps_the_old_files_mode(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old\n")
    target.chmod(0o755)
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"good")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(SpecError, match="disk full"):  # the file system's refusal, located at the file
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
