"""archspec.build through the build cache (archspec.cache) with the torch backend: a hit skips
the spec, shapes and emit and builds the same module; the bounds and every way of turning the
cache off still hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch_support import ROOT

import archspec
from archspec.cache import BuildCache, cache_dir


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuildCache:
    monkeypatch.setenv("ARCHSPEC_CACHE_DIR", str(tmp_path / "cache"))
    root = cache_dir()
    assert root is not None
    return BuildCache(root)


@pytest.fixture
def googlenet(tmp_path: Path) -> Path:
    """A copy of specs/googlenet.yaml with the library it uses, free to edit."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    return tmp_path / "specs" / "googlenet.yaml"


def _classes(model: torch.nn.Module) -> int:
    return [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1].out_features


def _no_spec_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("a cache hit read the spec")

    monkeypatch.setattr("archspec.api.load", refuse)
    monkeypatch.setattr("archspec.spec.expand.lower", refuse)


def test_a_hit_builds_the_same_module_without_reading_the_spec(
    googlenet: Path, store: BuildCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = archspec.build(googlenet)
    assert len(store.entries()) == 1
    with monkeypatch.context() as m:
        _no_spec_work(m)
        second = archspec.build(googlenet)
    assert type(second) is type(first)  # the same generated class: the source is run once per process
    assert {k: v.shape for k, v in second.state_dict().items()} == {k: v.shape for k, v in first.state_dict().items()}
    second.load_state_dict(first.state_dict())
    x = torch.randn(2, 1, 96, 96)
    assert torch.equal(first.eval()(x), second.eval()(x))


def test_params_are_part_of_the_key(googlenet: Path, store: BuildCache) -> None:
    assert _classes(archspec.build(googlenet)) == 10
    assert _classes(archspec.build(googlenet, classes=7)) == 7
    assert _classes(archspec.build(googlenet)) == 10
    assert len(store.entries()) == 2


def test_editing_the_spec_or_its_library_rebuilds(googlenet: Path, store: BuildCache) -> None:
    archspec.build(googlenet)
    googlenet.write_text(googlenet.read_text().replace("classes: 10", "classes: 12"))
    assert _classes(archspec.build(googlenet)) == 12
    library = googlenet.parent / "blocks" / "inception.yaml"
    library.write_text(library.read_text().replace("relu", "sigmoid"))
    model = archspec.build(googlenet)
    assert any(isinstance(m, torch.nn.Sigmoid) for m in model.modules())


def test_bounds_hold_on_a_hit(googlenet: Path, store: BuildCache) -> None:
    params = sum(p.numel() for p in archspec.build(googlenet).parameters())
    with pytest.raises(archspec.SpecError, match="over 1,000 parameters") as caught:
        archspec.build(googlenet, max_params=1000)
    assert caught.value.loc is not None and caught.value.loc.file == str(googlenet)  # located, as a fresh build
    with pytest.raises(archspec.SpecError, match="over the limit of 100"):
        archspec.build(googlenet, max_activation=100)
    archspec.build(googlenet, max_params=params)  # exactly at the bound: allowed, as a fresh build


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_the_cache_turned_off(googlenet: Path, store: BuildCache, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "environment":
        monkeypatch.setenv("ARCHSPEC_CACHE", "0")
    archspec.build(googlenet, cache=how != "argument")
    assert store.entries() == []
    archspec.build(googlenet)  # fills it when it is on
    if how == "argument":
        assert len(store.entries()) == 1
        with monkeypatch.context() as m:  # and cache=False does not read it either
            _no_spec_work(m)
            with pytest.raises(AssertionError, match="read the spec"):
                archspec.build(googlenet, cache=False)


def test_emit_uses_the_cache_too(googlenet: Path, store: BuildCache, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted = archspec.emit(googlenet)
    with monkeypatch.context() as m:
        _no_spec_work(m)
        assert archspec.emit(googlenet) == emitted


def test_a_broken_spec_is_never_cached(tmp_path: Path, store: BuildCache) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("archspec: 1\nname: bad\ninput: [N, 3, 8, 8]\nnetwork:\n  - conv(4, 9)\n")
    for _ in range(2):
        with pytest.raises(archspec.SpecError, match="larger than its padded input"):
            archspec.build(spec)
    assert store.entries() == []


def test_a_lowering_replaced_at_run_time_is_a_miss(store: BuildCache, monkeypatch: pytest.MonkeyPatch) -> None:
    from archspec_torch._lowering import LOWERINGS

    from archspec.backends import LoweringBug
    from archspec.ops.activation import Relu

    spec = ROOT / "specs" / "inception_small.yaml"  # has ReLUs
    archspec.build(spec)

    def broken(op, ctx):
        raise RuntimeError("boom")

    with monkeypatch.context() as m:
        m.setitem(LOWERINGS._rules, Relu, broken)
        with pytest.raises(LoweringBug, match="RuntimeError: boom"):
            archspec.build(spec)
    archspec.build(spec)
    assert len(store.entries()) == 1  # the entry of the first build, hit again


def test_builds_racing_to_fill_the_cache(store: BuildCache) -> None:
    from concurrent.futures import ThreadPoolExecutor

    spec = ROOT / "specs" / "lenet_bn.yaml"
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: archspec.build(spec), range(8)))
    assert len({type(m).__name__ for m in models}) == 1
    assert len(store.entries()) == 1
    assert [p.name for p in store.entries()[0].parent.iterdir() if p.suffix != ".json"] == []  # no temporaries
    assert store.get(store.key(spec, archspec.backends.get_backend("torch"), {}, None)) is not None
