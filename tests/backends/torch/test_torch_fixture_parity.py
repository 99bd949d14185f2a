"""Each compiled spec computes exactly what its hand-written PyTorch twin computes.

The twins live in fixtures/ (see ``torch_handwritten``): seed 001's InceptionNet as the
tutorial typed it, hand ports of seed 002's GoogLeNet and seed 003's LeNet-BN from Gluon, and
ResNet-18 and MobileNetV2 in torchvision's style. One seeded canonical safetensors file per
spec is loaded into the module compiled from the spec (``archspec.build(..., weights=)``) and,
renamed, into the twin. Both run the same ops in the same order, so outputs, gradients and the
updated running statistics are compared with ``torch.equal``: no tolerance.

ResNet-18 and MobileNetV2 run at 64x64 instead of 224x224 to keep the tests fast; both end in
global average pooling, so nothing but the spatial sizes changes.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from archspec_torch import canonical_state  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from torch_handwritten import HANDWRITTEN  # noqa: E402
from torch_support import twin_input, twins  # noqa: E402


@pytest.mark.parametrize("name", list(HANDWRITTEN))
def test_eval_outputs_are_identical(name, canonical_files):
    compiled, handwritten, _ = twins(name, canonical_files(name))
    compiled.eval()
    handwritten.eval()
    x = twin_input(name)
    with torch.inference_mode():
        ours, theirs = compiled(x), handwritten(x)
    assert torch.equal(ours, theirs)
    assert (ours[0] - ours[1]).abs().max() > 1e-2 * ours.abs().max()  # the input reaches the output


@pytest.mark.parametrize("name", list(HANDWRITTEN))
def test_train_step_is_identical(name, canonical_files):
    """Train mode: batch statistics, dropout masks, gradients and running-statistic updates."""
    compiled, handwritten, mapping = twins(name, canonical_files(name))
    compiled.train()
    handwritten.train()
    x = twin_input(name)
    outputs = []
    for model in (compiled, handwritten):
        torch.manual_seed(3)  # the same dropout masks (mobilenet_v2's classifier)
        out = model(x)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        outputs.append(out.detach())
    assert torch.equal(*outputs)
    ours, theirs = dict(compiled.named_parameters()), dict(handwritten.named_parameters())
    assert all(torch.equal(ours[k].grad, theirs[mapping[k]].grad) for k in ours)
    after, theirs_after = canonical_state(compiled), handwritten.state_dict()
    moved = [k for k in after if k.endswith("running_mean")]
    assert all(torch.equal(after[k], theirs_after[mapping[k]]) for k in after)
    if moved:  # the statistics did move (and moved the same way)
        assert not torch.equal(after[moved[0]], load_file(str(canonical_files(name)))[moved[0]])
