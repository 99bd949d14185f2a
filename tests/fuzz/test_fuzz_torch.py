"""Plausible random networks (hostile names included) through the torch backend.

Every spec that passes shape inference is emitted, built (emit + exec), run forward in eval
and train mode on a small input, its weights saved and loaded back; the only allowed failure
is a located SpecError (a step name that cannot be a submodule name, say). Each emitted
source parses, imports only torch, and, all of them together at the end, passes ruff.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from ruff_check import ruff_check

from archspec import api

from .fuzz_strategies import plausible_networks
from .fuzzlib import PROFILES, Profile, guarded

torch = pytest.importorskip("torch")
from archspec_torch import backend, canonical_state  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _check_source(source: str) -> None:
    tree = ast.parse(source)
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"torch"}, imported
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & {"exec", "eval", "__import__", "open", "compile", "getattr", "setattr"}, calls


def _exercise(path: Path, folder: Path, sources: list[str]) -> None:
    report = api.shapes(path)
    emitted = backend.emit(report.graph, report)
    _check_source(emitted.source)
    sources.append(emitted.source)
    model = backend.build(report.graph, report)
    shape = [1 if isinstance(d, str) else d for d in report.graph.input.shape]
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model.eval()(x)
        assert tuple(out.shape) == tuple(1 if isinstance(d, str) else d for d in report.output.shape)
        model.train()(torch.cat([x, x + 1]))
    weights = folder / "w.safetensors"
    backend.save_weights(model, weights)
    again = backend.build(report.graph, report, weights)
    state = canonical_state(model)
    assert all(torch.equal(state[k], v) for k, v in canonical_state(again).items())


@pytest.mark.parametrize("profile", PROFILES)
def test_plausible_networks_build_and_run_in_torch(profile: Profile, tmp_path: Path) -> None:
    sources: list[str] = []

    @profile.settings(weight=0.75)
    @given(plausible_networks())
    def run(spec: dict[str, Any]) -> None:
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
        guarded("torch: plausible networks", "plausible network", lambda: _exercise(path, tmp_path, sources),
                files={str(path)}, lines=True)  # fmt: skip

    run()
    assert sources, "no generated network passed shape inference"
    folder = tmp_path / "emitted"
    folder.mkdir()
    for i, source in enumerate(dict.fromkeys(sources)):
        (folder / f"model_{i}.py").write_text(source)
    result = ruff_check(folder)
    if result is None:
        pytest.skip("ruff is not installed")
    assert result.returncode == 0, result.stdout[-4000:]
