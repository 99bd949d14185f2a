"""Loading a spec with the block libraries it ``use``-s (archspec.spec.program): each file once,
bounded in files and bytes, every bad path a located refusal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.spec import loader, program

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def counting_loads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count how often each file is read through the loader."""
    counts: dict[str, int] = {}
    real = loader.load_file

    def load_file(path: str | Path, limit: int | None = None) -> loader.Document:
        counts[Path(path).name] = counts.get(Path(path).name, 0) + 1
        return real(path, limit)

    monkeypatch.setattr(program, "load_file", load_file)
    return counts


def test_a_diamond_chain_of_libraries_reads_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # lib0 uses lib1 and lib2, lib1 uses lib2 and lib3, ...: 2^30 paths through 30 files.
    depth = 30
    for i in range(depth):
        uses = [f"lib{j}.yaml" for j in (i + 1, i + 2) if j < depth]
        write(tmp_path, f"archspec: 1\nuse: [{', '.join(uses)}]\nblocks:\n  b{i}: relu\n", f"lib{i}.yaml")
    counts = counting_loads(monkeypatch)
    started = time.perf_counter()
    graph = api.to_graph(write(tmp_path, HEAD + "use: [lib0.yaml]\nnetwork: b0 -> b29\n"))
    assert time.perf_counter() - started < 10  # was 2^30 loads: never finished
    assert len(graph) == 2
    assert counts == {"net.yaml": 1, **{f"lib{i}.yaml": 1 for i in range(depth)}}


def test_a_library_listed_many_times_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "archspec: 1\nblocks:\n  stem: conv(4, 3)\n", "lib/big.yaml")
    counts = counting_loads(monkeypatch)
    spec = write(tmp_path, HEAD + "use: [" + ", ".join(["lib/big.yaml", "./lib/big.yaml"] * 10) + "]\nnetwork: stem\n")
    assert len(api.to_graph(spec)) == 1
    assert counts["big.yaml"] == 1


def test_the_number_of_library_files_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(program, "MAX_LIBRARY_FILES", 3)
    for i in range(5):
        write(tmp_path, f"archspec: 1\nblocks:\n  b{i}: relu\n", f"l{i}.yaml")
    spec = write(tmp_path, HEAD + "use: [l0.yaml, l1.yaml, l2.yaml, l3.yaml, l4.yaml]\nnetwork: b0\n")
    with pytest.raises(SpecError, match="uses more than 3 block library files") as info:
        api.to_graph(spec)
    assert info.value.loc is not None and (info.value.loc.line, info.value.loc.column) == (4, 34)  # at 'l3.yaml'


def test_the_bytes_of_all_libraries_together_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(program, "MAX_LIBRARY_BYTES", 300)
    for i in range(3):
        write(tmp_path, f"archspec: 1\ndoc: '{'x' * 100}'\nblocks:\n  b{i}: relu\n", f"l{i}.yaml")
    spec = write(tmp_path, HEAD + "use: [l0.yaml, l1.yaml, l2.yaml]\nnetwork: b0\n")
    with pytest.raises(SpecError, match="add up to more than 300 bytes") as info:
        api.to_graph(spec)
    assert info.value.loc is not None and info.value.loc.line == 4


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("loop.yaml", "cannot read block library 'loop.yaml'"),  # a symlink to itself
        ("nul\0byte.yaml", "cannot read block library"),
        ("x" * 5000 + ".yaml", "cannot read block library 'xxx"),
    ],
)
def test_a_use_path_that_cannot_be_a_file_is_a_located_error(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    spec = write(tmp_path, HEAD + 'use: ["' + name.replace("\0", "\\0") + '"]\nnetwork: relu\n')  # YAML's \0 escape
    with pytest.raises(SpecError, match=message) as info:
        api.to_graph(spec)
    assert info.value.loc is not None and info.value.loc.line == 4
    assert len(info.value.message) < 200  # a 5,000-character path is not echoed whole


# ------------------------------------------------------------------ in-memory specs
def _tiny(network: object, doc: str = "") -> dict[str, object]:
    return {"archspec": 1, "name": "t", "input": ["N", 3, 8, 8], "doc": doc, "network": network}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_tiny(["relu"] * 2_000_000), "more than 200,000 values"),
        (_tiny("relu", doc="x" * 50_000_000), "more than 8,388,608 characters"),
        (_tiny(["relu"] * 300_000 + ["x" * 40] * 300_000), "more than 200,000 values"),
    ],
    ids=["2M items", "50 MB doc", "many strings"],
)
def test_an_in_memory_spec_is_held_to_a_files_bounds(spec: dict[str, object], message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(SpecError, match=message):
        api.shapes(spec)
    assert time.perf_counter() - started < 5  # 2M items took 29 s, a 50 MB doc 90 s


def test_an_in_memory_spec_nested_past_the_bound_is_refused_without_recursion() -> None:
    deep: list[object] = ["relu"]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(SpecError, match="nested deeper than 64 levels"):
        api.shapes(_tiny(deep))
