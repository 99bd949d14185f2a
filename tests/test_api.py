"""The Python API at the package's top level."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types
from pathlib import Path

import pytest

import archspec

ROOT = Path(__file__).resolve().parents[1]
GOOGLENET = ROOT / "specs" / "googlenet.yaml"


def test_top_level_functions_survive_importing_every_submodule() -> None:
    # A submodule named like an API function would replace it on import (archspec.shapes once did).
    for info in pkgutil.walk_packages(archspec.__path__, "archspec."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    for name in ("load", "shapes", "to_graph", "build", "emit"):
        assert callable(getattr(archspec, name)), name
    assert archspec.shapes(GOOGLENET).total_params == archspec.shapes(GOOGLENET).total_params == 5_977_530


def test_shapes_accepts_params_input_and_a_graph() -> None:
    report = archspec.shapes(GOOGLENET, params={"classes": 100}, input_shape=[2, 1, 96, 96])
    assert report.output.shape == (2, 100)
    graph = archspec.to_graph(GOOGLENET)
    assert archspec.shapes(graph).output.shape == ("N", 10)


def test_in_memory_mapping_spec() -> None:
    spec = {"archspec": 1, "name": "tiny", "input": ["N", 4], "network": "linear(3) -> softmax"}
    report = archspec.shapes(spec)
    assert report.output.shape == ("N", 3)
    assert report.total_params == 15


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        archspec.nope  # noqa: B018


def test_build_and_emit_take_params_as_a_mapping_too_for_names_of_their_own_arguments() -> None:
    pytest.importorskip("torch")
    spec = {
        "archspec": 1,
        "name": "named",
        "input": ["N", 3, 8, 8],
        "params": {"options": 4, "width": 2},
        "network": "conv(options, 1) -> conv(width, 1)",
    }
    model = archspec.build(spec, params={"options": 5}, width=3)
    assert [tuple(p.shape) for p in model.parameters()][::2] == [(5, 3, 1, 1), (3, 5, 1, 1)]
    assert "def __init__(self, options=5, width=2)" in archspec.emit(spec, params={"options": 5}).source


def test_build_and_emit_write_nothing_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # There is no build cache: a build is the spec's source, generated and run in memory.
    pytest.importorskip("torch")
    for variable in ("HOME", "XDG_CACHE_HOME", "TMPDIR"):
        monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    emitted = archspec.emit(GOOGLENET)
    model = archspec.build(GOOGLENET)
    assert type(model).__name__ == emitted.entry
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(archspec.SpecError, match="unknown param 'cache'"):
        archspec.build(GOOGLENET, cache=False)  # once an argument of build; now a network param like any


def test_an_entry_point_that_is_not_a_backend_is_named_with_what_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    from archspec import backends

    class HalfBackend:
        name = "half"

        def build(self, graph: object, report: object) -> None: ...

    monkeypatch.setitem(sys.modules, "half_backend", types.SimpleNamespace(backend=HalfBackend()))
    point = EntryPoint("half", "half_backend:backend", backends.ENTRY_POINT_GROUP)
    monkeypatch.setattr(backends, "backend_entry_points", lambda: {"half": point})
    with pytest.raises(archspec.SpecError, match=r"entry point 'half' \(half_backend:backend\) is not") as info:
        backends.get_backend("half")
    assert info.value.found == "no Options, artifact, check, emit, export, load_weights, run, save_weights, supports"


def test_backend_options_are_read_into_their_declared_types_or_refused_by_name() -> None:
    from pydantic import Field, model_validator

    from archspec.backends import BackendOptions

    class Options(BackendOptions):
        size: int = Field(3, description="how big")
        exact: bool = False

        @model_validator(mode="after")
        def _small_unless_exact(self) -> Options:
            if self.size > 10 and not self.exact:
                raise ValueError("size over 10 needs exact")
            return self

    assert Options.resolve("toy", {"size": "7", "exact": "true"}) == Options(size=7, exact=True)
    assert Options.resolve("toy", None) == Options()
    given = Options(size=4)
    assert Options.resolve("toy", given) is given
    with pytest.raises(archspec.SpecError, match="the toy backend has no option 'sise'") as info:
        Options.resolve("toy", {"sise": 4})
    assert (info.value.expected, info.value.hint) == ("one of exact, size", "did you mean 'size'?")
    with pytest.raises(archspec.SpecError, match="option 'size' of the toy backend: Input should be a valid integer"):
        Options.resolve("toy", {"size": "big"})
    with pytest.raises(archspec.SpecError, match="the toy backend's options: Value error, size over 10 needs exact"):
        Options.resolve("toy", {"size": 11})
    assert Options.describe("size") == "size: int = 3 (how big)"
