"""Emitted source for hostile docs, names and strings; paths that are not regular files; and
diamond chains of ``use:`` libraries.

Classes: a one-block network whose doc, step names and block name are drawn from hostile text
(long words of escapes, quotes, backslashes, control and bidi characters), emitted by every
installed source backend (the source must parse, or the spec be a located refusal); spec and
output paths that are FIFOs, device nodes, sockets, folders, dangling or looping symlinks (a
located refusal, never a hang, a read of a device or a replaced node); random DAGs of libraries
that use each other (each file read once, the program loads in time linear in its files).
"""

from __future__ import annotations

import ast
import contextlib
import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archspec import api
from archspec.backends import backend_entry_points, get_backend
from archspec.errors import SpecError
from archspec.io import atomic_write_text
from archspec.spec import program

from .fuzz_strategies import HOSTILE_NAMES
from .fuzzlib import PROFILES, Profile, guarded

_ESCAPES = st.sampled_from(["a", " ", "\\", '"', "'", "\u200b", "\x00", "\x1b[31m", "\u202e", "\U0001f600", "\n"])
_HOSTILE_TEXT = st.one_of(st.text(max_size=400), st.lists(_ESCAPES, max_size=600).map("".join))
_STEP_NAMES = st.one_of(st.sampled_from(HOSTILE_NAMES), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True))


def _source_backends() -> list[str]:
    names = []
    for name in sorted(backend_entry_points()):
        with contextlib.suppress(SpecError):
            if name != "onnx" and get_backend(name):
                names.append(name)
    return names


@st.composite
def _hostile_specs(draw: st.DrawFn) -> dict[str, Any]:
    step, other = draw(_STEP_NAMES), draw(_STEP_NAMES)
    block = draw(_STEP_NAMES)
    return {
        "archspec": 1,
        "name": "net",
        "doc": draw(_HOSTILE_TEXT),
        "input": ["N", 3, 8, 8],
        "blocks": {f"{block}(c)": {step: "conv(c, 3, padding='same')", other: "relu"}},
        "network": {step: f"{block}(4)", other: "gelu(approximate=tanh)"},
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_emitted_source_parses_for_any_doc_name_and_string(profile: Profile) -> None:
    backends = _source_backends()
    if not backends:
        pytest.skip("no source backend installed")

    @profile.settings(weight=1.0)
    @given(_hostile_specs())
    def run(spec: dict[str, Any]) -> None:
        def emit_all() -> None:
            report = api.shapes(spec)
            for name in backends:
                ast.parse(get_backend(name).emit(report.graph, report).source)

        guarded("sources: hostile docs, names, strings", "hostile spec", emit_all, files={"<dict>"}, lines=False)

    run()


_KINDS = ["fifo", "device", "socket", "folder", "dangling symlink", "symlink loop", "symlink to fifo"]


def _make(kind: str, path: Path) -> bool:
    """Make a ``kind`` of non-regular file at ``path``; False where this user cannot."""
    if kind in ("fifo", "symlink to fifo"):
        target = path if kind == "fifo" else path.with_name(path.name + ".pipe")
        os.mkfifo(target)
        if kind == "symlink to fifo":
            path.symlink_to(target)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # like /dev/zero, in a temporary folder
        except PermissionError:
            return False
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling symlink":
        path.symlink_to(path.with_name("nowhere"))
    else:
        path.symlink_to(path)
    return True


@pytest.mark.parametrize("profile", PROFILES)
def test_paths_that_are_not_regular_files_are_refused(profile: Profile, tmp_path: Path) -> None:
    counter = iter(range(10**9))

    @profile.settings(weight=0.5)
    @given(st.sampled_from(_KINDS), st.sampled_from([".yaml", ".json", ".py", ""]), st.booleans())
    def run(kind: str, suffix: str, as_output: bool) -> None:
        folder = tmp_path / str(next(counter))
        folder.mkdir()
        path = folder / f"x{suffix}"
        if not _make(kind, path):
            return
        before = os.lstat(path)
        action = (lambda: atomic_write_text(path, "x")) if as_output else (lambda: api.shapes(path))
        refused = guarded("paths: not regular files", kind, action, files={str(path)}, lines=False)
        if as_output and kind == "dangling symlink":  # nothing is there to keep: the link becomes the file
            assert path.read_text() == "x" and not path.is_symlink()
            return
        after = os.lstat(path)
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode), "a node was replaced"
        assert refused is None

    run()


@st.composite
def _library_dags(draw: st.DrawFn) -> list[list[int]]:
    """For each of n libraries, the later ones it uses (a DAG; at most 3 uses each)."""
    count = draw(st.integers(1, 40))
    return [
        sorted(draw(st.sets(st.integers(i + 1, count - 1), max_size=3))) if i < count - 1 else [] for i in range(count)
    ]


@pytest.mark.parametrize("profile", PROFILES)
def test_diamond_chains_of_libraries_load_each_file_once(
    profile: Profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = iter(range(10**9))
    reads: list[str] = []
    real = program.load_file
    monkeypatch.setattr(program, "load_file", lambda path, limit=None: reads.append(str(path)) or real(path, limit))

    @profile.settings(weight=0.5)
    @given(_library_dags())
    def run(uses: list[list[int]]) -> None:
        folder = tmp_path / str(next(counter))
        folder.mkdir()
        for i, used in enumerate(uses):
            listed = ", ".join(f"l{j}.yaml" for j in used)
            (folder / f"l{i}.yaml").write_text(f"archspec: 1\nuse: [{listed}]\nblocks:\n  b{i}: relu\n")
        spec = folder / "net.yaml"
        spec.write_text(f"archspec: 1\nname: t\ninput: [N, 3, 8, 8]\nuse: [l0.yaml]\nnetwork: b{len(uses) - 1}\n")
        reads.clear()
        guarded("libraries: diamond chains", f"{len(uses)} libraries", lambda: api.to_graph(spec),
                files={str(spec)}, lines=True)  # fmt: skip
        reachable = {0}
        for i, used in enumerate(uses):
            if i in reachable:
                reachable.update(used)
        assert sorted(reads) == sorted({str(spec)} | {str(folder / f"l{i}.yaml") for i in reachable})

    run()
