"""Activations run in place exactly where hand-written PyTorch would put ``inplace=True`` safely."""

from __future__ import annotations

import numpy as np
import pytest

import archspec

torch = pytest.importorskip("torch")
from archspec_torch import backend  # noqa: E402

#: torch's activation modules with an ``inplace`` option that archspec's ops lower to.
IN_PLACE_CAPABLE = (torch.nn.ReLU, torch.nn.ReLU6, torch.nn.SiLU, torch.nn.Hardswish, torch.nn.Hardsigmoid)


def _inplace(model) -> dict[str, bool]:
    """Path -> whether that activation runs in place."""
    return {name: module.inplace for name, module in model.named_modules() if isinstance(module, IN_PLACE_CAPABLE)}


def test_after_conv_batchnorm_add_and_concat_the_relu_is_in_place():
    resnet = _inplace(archspec.build("specs/resnet18.yaml"))
    assert resnet["relu"] and resnet["layer1.0.relu"] and resnet["layer1.0.out"]  # after bn, bn, add
    assert all(_inplace(archspec.build("specs/mobilenet_v2.yaml")).values())
    assert all(_inplace(archspec.build("specs/googlenet.yaml")).values())
    for merge in ("concat", "add", "mul"):
        network = [{merge: ["conv(2, 1)", "identity"]}, "relu"]
        spec = {"archspec": 1, "name": "m", "input": ["N", 2, 4, 4], "network": network}
        assert _inplace(archspec.build(spec)) == {"1": True}


@pytest.mark.parametrize("activation", ["relu6", "silu", "hardswish", "hardsigmoid"])
def test_every_activation_with_an_inplace_option_uses_it_after_a_norm(activation):
    spec = {"archspec": 1, "name": "m", "input": ["N", 2, 4, 4], "network": ["conv(2, 1)", "batchnorm", activation]}
    assert _inplace(archspec.build(spec)) == {"2": True}


def test_the_activations_of_efficientnet_and_mobilenet_v3_run_in_place():
    """EfficientNet-B0's SiLUs and MobileNetV3's hardswishes after a BatchNorm run in place, as in
    torchvision's Conv2dNormActivation (the benchmarks/bench_zoo.py target depends on it), and so do
    the activations after the squeeze-and-excitation gates' 1x1 convolutions."""
    efficientnet = _inplace(archspec.build("specs/efficientnet_b0.yaml"))
    assert efficientnet["features.0.2"] and efficientnet["features.1.0.block.0.2"]
    assert efficientnet["features.1.0.block.1.activation"]  # after the gate's first 1x1 conv
    mobilenet = _inplace(archspec.build("specs/mobilenet_v3_small.yaml"))
    assert mobilenet["features.0.2"] and mobilenet["features.4.block.0.2"]  # hardswish after bn
    assert mobilenet["features.1.block.1.scale_activation"]  # hardsigmoid after the gate's conv


@pytest.mark.parametrize(
    "network",
    [
        ["relu"],  # the caller's tensor
        [{"concat": ["relu", "conv(2, 1)"]}],  # an input two branches read
        ["conv(2, 1)", "sigmoid", "relu"],  # sigmoid's backward reads its output
        ["conv(2, 1)", "sigmoid", "silu"],
        ["conv(2, 1)", "relu", "hardswish"],  # relu's too
        [{"concat": ["hardsigmoid", "conv(2, 1)"]}],
        ["conv(2, 1)", "identity", "relu"],  # identity returns its input itself
        ["conv(2, 1)", "dropout(0.5)", "relu"],  # so does dropout in eval mode
        ["conv(2, 1)", "relu", "relu"],  # relu's backward reads its output
        [{"add": ["identity"]}, "relu"],  # a merge of one branch is that branch: here the caller's tensor
        [{"mul": ["identity"]}, "relu"],
    ],
)
def test_never_in_place_on_a_tensor_someone_else_reads(network):
    spec = {"archspec": 1, "name": "n", "input": ["N", 2, 4, 4], "network": network}
    model = archspec.build(spec)
    assert not list(_inplace(model).values())[-1]  # the last ReLU, the one reading a shared tensor
    x = torch.randn(3, 2, 4, 4, requires_grad=True)
    before = x.detach().clone()
    model.train()(x).sum().backward()  # autograd would refuse an unsafe in-place write
    assert torch.equal(x.detach(), before)


def test_run_captures_the_output_before_an_in_place_relu_overwrites_it():
    model = archspec.build("specs/resnet18.yaml")
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    result = backend.run(model, x, capture=["bn1", "relu"])
    assert (result.captured["bn1"] < 0).any()
    assert np.array_equal(result.captured["relu"], np.maximum(result.captured["bn1"], 0))
