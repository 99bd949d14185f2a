"""Shared helpers for the torch backend tests: every spec in specs/, small seeded inputs, and the
hand-written twins of fixtures/ loaded with the same canonical weights as the compiled modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # hand-written networks: torch_*.py
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))


def example_input(report, batch: int = 2, seed: int = 0):
    """A seeded input of the network's input shape with the symbolic batch set to ``batch``."""
    shape = [batch if isinstance(d, str) else d for d in report.graph.input.shape]
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator)


def randomise(module, seed: int = 0) -> None:
    """Give every parameter and running statistic seeded, non-trivial values."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            values = torch.rand(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(0.5 + values)
            else:
                tensor.copy_((values - 0.5) * 0.2)


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


def twins(name: str, weights: Path):
    """The module compiled from specs/<name>.yaml and its hand-written twin, both holding ``weights``
    (a canonical file), and the canonical -> hand-written name mapping."""
    from archspec_torch import canonical_state
    from safetensors.torch import load_file
    from torch_handwritten import HANDWRITTEN, load_canonical, weight_mapping

    import archspec

    case = HANDWRITTEN[name]
    compiled = archspec.build(ROOT / "specs" / f"{name}.yaml", weights=weights)
    handwritten = case.make()
    mapping = weight_mapping(canonical_state(compiled), handwritten)
    assert mapping[case.anchor[0]] == case.anchor[1]
    load_canonical(handwritten, load_file(str(weights)), mapping)
    return compiled, handwritten, mapping


def twin_input(name: str, batch: int = 2, seed: int = 1):
    """A seeded batch of the size the twin tests use for ``name`` (see torch_handwritten)."""
    from torch_handwritten import HANDWRITTEN

    return torch.randn(batch, *HANDWRITTEN[name].test_input, generator=torch.Generator().manual_seed(seed))
