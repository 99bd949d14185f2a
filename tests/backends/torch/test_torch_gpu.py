"""The same shape and parity checks on CUDA (TF32 off for fp32 parity); skipped without a GPU."""

from __future__ import annotations

import pytest
from conftest import example_input, randomise

import archspec
from archspec import api

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture(autouse=True)
def _no_tf32():
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_cuda_shapes_and_params(spec_path):
    report = api.shapes(spec_path)
    model = archspec.build(spec_path).eval().to("cuda")
    with torch.no_grad():
        out = model(example_input(report).to("cuda"))
    assert tuple(out.shape) == tuple(2 if isinstance(d, str) else d for d in report.output.shape)
    assert sum(p.numel() for p in model.parameters()) == report.total_params


def test_cuda_matches_cpu(spec_path):
    report = api.shapes(spec_path)
    model = archspec.build(spec_path).eval()
    randomise(model)
    x = example_input(report)
    with torch.no_grad():
        cpu = model(x)
        gpu = model.to("cuda")(x.to("cuda")).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-4, atol=1e-4)


def test_cuda_seed_001_parity():
    from test_torch_seed_parity import SPEC, _canonical_to_seed
    from torch_seed_001 import InceptionNetSmall

    compiled = archspec.build(SPEC)
    seed = InceptionNetSmall()
    randomise(compiled, seed=5)
    mapping = _canonical_to_seed(compiled, seed)
    state = compiled.state_dict()
    seed.load_state_dict({mapping[k]: state[k] for k in mapping}, strict=False)
    compiled, seed = compiled.eval().cuda(), seed.eval().cuda()
    x = torch.randn(4, 3, 32, 32, device="cuda")
    with torch.no_grad():
        assert torch.equal(compiled(x), seed(x))
