"""Helpers of the torch backend tests (a module name no other test directory uses, so test files
import it unambiguously): every spec in specs/, seeded inputs and weights, and the hand-written twins
of fixtures/ loaded with the same canonical weights as the compiled modules."""

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


def outputs(value) -> dict:
    """A module's outputs by name: the ``{name: tensor}`` of a spec that names its outputs, else
    its one tensor as ``output``."""
    return dict(value) if isinstance(value, dict) else {"output": value}


def example_input(report, batch: int = 2, seed: int = 0):
    """A seeded input of the network's input shape with every symbol (the batch, a sequence length)
    set to ``batch``: N(0, 1) values, or ids in range for a network over token ids."""
    shape = [batch if isinstance(d, str) else d for d in report.graph.input.shape]
    if report.graph.input.is_integer:
        import numpy as np

        from archspec.parity import draw_input

        return torch.as_tensor(draw_input(report.graph, tuple(shape), np.random.default_rng(seed)))
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
