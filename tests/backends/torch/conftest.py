"""Fixtures of the torch backend tests; the helpers they share with test files are in torch_support."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch_support import ROOT, SPECS  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One intra-op thread: the tests' tensors are small, and on a busy or shared machine
    (CI, two cores) OpenMP threads waiting on each other make a forward pass up to 50x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=SPECS, ids=[p.stem for p in SPECS])
def spec_path(request) -> Path:
    return request.param


@pytest.fixture(scope="session")
def canonical_files(tmp_path_factory):
    """``get(name)``: a canonical weights file of seeded values for specs/<name>.yaml, written once."""
    from archspec_torch import save_weights
    from torch_handwritten import draw_weights

    import archspec

    files = {}

    def get(name: str) -> Path:
        if name not in files:
            model = archspec.build(ROOT / "specs" / f"{name}.yaml")
            draw_weights(model, seed=7)
            files[name] = tmp_path_factory.mktemp(name) / "weights.safetensors"
            save_weights(model, files[name])
        return files[name]

    return get
