"""The module compiled from specs/inception_small.yaml is seed 001's hand-written InceptionNet."""

from __future__ import annotations

import pytest
from conftest import ROOT, randomise

import archspec

torch = pytest.importorskip("torch")
from torch_seed_001 import InceptionNetSmall  # noqa: E402

SPEC = ROOT / "specs" / "inception_small.yaml"


def _canonical_to_seed(compiled, seed) -> dict[str, str]:
    """Map names by position: both modules register the same tensors in the same order."""
    ours = [(k, v) for k, v in compiled.state_dict().items() if not k.endswith("num_batches_tracked")]
    theirs = [(k, v) for k, v in seed.state_dict().items() if not k.endswith("num_batches_tracked")]
    assert len(ours) == len(theirs)
    mapping = {}
    for (a, x), (b, y) in zip(ours, theirs, strict=True):
        assert x.shape == y.shape and a.rsplit(".", 1)[1] == b.rsplit(".", 1)[1], (a, b)
        mapping[a] = b
    return mapping


@pytest.mark.skipif(not SPEC.exists(), reason="specs/inception_small.yaml not written yet")
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_inception_small_matches_seed_001(mode):
    torch.manual_seed(0)
    compiled = archspec.build(SPEC)
    seed = InceptionNetSmall()
    randomise(compiled, seed=5)
    mapping = _canonical_to_seed(compiled, seed)
    state = compiled.state_dict()
    seed.load_state_dict({mapping[k]: state[k] for k in mapping}, strict=False)
    assert mapping["block3.0.branch2.1.0.weight"] == "block3.0.branch2_conv2.0.weight"
    getattr(compiled, mode)()
    getattr(seed, mode)()
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(compiled(x), seed(x))
    if mode == "train":  # the running statistics moved the same way
        after = compiled.state_dict()
        theirs = seed.state_dict()
        assert all(torch.equal(after[k], theirs[v]) for k, v in mapping.items())
