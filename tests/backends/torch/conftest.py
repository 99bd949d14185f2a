"""Shared helpers for the torch backend tests: every spec in specs/, small seeded inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


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


@pytest.fixture(params=SPECS, ids=[p.stem for p in SPECS])
def spec_path(request) -> Path:
    return request.param
