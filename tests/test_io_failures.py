"""archspec.io under failure: every file archspec writes is written beside its target, then renamed.

A failure half-way (an exception from the writer, a full disk, Ctrl-C) leaves no truncated file,
no temporary file, and an existing file exactly as it was; the file system's refusals are
located SpecErrors. (The commands and the torch weights use it: tests/cli/test_cli_robustness.py,
tests/backends/torch/test_torch_weights_hostile.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archspec.errors import SpecError
from archspec.io import atomic_write, atomic_write_bytes, atomic_write_text


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "out" / "model.py"
    path.parent.mkdir()
    path.write_text("good\n")
    return path


def _half_then(error: BaseException):
    def write(tmp: Path) -> None:
        tmp.write_text("hal")
        raise error

    return write


@pytest.mark.parametrize(
    "error", [RuntimeError("writer bug"), KeyboardInterrupt(), SpecError("the writer's own error")], ids=repr
)
def test_a_failing_writer_leaves_the_old_file_and_no_temporary(target: Path, error: BaseException) -> None:
    with pytest.raises(type(error)):
        atomic_write(target, _half_then(error))
    assert target.read_text() == "good\n"
    assert [p.name for p in target.parent.iterdir()] == ["model.py"]


def test_a_full_disk_is_a_located_spec_error(target: Path) -> None:
    with pytest.raises(SpecError) as info:
        atomic_write(target, _half_then(OSError(28, "No space left on device")))
    assert info.value.message == f"cannot write {target}: No space left on device"
    assert info.value.loc is not None and info.value.loc.file == str(target)
    assert target.read_text() == "good\n"
    assert [p.name for p in target.parent.iterdir()] == ["model.py"]


def test_a_failing_rename_leaves_no_temporary(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SpecError, match=r"cannot write .*Permission denied"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "good\n"
    assert [p.name for p in target.parent.iterdir()] == ["model.py"]


def test_targets_that_cannot_be_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is a directory"):
        atomic_write_text(tmp_path, "x")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SpecError, match=f"cannot write {blocker / 'x.py'}"):
        atomic_write_text(blocker / "x.py", "x")


def test_a_folder_that_refuses_new_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(SpecError, match="Permission denied"):
        atomic_write_bytes(tmp_path / "w.bin", b"x")
    assert list(tmp_path.iterdir()) == []


def test_success_replaces_the_file_whole(target: Path) -> None:
    atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    atomic_write_text(target.parent / "deeper" / "again.py", "x\n")
    assert (target.parent / "deeper" / "again.py").read_text() == "x\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["deeper", "model.py"]


@pytest.mark.parametrize("kind", ["fifo", "device", "socket", "symlink to a fifo"])
def test_something_that_is_not_a_regular_file_is_never_replaced(tmp_path: Path, kind: str) -> None:
    import socket
    import stat

    node = tmp_path / "node"
    if kind.endswith("fifo"):
        os.mkfifo(node)
        found = "a FIFO"
    elif kind == "device":
        try:
            os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null, but in a temporary folder
        except PermissionError:
            pytest.skip("this user cannot make a device node")
        found = "a device"
    else:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(node))
        found = "a socket"
    path = node
    if kind.startswith("symlink"):
        path = tmp_path / "link"
        path.symlink_to(node)
    before = os.lstat(path)
    with pytest.raises(SpecError, match=f"cannot write {path}: it is {found}"):
        atomic_write_text(path, "x")
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"node", path.name})


def test_an_impossible_name_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"cannot write .*\.\.\.: File name too long") as info:
        atomic_write_text(tmp_path / ("x" * 300), "x")
    assert len(info.value.message) < 300
