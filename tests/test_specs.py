"""The example specs in ``specs/``: valid against the JSON Schema, passing ``archspec check``,
and equal to the networks they transcribe (parameter counts, shapes, weight names).

Spec files are found by glob, so a new spec (or block library) is tested automatically.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from archspec import api
from archspec.cli.main import app
from archspec.infer import ShapeReport
from archspec.ir import tensor_name

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
ALL_FILES = sorted(SPECS.rglob("*.yaml")) + sorted(SPECS.rglob("*.json"))


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


NETWORKS = [p for p in ALL_FILES if "network" in _load(p)]
LIBRARIES = [p for p in ALL_FILES if p not in NETWORKS]


def _id(path: Path) -> str:
    return str(path.relative_to(SPECS))


def test_specs_are_found() -> None:
    names = {p.stem for p in NETWORKS}
    classics = {"googlenet", "lenet_bn", "alexnet", "vgg11", "nin", "inception_small"}
    zoo = {
        "resnet18",
        "resnet50",
        "resnext50_32x4d",
        "mobilenet_v2",
        "mobilenet_v3_small",
        "efficientnet_b0",
        "densenet121",
        "convnext_tiny",
        "gpt2",
        "vit_b_16",
        "swin_t",
        "deeplabv3_mobilenet_v3_large",
    }
    assert classics | zoo | {"squeezenet1_1", "shufflenet_v2_x1_0", "regnet_y_400mf"} <= names
    assert {"inception", "conv_bn_relu", "vgg_block", "nin_block", "residual", "inverted_residual"} <= {
        p.stem for p in LIBRARIES
    }


# ------------------------------------------------------------------ schema
@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_spec_file_matches_schema(path: Path, validator: jsonschema.protocols.Validator) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(_load(path))]
    assert not errors, "\n".join(errors)


# ------------------------------------------------------------------- check
@pytest.mark.parametrize("path", NETWORKS, ids=_id)
def test_network_passes_check(path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith("ok")


def test_check_all_through_the_entry_point() -> None:
    """``python -m archspec check specs/*.yaml`` as a user runs it: exit 0, one 'ok' per network."""
    result = subprocess.run(
        [sys.executable, "-m", "archspec", "check", *map(str, NETWORKS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok  ") == len(NETWORKS)


@pytest.mark.parametrize("path", LIBRARIES, ids=_id)
def test_block_library_is_used(path: Path) -> None:
    """Every library is used by some network spec, so `check` exercises its blocks."""
    users = [
        spec
        for spec in [*NETWORKS, *LIBRARIES]
        if any((spec.parent / rel).resolve() == path.resolve() for rel in _load(spec).get("use", []))
    ]
    assert users, f"no spec uses {_id(path)}"


# ------------------------------------------------------ published numbers
def test_resnet18_matches_torchvision() -> None:
    report = api.shapes(SPECS / "resnet18.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 11_689_512  # torchvision.models.resnet18().parameters()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 1.81  # torchvision's documented GFLOPS (mult-adds)
    # each basic block decides its own projection: where it strides (layer1 keeps 64 channels)
    downsampled = [n.name for n in report.graph.nodes if n.name.endswith(".downsample.0")]
    assert downsampled == [f"layer{i}.0.downsample.0" for i in range(2, 5)]


def test_resnet34_by_setting_layers() -> None:
    report = api.shapes(SPECS / "resnet18.yaml", {"layers": [3, 4, 6, 3]})
    assert report.total_params == 21_797_672  # torchvision.models.resnet34()


def test_resnet50_matches_torchvision() -> None:
    report = api.shapes(SPECS / "resnet50.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 25_557_032  # torchvision.models.resnet50().parameters()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 4.09  # torchvision's documented GFLOPS (mult-adds)
    # every layer's first block has the downsample (channels change: 64 -> 256 in layer1 too)
    graph = report.graph
    assert [n.name for n in graph.nodes if n.name.endswith(".downsample.0")] == [
        f"layer{i}.0.downsample.0" for i in range(1, 5)
    ]


def test_resnext50_32x4d_matches_torchvision() -> None:
    report = api.shapes(SPECS / "resnext50_32x4d.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 25_028_904  # torchvision.models.resnext50_32x4d()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 4.23  # torchvision's documented GFLOPS (mult-adds)
    # torchvision's width = int(planes * (base_width / 64.0)) * groups: twice ResNet-50's planes,
    # in 32 groups, in every block's 1x1 reduction and 3x3
    convs = {n.name: n.op for n in report.graph.nodes if n.op_name == "conv"}
    assert [(convs[f"layer{i}.0.conv2"].out_channels, convs[f"layer{i}.0.conv2"].groups) for i in range(1, 5)] == [
        (128, 32),
        (256, 32),
        (512, 32),
        (1024, 32),
    ]
    assert convs["layer3.5.conv1"].out_channels == 512


def test_resnext101_32x8d_by_setting_layers_and_width() -> None:
    report = api.shapes(SPECS / "resnext50_32x4d.yaml", {"layers": [3, 4, 23, 3], "width_per_group": 8})
    assert report.total_params == 88_791_336  # torchvision.models.resnext101_32x8d()


def test_mobilenet_v2_matches_torchvision() -> None:
    report = api.shapes(SPECS / "mobilenet_v2.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 3_504_872  # torchvision.models.mobilenet_v2()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 0.30  # torchvision's documented GFLOPS (mult-adds)
    # 17 inverted residual blocks, 10 of them with the residual sum (stride 1, in == out).
    graph = report.graph
    assert sum(node.op_name == "add" for node in graph.nodes) == 10
    depthwise = [node for node in graph.nodes if node.op_name == "conv" and node.op.groups > 1]
    assert len(depthwise) == 17


def test_mobilenet_v3_small_matches_torchvision() -> None:
    report = api.shapes(SPECS / "mobilenet_v3_small.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 2_542_856  # torchvision.models.mobilenet_v3_small()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 3) == 0.057  # torchvision's documented GFLOPS (mult-adds)
    # 11 inverted residual blocks: 9 with squeeze-and-excitation, 6 with the residual sum
    # (stride 1, in == out), and the expansion left out of the first (16 -> 16 channels).
    graph = report.graph
    assert sum(node.op_name == "mul" for node in graph.nodes) == 9
    assert sum(node.op_name == "add" for node in graph.nodes) == 6
    assert [n.name for n in graph.nodes if n.name.startswith("features.1.block.0.")] == [
        "features.1.block.0.0",
        "features.1.block.0.1",
        "features.1.block.0.2",
    ]  # the depthwise convolution, its norm and ReLU
    squeezed = {n.name: n.op.out_channels for n in graph.nodes if n.name.endswith(".fc1")}
    assert squeezed["features.7.block.2.fc1"] == 32  # torchvision's _make_divisible(120 // 4, 8)


def test_deeplabv3_mobilenet_v3_large_matches_torchvision() -> None:
    report = api.shapes(SPECS / "deeplabv3_mobilenet_v3_large.yaml", input_shape=[1, 3, 520, 520])
    # torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(num_classes=21): no aux head
    assert report.total_params == 11_025_477
    assert tuple(report.output.shape) == (1, 21, 520, 520)  # scores at the input's size
    # the dilated last stage keeps the features at a sixteenth of the input (33x33 of 520x520)
    assert tuple(report.info["backbone.16.2"].output.shape) == (1, 960, 33, 33)  # its last hardswish
    convs = [n for n in report.graph.nodes if n.name.startswith("classifier.0.convs.") and n.op_name == "conv"]
    assert [n.name for n in convs] == [
        "classifier.0.convs.0.0",
        "classifier.0.convs.1.0",
        "classifier.0.convs.2.0",
        "classifier.0.convs.3.0",
        "classifier.0.convs.4.1",
    ]  # ASPP's numbered branches; the image pooling branch pools first
    assert [n.op.dilation for n in convs] == [(1, 1), (12, 12), (24, 24), (36, 36), (1, 1)]


def test_mobilenet_v3_squeeze_channels_round_as_torchvisions_make_divisible() -> None:
    """A quarter of 44 or 108 channels (11, 27) rounds down to under 90% of itself (8, 24), which
    torchvision's _make_divisible corrects to the next multiple of 8 (16, 32)."""
    setting = [[3, expanded, 16, True, "RE", 1, 1] for expanded in (44, 108, 240)]
    report = api.shapes(SPECS / "mobilenet_v3_small.yaml", {"inverted_residual_setting": setting})
    squeezed = [n.op.out_channels for n in report.graph.nodes if n.name.endswith(".fc1")]
    assert squeezed == [16, 32, 64]


def test_efficientnet_b0_matches_torchvision() -> None:
    report = api.shapes(SPECS / "efficientnet_b0.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 5_288_548  # torchvision.models.efficientnet_b0()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 3) == 0.386  # torchvision's documented GFLOPS (mult-adds)
    # 16 MBConv blocks in 7 stages, each with squeeze-and-excitation; the 9 with the residual sum
    # drop their branch with torchvision's probability 0.2 * (block index) / 16
    graph = report.graph
    assert sum(node.op_name == "mul" for node in graph.nodes) == 16
    dropped = {n.name.removesuffix(".stochastic_depth"): n.op.p for n in graph.nodes if n.op_name == "drop_path"}
    stages = [1, 2, 2, 3, 3, 4, 1]
    blocks = [f"features.{s + 1}.{i}" for s, n in enumerate(stages) for i in range(n)]
    residual = {"features.2.1", "features.3.1", "features.4.1", "features.4.2", "features.5.1", "features.5.2"}
    residual |= {"features.6.1", "features.6.2", "features.6.3"}
    assert dropped == {name: 0.2 * index / 16 for index, name in enumerate(blocks) if name in residual}


def test_convnext_tiny_matches_torchvision() -> None:
    report = api.shapes(SPECS / "convnext_tiny.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 28_589_128  # torchvision.models.convnext_tiny()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 4.47  # torchinfo mult-adds; torchvision documents 4.46 GFLOPS
    graph = report.graph
    # the layer scale is each block's own [C, 1, 1] tensor, named as torchvision's CNBlock.layer_scale
    scales = {n.name: report.info[n.name].params[""] for n in graph.nodes if n.op_name == "param"}
    blocks = [f"features.{2 * s + 1}.{i}" for s, n in enumerate([3, 3, 9, 3]) for i in range(n)]
    channels = [96] * 3 + [192] * 3 + [384] * 9 + [768] * 3
    assert scales == {f"{b}.layer_scale": (c, 1, 1) for b, c in zip(blocks, channels, strict=True)}
    # stochastic depth rises linearly over the 18 blocks, from 0 to 0.1 (torchvision's sd_prob)
    dropped = {n.name.removesuffix(".stochastic_depth"): n.op.p for n in graph.nodes if n.op_name == "drop_path"}
    assert dropped == pytest.approx({name: 0.1 * index / 17 for index, name in enumerate(blocks)})


def test_squeezenet1_1_matches_torchvision() -> None:
    report = api.shapes(SPECS / "squeezenet1_1.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 1_235_496  # torchvision.models.squeezenet1_1()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 0.35  # torchvision's documented GFLOPS (mult-adds)
    # Fire's layers are its own attributes, with no branch level between (features.3.expand3x3)
    assert [n.name for n in report.graph.nodes if n.name.startswith("features.3.") and n.op_name == "conv"] == [
        "features.3.squeeze",
        "features.3.expand1x1",
        "features.3.expand3x3",
    ]


def test_squeezenet1_1_classes_size_the_final_convolution() -> None:
    report = api.shapes(SPECS / "squeezenet1_1.yaml", {"classes": 10}, input_shape=[1, 3, 224, 224])
    assert tuple(report.output.shape) == (1, 10)
    assert report.info["classifier.1"].params == {"weight": (10, 512, 1, 1), "bias": (10,)}


def test_regnet_y_400mf_matches_torchvision() -> None:
    report = api.shapes(SPECS / "regnet_y_400mf.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 4_344_144  # torchvision.models.regnet_y_400mf()
    assert round(report.total_macs / 1e9, 2) == 0.40  # torchvision's documented GFLOPS (mult-adds)
    # torchvision's AnyStage names its blocks block1-0, block2-0, block2-1, ...
    blocks = {n.name.split(".")[2] for n in report.graph.nodes if n.name.startswith("trunk_output.")}
    assert blocks == {f"block{s}-{i}" for s, depth in enumerate([1, 3, 6, 6], start=1) for i in range(depth)}


def test_shufflenet_v2_x1_0_matches_torchvision() -> None:
    report = api.shapes(SPECS / "shufflenet_v2_x1_0.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 2_278_604  # torchvision.models.shufflenet_v2_x1_0()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 0.14  # torchvision's documented GFLOPS (mult-adds)
    # 16 units: each stage's first has two branches; the 13 others split the channels in two
    graph = report.graph
    assert sum(node.op_name == "channel_shuffle" for node in graph.nodes) == 16
    halves = [(n.name, n.op.index) for n in graph.nodes if n.op_name == "chunk"]
    assert len(halves) == 2 * 13 and halves[:2] == [("stage2.1.x1", 0), ("stage2.1.x2", 1)]
    # torchvision's names: branch1 only where the unit strides, branch2 a Sequential of 8
    weights = {name for name, info in report.info.items() if info.params}
    assert "stage3.0.branch1.0" in weights and not any(w.startswith("stage3.1.branch1") for w in weights)
    assert sorted(w for w in weights if w.startswith("stage3.1.branch2.")) == [
        f"stage3.1.branch2.{i}" for i in (0, 1, 3, 4, 5, 6)
    ]


# --------------------------------------------------- PyTorch transcriptions
def _torch() -> Any:
    return pytest.importorskip("torch")


def _named_params(report: ShapeReport) -> dict[str, tuple[int, ...]]:
    return {
        tensor_name(node, p): tuple(shape) for node, info in report.info.items() for p, shape in info.params.items()
    }


def _named_buffers(report: ShapeReport) -> dict[str, tuple[int, ...]]:
    return {f"{name}.{b}": tuple(shape) for name, info in report.info.items() for b, shape in info.buffers.items()}


def _torch_params(model: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def _torch_buffers(model: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(b.shape) for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")}


def _sequential_shapes(model: Any, x: Any) -> list[tuple[int, ...]]:
    shapes = []
    for layer in model:
        x = layer(x)
        shapes.append(tuple(x.shape))
    return shapes


def _compare_sequential(spec: str, model: Any, input_shape: tuple[int, ...]) -> None:
    """The spec's top-level list is the nn.Sequential layer for layer: names, shapes, counts."""
    torch = _torch()
    report = api.shapes(SPECS / spec, input_shape=list(input_shape))
    assert _named_params(report) == _torch_params(model)
    assert _named_buffers(report) == _torch_buffers(model)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    rows = report.table(1)
    model.eval()
    with torch.no_grad():
        expected = _sequential_shapes(model, torch.zeros(input_shape, device="meta"))
    assert [row.path for row in rows] == [str(i) for i in range(len(model))]
    assert [tuple(row.shape) for row in rows] == expected


def test_lenet_bn_equals_pytorch() -> None:
    torch = _torch()
    nn = torch.nn
    with torch.device("meta"):
        # d2l's LeNet with batch norm (seed 003, concise version), in PyTorch.
        net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
            nn.Linear(84, 10),
        )  # fmt: skip
    assert sum(p.numel() for p in net.parameters()) == 44_878
    _compare_sequential("lenet_bn.yaml", net, (2, 1, 28, 28))


def test_alexnet_equals_pytorch() -> None:
    torch = _torch()
    nn = torch.nn
    with torch.device("meta"):
        # d2l's AlexNet, in PyTorch.
        net = nn.Sequential(
            nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Flatten(),
            nn.Linear(6400, 4096), nn.ReLU(),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096), nn.ReLU(),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 10),
        )  # fmt: skip
    _compare_sequential("alexnet.yaml", net, (1, 1, 224, 224))


def _inception_net() -> Any:
    """Seed 001's InceptionNet, transcribed verbatim (only the style differs)."""
    torch = _torch()
    nn = torch.nn

    def ConvBNRelu(in_channel: int, out_channel: int, kernel_size: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(in_channel, out_channel, kernel_size=kernel_size, stride=1, padding=kernel_size // 2),
            nn.BatchNorm2d(out_channel),
            nn.ReLU(),
        )

    class BaseInception(nn.Module):
        def __init__(self, in_channel: int, out_channel_list: list[int], reduce_channel_list: list[int]) -> None:
            super().__init__()
            self.branch1_conv = ConvBNRelu(in_channel, out_channel_list[0], 1)
            self.branch2_conv1 = ConvBNRelu(in_channel, reduce_channel_list[0], 1)
            self.branch2_conv2 = ConvBNRelu(reduce_channel_list[0], out_channel_list[1], 3)
            self.branch3_conv1 = ConvBNRelu(in_channel, reduce_channel_list[1], 1)
            self.branch3_conv2 = ConvBNRelu(reduce_channel_list[1], out_channel_list[2], 5)
            self.branch4_pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
            self.branch4_conv = ConvBNRelu(in_channel, out_channel_list[3], 3)

        def forward(self, x: Any) -> Any:
            out1 = self.branch1_conv(x)
            out2 = self.branch2_conv2(self.branch2_conv1(x))
            out3 = self.branch3_conv2(self.branch3_conv1(x))
            out4 = self.branch4_conv(self.branch4_pool(x))
            return torch.cat([out1, out2, out3, out4], dim=1)

    class InceptionNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block1 = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU()
            )
            self.block2 = nn.Sequential(
                nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1), nn.BatchNorm2d(128), nn.ReLU()
            )
            self.block3 = nn.Sequential(
                BaseInception(128, [64, 64, 64, 64], [16, 16]), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            )
            self.block4 = nn.Sequential(
                BaseInception(256, [96, 96, 96, 96], [32, 32]), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            )
            self.fc = nn.Linear(384, 10)

        def forward(self, x: Any) -> Any:
            out = self.block1(x)
            out = self.block2(out)
            out = self.block3(out)
            out = self.block4(out)
            out = torch.nn.functional.avg_pool2d(out, 2)
            out = out.view(out.size(0), -1)
            return self.fc(out)

    with torch.device("meta"):
        return InceptionNet()


def test_inception_small_equals_seed_001() -> None:
    torch = _torch()
    net = _inception_net().eval()
    report = api.shapes(SPECS / "inception_small.yaml", input_shape=[2, 3, 32, 32])

    assert report.total_params == sum(p.numel() for p in net.parameters())
    assert report.total_buffers == sum(math.prod(shape) for shape in _torch_buffers(net).values())
    # The same multiset of parameter shapes (names differ: the seed flattens branch names).
    assert sorted(_named_params(report).values()) == sorted(_torch_params(net).values())

    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        getattr(net, name).register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, out.shape))
        for name in ("block1", "block2", "block3", "block4", "fc")
    ]
    with torch.no_grad():
        out = net(torch.zeros(2, 3, 32, 32, device="meta"))
    for hook in hooks:
        hook.remove()
    rows = {row.path: tuple(row.shape) for row in report.table(1)}
    assert list(rows) == ["block1", "block2", "block3", "block4", "avg_pool", "flatten", "fc"]
    for name, shape in shapes.items():
        assert rows[name] == tuple(shape), name
    assert tuple(report.output.shape) == tuple(out.shape) == (2, 10)


def test_gpt2_matches_hugging_face() -> None:
    report = api.shapes(SPECS / "gpt2.yaml", input_shape=[1, 1024])
    assert report.total_params == 124_439_808  # GPT2LMHeadModel(GPT2Config()), lm_head tied to wte
    assert tuple(report.output.shape) == (1, 1024, 50257)
    assert report.info["lm_head"].params == {}  # the tied weight is transformer.wte's, counted there


def test_vit_b_16_matches_torchvision() -> None:
    report = api.shapes(SPECS / "vit_b_16.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 86_567_656  # torchvision.models.vit_b_16()
    assert tuple(report.output.shape) == (1, 1000)
    encoder = {row.path: tuple(row.shape) for row in report.table(1)}["encoder"]
    assert encoder == (1, 14 * 14 + 1, 768)  # the class token and 196 patches
    # the position embedding follows image_size and patch_size
    small = api.shapes(SPECS / "vit_b_16.yaml", {"image_size": 32, "patch_size": 8}, input_shape=[1, 3, 32, 32])
    assert {row.path: tuple(row.shape) for row in small.table(1)}["encoder"] == (1, 4 * 4 + 1, 768)


def test_swin_t_matches_torchvision() -> None:
    report = api.shapes(SPECS / "swin_t.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 28_288_354  # torchvision.models.swin_t()
    assert tuple(report.output.shape) == (1, 1000)
    stages = {row.path: tuple(row.shape) for row in report.table(2)}
    # stage 0 at 56x56 (96 channels), then each patch merging halves the map and doubles the channels
    assert [stages[f"features.{i}"] for i in (1, 3, 5, 7)] == [
        (1, 56, 56, 96),
        (1, 28, 28, 192),
        (1, 14, 14, 384),
        (1, 7, 7, 768),
    ]
    assert [type(report.graph.node(f"features.{i}.gather").op).op_name for i in (2, 4, 6)] == ["patch_merge"] * 3


def test_densenet121_matches_torchvision() -> None:
    report = api.shapes(SPECS / "densenet121.yaml", input_shape=[1, 3, 224, 224])
    assert report.total_params == 7_978_856  # torchvision.models.densenet121()
    assert tuple(report.output.shape) == (1, 1000)
    assert round(report.total_macs / 1e9, 2) == 2.83  # torchvision's documented GFLOPS (mult-adds)
    # every width is read from the input: each transition halves what reaches it
    convs = {n.name: n.op.out_channels for n in report.graph.nodes if n.name.endswith("transition1.conv")}
    assert convs == {"features.transition1.conv": (64 + 6 * 32) // 2}
    layers = [n.name for n in report.graph.nodes if n.name.endswith(".conv2")]
    assert layers[:2] == ["features.denseblock1.denselayer1.conv2", "features.denseblock1.denselayer2.conv2"]
    assert layers[-1] == "features.denseblock4.denselayer16.conv2" and len(layers) == 6 + 12 + 24 + 16
