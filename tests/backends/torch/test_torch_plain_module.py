"""The compiled module is used like any hand-written one: channels_last, autocast, DDP, deepcopy.

Where the hand-written twin (fixtures/) can run the same thing, the compiled module must give
its exact result; against its own float32, contiguous result it must stay close. ``.to("cuda")``
is in test_torch_gpu.py.
"""

from __future__ import annotations

import copy

import pytest

import archspec

torch = pytest.importorskip("torch")
from torch_support import twin_input, twins  # noqa: E402


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "googlenet"])
def test_channels_last_gives_the_twins_outputs(name, canonical_files):
    compiled, handwritten, _ = twins(name, canonical_files(name))
    x = twin_input(name)
    with torch.inference_mode():
        contiguous = compiled.eval()(x)
        x_last = x.to(memory_format=torch.channels_last)
        compiled = compiled.to(memory_format=torch.channels_last)
        handwritten = handwritten.eval().to(memory_format=torch.channels_last)
        conv = next(m for m in compiled.modules() if isinstance(m, torch.nn.Conv2d))
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)
        last = compiled(x_last)
        assert torch.equal(last, handwritten(x_last))
    error = (last - contiguous).abs().max() / contiguous.abs().max()
    assert error < 1e-5, f"channels_last is {error:.1e} of the output scale away"  # other conv kernels


@pytest.mark.parametrize("name", ["resnet18", "inception_small"])
def test_cpu_autocast_bfloat16_runs_and_stays_close(name, canonical_files):
    compiled, handwritten, _ = twins(name, canonical_files(name))
    compiled.eval()
    handwritten.eval()
    x = twin_input(name)
    with torch.inference_mode():
        reference = compiled(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = compiled(x)
            assert torch.equal(low, handwritten(x))
    assert low.dtype == torch.bfloat16  # the final linear ran in bfloat16
    error = (low.float() - reference).abs().max() / reference.abs().max()
    assert error < 0.05, f"bfloat16 is {error:.3f} of the output scale away from float32"


def test_single_process_ddp_trains_one_step_like_the_bare_module(tmp_path, canonical_files):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    model = archspec.build("specs/inception_small.yaml", weights=canonical_files("inception_small")).train()
    bare = copy.deepcopy(model)  # generated classes deep-copy (and pickle) like any others
    x = twin_input("inception_small", batch=4)
    target = torch.tensor([0, 3, 7, 9])
    dist.init_process_group("gloo", store=dist.FileStore(str(tmp_path / "store"), 1), rank=0, world_size=1)
    try:
        ddp = DistributedDataParallel(model)
        for net, params in ((ddp, model.parameters()), (bare, bare.parameters())):
            optimiser = torch.optim.SGD(params, lr=0.1)
            torch.nn.functional.cross_entropy(net(x), target).backward()
            optimiser.step()
    finally:
        dist.destroy_process_group()
    stepped = dict(model.state_dict())
    assert stepped.keys() == bare.state_dict().keys()
    for key, value in bare.state_dict().items():  # one process: DDP's all-reduce averages over 1
        torch.testing.assert_close(stepped[key], value, rtol=0, atol=1e-7, msg=key)
    start = archspec.build("specs/inception_small.yaml", weights=canonical_files("inception_small"))
    assert not torch.equal(stepped["fc.weight"], start.state_dict()["fc.weight"])
