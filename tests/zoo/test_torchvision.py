"""The zoo specs against torchvision's own models: torchvision's state dict loads by name
(``strict=True``) into the module compiled from the spec, and both compute the same thing.

torchvision builds the reference (random weights from its constructor; nothing is downloaded);
its BatchNorm scales and shifts are then drawn at random and its running statistics taken from a
batch of random images, so that no two norms are alike and a swapped pair cannot pass. Both torch
modules run the same ops in the same order, so eval outputs, the train-mode output and the
updated running statistics are compared with ``torch.equal``. The same weights as a canonical
safetensors file (the state dict less ``num_batches_tracked`` and Swin's relative-position
index) build the flax and onnx modules,
which agree with torchvision within archspec parity's convention:
``max|ours - theirs| <= atol + rtol * max|theirs|``, both 1e-4.

The input is 64x64 instead of 224x224 to keep the tests fast: every classifier ends in global
average pooling, so nothing but the spatial sizes changes; DeepLabV3's scores are 64x64 too (its
features 4x4, its image pooling branch 1x1).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from references import torchvision

import archspec
from archspec.parity import compare
from archspec.weights import is_canonical

torch = pytest.importorskip("torch")

SPECS = Path(__file__).resolve().parents[2] / "specs"
INPUT = [2, 3, 64, 64]  # a batch of two: train-mode BatchNorm needs more than one value per channel
TOLERANCE = 1e-4  # archspec parity's default atol and rtol


#: A small ViT: the spec's params and VisionTransformer's arguments share these names.
SMALL_VIT = (
    ("image_size", INPUT[-1]),
    ("patch_size", 16),
    ("num_layers", 2),
    ("num_heads", 4),
    ("hidden_dim", 64),
    ("mlp_dim", 128),
)


#: A small Swin: the spec's params against SwinTransformer's arguments (lists where torchvision
#: takes one size per axis). At 64x64 the stages are 16x16 and 8x8 maps of 4x4 windows, so every
#: second block's windows are shifted (and masked) in both stages.
SMALL_SWIN = (("embed_dim", 24), ("depths", (2, 2)), ("num_heads", (2, 4)))
SMALL_SWIN_SPEC = (*SMALL_SWIN, ("patch_size", 4), ("window_size", 4), ("classes", 10))
SMALL_SWIN_REFERENCE = (*SMALL_SWIN, ("patch_size", (4, 4)), ("window_size", (4, 4)), ("num_classes", 10))


@dataclass(frozen=True)
class Zoo:
    """A spec (with params set) and the torchvision.models constructor it transcribes."""

    spec: str
    reference: str  # a name in torchvision.models, dotted below it: segmentation.deeplabv3_...
    params: tuple[tuple[str, Any], ...] = ()  # the spec's params that are set (hashable: tuples for lists)
    reference_kwargs: tuple[tuple[str, Any], ...] = ()  # the constructor's arguments
    label: str = ""  # the test id, where another entry already goes by the reference's name
    #: Whether the state dict lists its keys in torchvision's order too: a spec's steps are in the
    #: order they run, and torchvision's Swin PatchMerging makes its reduction before its norm.
    key_order: bool = True

    def __str__(self) -> str:
        return self.label or self.reference


ZOO = [
    Zoo("resnet18", "resnet18"),
    Zoo("resnet18", "resnet34", params=(("layers", (3, 4, 6, 3)),)),
    Zoo("resnet50", "resnet50"),
    Zoo("resnext50_32x4d", "resnext50_32x4d"),
    Zoo("mobilenet_v2", "mobilenet_v2"),
    Zoo("mobilenet_v3_small", "mobilenet_v3_small"),
    Zoo("densenet121", "densenet121"),  # no dropout (torchvision's drop_rate=0)
    # archspec's StochasticDepth draws its per-sample mask as torchvision's does, so even the
    # train step with torchvision's drop probabilities is identical under one seed
    Zoo("efficientnet_b0", "efficientnet_b0"),
    # no BatchNorm; the train step draws the classifier's dropout mask as torchvision does (same seed)
    Zoo("squeezenet1_1", "squeezenet1_1"),
    Zoo(
        "squeezenet1_1",
        "squeezenet1_1",
        params=(("classes", 10),),
        reference_kwargs=(("num_classes", 10),),
        label="squeezenet1_1-10-classes",
    ),
    Zoo("shufflenet_v2_x1_0", "shufflenet_v2_x1_0"),
    Zoo("regnet_y_400mf", "regnet_y_400mf"),  # blocks named block1-0, ... (added by name)
    # layer norms and layer scales, no BatchNorm; stochastic depth as for efficientnet_b0: the same
    # masks under one seed, with torchvision's probabilities (0.1 at the last block)
    Zoo("convnext_tiny", "convnext_tiny"),
    # ViT-B/16's structure at 64x64 (16 patches), two encoder blocks of width 64: torchvision's
    # VisionTransformer class with the same arguments (vit_b_16() itself is held to the parameter
    # count and the strict load below); dropout p=0 as in vit_b_16(), so the train step is exact too
    Zoo(
        "vit_b_16",
        "VisionTransformer",
        params=(*SMALL_VIT, ("classes", 10)),
        reference_kwargs=(*SMALL_VIT, ("num_classes", 10)),
        label="vit_b_16-small",
    ),
    # Swin-T's structure at 64x64, two stages of two blocks (swin_t() itself is held to the
    # parameter count and the strict load below), stochastic depth rising to swin_t()'s 0.2: the
    # masks are drawn in torchvision's order, so the train step is identical under one seed
    Zoo(
        "swin_t",
        "SwinTransformer",
        params=SMALL_SWIN_SPEC,
        reference_kwargs=(*SMALL_SWIN_REFERENCE, ("stochastic_depth_prob", 0.2)),
        label="swin_t-small",
        key_order=False,
    ),
    # {"out": scores} at the input's size; the train step draws the ASPP projection's dropout
    # mask (p=0.5) as torchvision does (same seed). weights_backbone=None: nothing is downloaded
    Zoo(
        "deeplabv3_mobilenet_v3_large",
        "segmentation.deeplabv3_mobilenet_v3_large",
        reference_kwargs=(("weights", None), ("weights_backbone", None)),
    ),
    # aux_loss=True: FCNHead reads backbone.4 from outside the backbone and returns "aux" beside
    # "out"; the train step draws its dropout mask (p=0.1) after the ASPP's, as torchvision does
    Zoo(
        "deeplabv3_mobilenet_v3_large",
        "segmentation.deeplabv3_mobilenet_v3_large",
        params=(("aux_loss", True),),
        reference_kwargs=(("weights", None), ("weights_backbone", None), ("aux_loss", True)),
        label="deeplabv3_mobilenet_v3_large-aux",
    ),
]
#: The train step once more without stochastic depth (eval mode does not depend on it).
TRAIN_ZOO = [
    *ZOO,
    Zoo(
        "efficientnet_b0",
        "efficientnet_b0",
        params=(("stochastic_depth_prob", 0.0),),
        reference_kwargs=(("stochastic_depth_prob", 0.0),),
        label="efficientnet_b0-no-stochastic-depth",
    ),
    Zoo(
        "convnext_tiny",
        "convnext_tiny",
        params=(("stochastic_depth_prob", 0.0),),
        reference_kwargs=(("stochastic_depth_prob", 0.0),),
        label="convnext_tiny-no-stochastic-depth",
    ),
    # every dropout of the encoder (after the position embedding, in the attention, after it and in
    # the MLPs) draws its mask in torchvision's order, so one seed gives the same train step
    Zoo(
        "vit_b_16",
        "VisionTransformer",
        params=(*SMALL_VIT, ("classes", 10), ("dropout", 0.1), ("attention_dropout", 0.1)),
        reference_kwargs=(*SMALL_VIT, ("num_classes", 10), ("dropout", 0.1), ("attention_dropout", 0.1)),
        label="vit_b_16-small-dropout",
    ),
    Zoo(
        "swin_t",
        "SwinTransformer",
        params=(*SMALL_SWIN_SPEC, ("stochastic_depth_prob", 0.0)),
        reference_kwargs=(*SMALL_SWIN_REFERENCE, ("stochastic_depth_prob", 0.0)),
        label="swin_t-small-no-stochastic-depth",
        key_order=False,
    ),
]


def _reference(zoo: Zoo) -> Any:
    """A fresh copy of :func:`_calibrated_reference` (tests change their models' modes and statistics)."""
    return copy.deepcopy(_calibrated_reference(zoo))


@functools.cache
def _calibrated_reference(zoo: Zoo) -> Any:
    """torchvision's model with random BatchNorm scales and shifts, and running statistics taken
    from one batch of random images, so that eval-mode activations keep their scale to the end;
    layer scales (ConvNeXt's) drawn around 1, so that every residual branch shows in the output;
    what torchvision's ViT starts at zero (class token, classification head) drawn at random, as a
    zero head would make every output 0; Swin's relative position biases drawn larger than their
    init (std 0.02), so that a bias gathered from the wrong row shows in every backend's output."""
    torch.manual_seed(0)
    constructor = functools.reduce(getattr, zoo.reference.split("."), torchvision().models)
    model = constructor(**dict(zoo.reference_kwargs))
    generator = torch.Generator().manual_seed(1)
    norms = [module for module in model.modules() if isinstance(module, torch.nn.BatchNorm2d)]
    momenta = [norm.momentum for norm in norms]  # 0.1, or MobileNetV3's 0.01
    with torch.no_grad():
        for norm in norms:
            norm.weight.copy_(0.5 + torch.rand(norm.num_features, generator=generator))
            norm.bias.copy_(0.1 * torch.randn(norm.num_features, generator=generator))
            norm.momentum = 1.0  # the running statistics become this batch's
        for name, parameter in model.named_parameters():
            if name.endswith("layer_scale"):  # ConvNeXt's 1e-6 would let no block's output count
                parameter.copy_(0.5 + torch.rand(parameter.shape, generator=generator))
            elif name == "class_token" or name.startswith("heads.") or name.endswith("position_bias_table"):
                parameter.copy_(torch.randn(parameter.shape, generator=generator))  # ViT's zeros, Swin's 0.02s
        model.train()(torch.randn([4, *INPUT[1:]], generator=generator))
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    return model


def _compiled(zoo: Zoo, backend: str = "torch", weights: Path | None = None) -> Any:
    params = {name: list(value) if isinstance(value, tuple) else value for name, value in zoo.params}
    return archspec.build(SPECS / f"{zoo.spec}.yaml", backend, weights, input_shape=INPUT, params=params or None)


def _input() -> Any:
    return torch.randn(INPUT, generator=torch.Generator().manual_seed(2))


def _canonical(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if is_canonical(k)}


def _outputs(output: Any) -> dict[str, Any]:
    """A model's outputs by name: a classifier's one tensor, or a segmentation model's dict."""
    return dict(output) if isinstance(output, dict) else {"output": output}


@pytest.mark.parametrize("zoo", ZOO, ids=str)
def test_the_state_dict_keys_are_torchvisions(zoo: Zoo) -> None:
    reference, ours = _reference(zoo), _compiled(zoo)
    keys = list if zoo.key_order else sorted
    assert keys(_canonical(ours.state_dict())) == keys(_canonical(reference.state_dict()))
    assert ours.load_state_dict(reference.state_dict(), strict=True)  # no missing or unexpected keys
    # archspec's canonical weights leave torch's bookkeeping out; torch loads them strictly as well
    assert ours.load_state_dict(_canonical(reference.state_dict()), strict=True)


@pytest.mark.parametrize("zoo", ZOO, ids=str)
def test_eval_outputs_are_identical(zoo: Zoo) -> None:
    reference, ours = _reference(zoo).eval(), _compiled(zoo).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = _input()
    with torch.inference_mode():
        theirs, mine = _outputs(reference(x)), _outputs(ours(x))
    assert mine.keys() == theirs.keys()
    for name, output in theirs.items():
        assert torch.equal(mine[name], output)
        assert (output[0] - output[1]).abs().max() > 1e-2 * output.abs().max()  # the input reaches the output
    if zoo.reference.startswith("segmentation."):  # torchvision's 21 scores per pixel, at the input's size
        assert all(output.shape == (2, 21, *INPUT[2:]) for output in theirs.values())
    else:
        assert theirs["output"].shape == (2, dict(zoo.params).get("classes", 1000))


@pytest.mark.parametrize("zoo", TRAIN_ZOO, ids=str)
def test_a_train_step_is_identical(zoo: Zoo) -> None:
    """Train mode: batch statistics, the dropout and stochastic-depth masks, the running-statistic updates."""
    reference, ours = _reference(zoo).train(), _compiled(zoo).train()
    ours.load_state_dict(reference.state_dict(), strict=True)
    before = {k: v.clone() for k, v in reference.state_dict().items()}
    x = _input()
    outputs = []
    for model in (reference, ours):
        torch.manual_seed(3)
        with torch.no_grad():
            outputs.append(_outputs(model(x)))
    theirs_out, mine_out = outputs
    assert mine_out.keys() == theirs_out.keys()
    assert all(torch.equal(mine_out[name], output) for name, output in theirs_out.items())
    theirs, mine = reference.state_dict(), ours.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in theirs)
    moved = [k for k in theirs if k.endswith("running_mean") and not torch.equal(theirs[k], before[k])]
    assert len(moved) == sum(k.endswith("running_mean") for k in theirs)  # every norm took a step


@pytest.mark.parametrize("backend", ["flax", "onnx"])
@pytest.mark.parametrize("zoo", ZOO, ids=str)
def test_torchvisions_weights_build_every_backend(zoo: Zoo, backend: str, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    if backend == "flax":
        pytest.importorskip("flax")
    else:
        pytest.importorskip("onnxruntime")
    reference = _reference(zoo).eval()
    weights = tmp_path / f"{zoo.spec}.safetensors"
    save_file({k: v.contiguous() for k, v in _canonical(reference.state_dict()).items()}, str(weights))
    model = _compiled(zoo, backend, weights)
    if backend == "flax":
        model.eval()
    x = _input()
    with torch.inference_mode():
        theirs = {name: output.numpy() for name, output in _outputs(reference(x)).items()}
    if backend == "flax":  # one compiled program: op-by-op, every op of a new shape compiles on its own
        from flax import nnx

        mine = _outputs(nnx.jit(lambda module, x: module(x))(model, x.numpy()))
    else:
        mine = _outputs(model(x.numpy()))
    assert mine.keys() == theirs.keys()
    for name, output in theirs.items():
        diff, rel, ok = compare(output, mine[name], TOLERANCE, TOLERANCE)
        assert ok, f"{zoo.spec} on {backend}, {name}: max abs difference {diff:.3g}, relative {rel:.3g}"


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_deeplabv3_serves_inputs_of_other_sizes_as_torchvision_does(backend: str, tmp_path: Path) -> None:
    """torchvision's DeepLab resizes its scores, and its ASPP's image pooling, to the size of the
    input it is given (``F.interpolate(x, size=input_shape)``); the spec writes those sizes as its
    input's (``size=[input.shape[2], input.shape[3]]``), so the compiled network, built for
    INPUT's size, serves a larger, non-square input as torchvision does."""
    from safetensors.torch import save_file

    zoo = next(z for z in ZOO if z.label == "deeplabv3_mobilenet_v3_large-aux")
    reference = _reference(zoo).eval()
    x = torch.randn([2, 3, 72, 104], generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        theirs = _outputs(reference(x))
    assert all(output.shape == (2, 21, 72, 104) for output in theirs.values())
    if backend == "torch":
        ours = _compiled(zoo).eval()
        ours.load_state_dict(reference.state_dict(), strict=True)
        with torch.inference_mode():
            mine = _outputs(ours(x))
        assert all(torch.equal(mine[name], output) for name, output in theirs.items())
        return
    pytest.importorskip("flax")
    weights = tmp_path / "deeplab.safetensors"
    save_file({k: v.contiguous() for k, v in _canonical(reference.state_dict()).items()}, str(weights))
    model = _compiled(zoo, "flax", weights)
    model.eval()
    outputs = _outputs(model(x.numpy()))
    for name, output in theirs.items():
        diff, rel, ok = compare(output.numpy(), outputs[name], TOLERANCE, TOLERANCE)
        assert ok, f"flax, {name}: max abs difference {diff:.3g}, relative {rel:.3g}"


def test_vit_b_16_loads_torchvisions_full_size_state_dict() -> None:
    """The zoo entry above is a small ViT; vit_b_16() itself has the same names at full size."""
    torch.manual_seed(0)
    reference = torchvision().models.vit_b_16()
    ours = archspec.build(SPECS / "vit_b_16.yaml", "torch", input_shape=[1, 3, 224, 224])
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert ours.load_state_dict(reference.state_dict(), strict=True)
    assert sum(p.numel() for p in ours.parameters()) == 86_567_656


def test_deeplabv3_with_aux_loss_has_torchvisions_parameter_count() -> None:
    """11,025,477 without the auxiliary head, and FCNHead(40, 21)'s 3,851 parameters with it."""
    counts = {}
    for aux_loss in (False, True):
        torch.manual_seed(0)
        reference = torchvision().models.segmentation.deeplabv3_mobilenet_v3_large(
            weights=None, weights_backbone=None, aux_loss=aux_loss
        )
        ours = archspec.build(
            SPECS / "deeplabv3_mobilenet_v3_large.yaml", "torch", input_shape=INPUT, aux_loss=aux_loss
        )
        counts[aux_loss] = sum(p.numel() for p in ours.parameters())
        assert counts[aux_loss] == sum(p.numel() for p in reference.parameters())
    assert counts == {False: 11_025_477, True: 11_029_328}


def test_swin_t_loads_torchvisions_full_size_state_dict() -> None:
    """The zoo entry above is a small Swin; swin_t() itself has the same names at full size."""
    torch.manual_seed(0)
    reference = torchvision().models.swin_t()
    ours = archspec.build(SPECS / "swin_t.yaml", "torch", input_shape=[1, 3, 224, 224])
    assert sorted(ours.state_dict()) == sorted(reference.state_dict())
    assert ours.load_state_dict(reference.state_dict(), strict=True)
    assert sum(p.numel() for p in ours.parameters()) == 28_288_354


@pytest.mark.parametrize(
    ("spec", "params", "reference"),
    [
        ("swin_t", {"depths": [2, 2, 18, 2]}, "swin_s"),
        ("swin_t", {"embed_dim": 128, "depths": [2, 2, 18, 2], "num_heads": [4, 8, 16, 32]}, "swin_b"),
        ("resnext50_32x4d", {"width_per_group": 8, "layers": [3, 4, 23, 3]}, "resnext101_32x8d"),
        ("resnext50_32x4d", {"groups": 1, "width_per_group": 128}, "wide_resnet50_2"),
        ("regnet_y_400mf", {"stages": [[64, 2, 1, 16, 1.0], [144, 2, 2, 16, 1.0]]}, None),
        ("densenet121", {"block_config": [6, 12, 32, 32]}, "densenet169"),
        ("densenet121", {"growth_rate": 48, "block_config": [6, 12, 36, 24], "num_init_features": 96}, "densenet161"),
        ("shufflenet_v2_x1_0", {"stages_out_channels": [24, 48, 96, 192, 1024]}, "shufflenet_v2_x0_5"),
        ("shufflenet_v2_x1_0", {"stages_out_channels": [24, 244, 488, 976, 2048]}, "shufflenet_v2_x2_0"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_compiled_network_class_is_torchvisions_sibling_with_its_params(
    spec: str, params: dict[str, Any], reference: str | None
) -> None:
    """The emitted network class takes the spec's params, so constructing it with torchvision's
    settings for a sibling network gives that network: its state dict loads strictly, same
    parameter count (a RegNet table of another shape: the same as ``archspec.build`` with it)."""
    from archspec.codegen import load_source

    emitted = archspec.emit(SPECS / f"{spec}.yaml")
    ours = getattr(load_source(emitted), emitted.entry)(**params)
    expected = (
        getattr(torchvision().models, reference)()
        if reference is not None
        else archspec.build(SPECS / f"{spec}.yaml", "torch", params=params)
    )
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in expected.parameters())
    assert ours.load_state_dict(expected.state_dict(), strict=True)
