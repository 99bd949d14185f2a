"""Shared fixtures for the onnx backend tests: every spec in specs/, built once per session.

The 224x224 ImageNet-style specs run at a smaller input (see ``INPUTS``) so that the whole
suite stays quick; every spec keeps its layers, so every lowering is still exercised.
Weights are the backend's seeded ones with the batchnorm statistics and affine terms made
non-trivial, so that running statistics and folding are really tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_support import INPUTS, PARAMS, ROOT, SPECS, example_input, lively_weights  # noqa: E402, F401

import archspec  # noqa: E402
from archspec import api  # noqa: E402
from archspec.backends import get_backend  # noqa: E402
from archspec.infer import ShapeReport  # noqa: E402


@dataclass
class SpecCase:
    """One spec with its report, a weights file, and its onnx models (built on first use)."""

    path: Path
    report: ShapeReport
    weights: Path
    input_shape: list[int | str] | None
    params: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    def onnx(self, **options: Any) -> Any:
        key = "onnx" + repr(sorted(options.items()))
        if key not in self._cache:
            backend = get_backend("onnx")
            self._cache[key] = backend.build(self.report.graph, self.report, self.weights, options)
        return self._cache[key]

    def torch(self) -> Any:
        if "torch" not in self._cache:
            pytest.importorskip("torch")
            self._cache["torch"] = archspec.build(
                self.path, backend="torch", weights=self.weights, input_shape=self.input_shape, params=self.params
            )
        return self._cache["torch"]


_CASES: dict[Path, SpecCase] = {}
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run this folder's tests of one spec together, so that the ``case`` fixture can let go of
    the models of the spec before (all specs' models at once are more than this machine's 24 GiB,
    and CI's test process was killed for it); the other tests keep their places."""

    def spec_of(item: pytest.Item) -> Path | None:
        callspec = getattr(item, "callspec", None)
        return callspec.params.get("case") if callspec is not None and item.path.is_relative_to(_HERE) else None

    slots = [i for i, item in enumerate(items) if spec_of(item) is not None]
    ordered = sorted((items[i] for i in slots), key=lambda item: SPECS.index(spec_of(item)))
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item


@pytest.fixture(params=SPECS, ids=[p.stem for p in SPECS])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SpecCase:
    path = request.param
    for other in _CASES.values():  # the tests of one spec run together (above): the last spec's are done
        if other.path != path:
            other._cache.clear()
    if path not in _CASES:
        from archspec_onnx import random_weights, save_weights

        shape, params = INPUTS.get(path.stem), PARAMS.get(path.stem, {})
        report = api.shapes(path, params or None, shape)
        weights = tmp_path_factory.mktemp(path.stem) / "weights.safetensors"
        save_weights(lively_weights(random_weights(report, seed=0)), weights)
        _CASES[path] = SpecCase(path, report, weights, shape, params)
    return _CASES[path]


@pytest.fixture
def onnx_backend() -> Any:
    return get_backend("onnx")
