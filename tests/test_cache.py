"""The build cache (archspec.cache): keys, entries, what invalidates them, and that a broken or
foreign cache never changes a build. Builds through a backend: tests/backends/*/test_*_cache.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from archspec import api
from archspec.backends import EmittedSource
from archspec.cache import FORMAT, BuildCache, Key, cache_dir, code_fingerprint, default_cache

LIBRARY = """archspec: 1
blocks:
  unit(c):
    - conv(c, 3, padding=1)
    - relu
"""

SPEC = """archspec: 1
name: tiny
input: [N, 3, 8, 8]
params: {width: 4}
use: [lib.yaml]
network:
  - unit(width)
  - flatten
  - linear(10)
"""


class FakeBackend:
    """Only what a key needs from a backend: its name and the module it lives in."""

    name = "fake"


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    (tmp_path / "lib.yaml").write_text(LIBRARY)
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture
def store(tmp_path: Path) -> BuildCache:
    return BuildCache(tmp_path / "cache")


def emitted(text: str = "class Tiny: pass\n") -> EmittedSource:
    return EmittedSource(text, "tiny.py", "Tiny", ("import torch",), {"Unit": "unit"})


def fill(store: BuildCache, spec: Path | dict, source: EmittedSource | None = None) -> Key:
    key = store.key(spec, FakeBackend(), {}, None)
    assert key is not None
    program = api.load(spec)
    store.put(key, program, api.shapes(program), source or emitted())
    return key


# ------------------------------------------------------------------ keys
def test_key_is_stable_and_covers_params_shape_backend(spec_file: Path, store: BuildCache) -> None:
    backend = FakeBackend()
    key = store.key(spec_file, backend, {}, None)
    assert key is not None and key == store.key(str(spec_file), backend, {}, None)
    assert key.file == str(spec_file.resolve())
    others = {
        store.key(spec_file, backend, {"width": 8}, None),
        store.key(spec_file, backend, {}, ["N", 3, 16, 16]),
        store.key(spec_file, type("Other", (), {"name": "other"})(), {}, None),
    }
    assert key not in others and len(others) == 3


def test_key_follows_the_spec_text(spec_file: Path, store: BuildCache) -> None:
    before = store.key(spec_file, FakeBackend(), {}, None)
    spec_file.write_text(SPEC.replace("width: 4", "width: 5"))
    after = store.key(spec_file, FakeBackend(), {}, None)
    assert before is not None and after is not None and before.value != after.value


def test_key_of_data_and_of_what_cannot_be_keyed(spec_file: Path, store: BuildCache) -> None:
    data = {"archspec": 1, "name": "t", "input": ["N", 4], "network": ["linear(2)"]}
    key = store.key(data, FakeBackend(), {}, None)
    assert key is not None and key.file is None
    assert key == store.key(dict(reversed(data.items())), FakeBackend(), {}, None)  # order-blind
    assert store.key(api.load(spec_file), FakeBackend(), {}, None) is None  # an already loaded program
    assert store.key(spec_file.parent / "missing.yaml", FakeBackend(), {}, None) is None
    assert store.key(spec_file, FakeBackend(), {"width": object()}, None) is None  # not JSON


def test_key_refuses_what_the_loader_refuses(
    spec_file: Path, store: BuildCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archspec.spec.loader.MAX_FILE_BYTES", 10)  # a huge file is never read whole for a key
    assert store.key(spec_file, FakeBackend(), {}, None) is None
    assert store.key(spec_file.parent, FakeBackend(), {}, None) is None  # a folder


def test_code_fingerprint_follows_the_code(tmp_path: Path) -> None:
    fingerprint = code_fingerprint.__wrapped__  # the uncached function: the real one runs once per process
    (tmp_path / "mod.py").write_text("x = 1\n")
    first = fingerprint(str(tmp_path))
    assert fingerprint(str(tmp_path)) == first
    os.utime(tmp_path / "mod.py", ns=(0, 10**9))
    assert fingerprint(str(tmp_path)) != first


# ------------------------------------------------------------------ entries
def test_entry_round_trips(spec_file: Path, store: BuildCache) -> None:
    key = fill(store, spec_file)
    entry = store.get(key)
    assert entry is not None
    assert entry.emitted == emitted()
    report = api.shapes(spec_file)
    assert (entry.total_params, entry.largest_activation) == (report.total_params, report.largest_activation)
    assert report.largest_activation == 4 * 8 * 8  # the conv's output, per sample
    data = json.loads(store.entries()[0].read_text())
    assert data["format"] == FORMAT
    assert set(data["sources"]) == {str(spec_file.resolve()), str((spec_file.parent / "lib.yaml").resolve())}


def test_entry_private_to_the_user(spec_file: Path, store: BuildCache) -> None:
    fill(store, spec_file)
    (path,) = store.entries()
    assert path.stat().st_mode & 0o077 == 0


def test_an_edited_library_is_a_miss(spec_file: Path, store: BuildCache) -> None:
    key = fill(store, spec_file)
    (spec_file.parent / "lib.yaml").write_text(LIBRARY.replace("relu", "sigmoid"))
    assert store.get(key) is None
    (spec_file.parent / "lib.yaml").unlink()
    assert store.get(key) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: "{not json",
        lambda d: json.dumps({**d, "format": FORMAT + 1}),
        lambda d: json.dumps({**d, "key": "0" * 64}),
        lambda d: json.dumps({k: v for k, v in d.items() if k != "emitted"}),
        lambda d: json.dumps({**d, "total_params": "many"}),
        lambda d: json.dumps([1, 2]),
    ],
    ids=["not-json", "other-format", "other-key", "missing-field", "bad-number", "not-an-object"],
)
def test_a_damaged_entry_is_a_miss(spec_file: Path, store: BuildCache, damage) -> None:
    key = fill(store, spec_file)
    (path,) = store.entries()
    path.write_text(damage(json.loads(path.read_text())))
    assert store.get(key) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership")
def test_an_entry_others_may_write_is_ignored(spec_file: Path, store: BuildCache) -> None:
    key = fill(store, spec_file)
    (path,) = store.entries()
    path.chmod(0o620)
    assert store.get(key) is None


def test_a_cache_that_cannot_be_written_is_skipped(spec_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store = BuildCache(blocker)
    key = fill(store, spec_file)  # no error
    assert store.get(key) is None and store.entries() == []


def test_nothing_kept_when_the_spec_changed_under_the_build(spec_file: Path, store: BuildCache) -> None:
    key = store.key(spec_file, FakeBackend(), {}, None)
    assert key is not None
    spec_file.write_text(SPEC.replace("width: 4", "width: 6"))  # between the key and the load
    program = api.load(spec_file)
    store.put(key, program, api.shapes(program), emitted())
    assert store.entries() == []


def test_least_recently_used_entries_go_first(
    spec_file: Path, store: BuildCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archspec.cache.MAX_ENTRIES", 2)
    data = {"archspec": 1, "name": "t", "input": ["N", 4], "network": ["linear(2)"]}
    keys = []
    for i in range(3):
        keys.append(fill(store, {**data, "name": f"t{i}"}))
        os.utime(store._path(keys[-1].value), ns=(i * 10**9, i * 10**9))
    assert len(store.entries()) == 2
    assert store.get(keys[0]) is None and store.get(keys[2]) is not None
    assert store.clear() == 2 and store.entries() == []


# ------------------------------------------------------------------ where
def test_cache_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHSPEC_CACHE_DIR", str(tmp_path / "here"))
    assert cache_dir() == tmp_path / "here"
    monkeypatch.delenv("ARCHSPEC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "archspec"
    for off in ("0", "off", "False", " no "):
        monkeypatch.setenv("ARCHSPEC_CACHE", off)
        assert cache_dir() is None and default_cache() is None
    monkeypatch.setenv("ARCHSPEC_CACHE", "1")
    assert cache_dir() == tmp_path / "xdg" / "archspec"
