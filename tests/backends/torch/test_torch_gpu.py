"""The same shape and parity checks on CUDA (TF32 off for fp32 parity); skipped without a GPU."""

from __future__ import annotations

import pytest
from torch_support import example_input, randomise, twin_input, twins

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


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("name", ["inception_small", "googlenet", "resnet18", "mobilenet_v2"])
def test_cuda_matches_the_handwritten_twin(name, mode, canonical_files):
    """test_torch_fixture_parity's comparison on CUDA: same canonical weights, identical outputs."""
    compiled, handwritten, _ = twins(name, canonical_files(name))
    compiled, handwritten = getattr(compiled, mode)().cuda(), getattr(handwritten, mode)().cuda()
    x = twin_input(name).cuda()
    outputs = []
    for model in (compiled, handwritten):
        torch.manual_seed(3)
        with torch.no_grad():
            outputs.append(model(x))
    assert torch.equal(*outputs)


def test_cuda_channels_last_and_autocast():
    report = api.shapes("specs/resnet18.yaml")
    model = archspec.build("specs/resnet18.yaml").eval().cuda()
    x = example_input(report).cuda()
    with torch.no_grad():
        reference = model(x)
        last = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
        with torch.autocast("cuda", dtype=torch.float16):
            half = model(x)
    torch.testing.assert_close(last, reference, rtol=1e-4, atol=1e-4)
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.float(), reference, rtol=5e-2, atol=5e-2)
