"""Generated code is written from the spec's block definitions: one class per block, whose
constructor takes the block's parameters and builds the spec's ``if``/``repeat``/``for`` in
Python, and a network class that takes the network's params (issue "Blocks stay blocks")."""

from __future__ import annotations

import inspect
from collections import Counter
from pathlib import Path

import pytest

import archspec
from archspec import api
from archspec.codegen import load_source
from archspec.codegen._emitter import other_values
from archspec.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

#: Blocks whose instances are written as classes of their own, and why (none today).
WRITTEN_PER_INSTANCE: dict[tuple[str, str], int] = {}


@pytest.mark.parametrize("backend", ["torch", "flax"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_block_is_one_class(spec: Path, backend: str) -> None:
    emitted = archspec.emit(spec, backend=backend)
    classes = Counter(emitted.classes.values())
    program = api.load(spec)
    assert set(classes) <= set(program.blocks), classes
    for block, count in classes.items():
        assert count == WRITTEN_PER_INSTANCE.get((spec.stem, block), 1), (block, count)
    # each class is defined once, named after its block, and no name is numbered
    names = [line.split("(")[0][6:] for line in emitted.source.splitlines() if line.startswith("class ")]
    assert len(names) == len(set(names))


def test_resnet18_class_with_other_layers_is_resnet34() -> None:
    torch = pytest.importorskip("torch")
    emitted = archspec.emit(ROOT / "specs/resnet18.yaml")
    network = getattr(load_source(emitted), emitted.entry)
    assert list(inspect.signature(network).parameters) == ["layers", "classes"]
    resnet34 = network(layers=[3, 4, 6, 3])
    assert sum(p.numel() for p in resnet34.parameters()) == 21_797_672  # torchvision's resnet34
    assert resnet34(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_mobilenet_v2_class_takes_its_setting() -> None:
    emitted = archspec.emit(ROOT / "specs/mobilenet_v2.yaml")
    assert "inverted_residual_setting=None" in emitted.source
    assert "for t, c, n, s in inverted_residual_setting:" in emitted.source
    assert "class InvertedResidual(nn.Module):" in emitted.source
    assert "InvertedResidual2" not in emitted.source


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_the_network_class_built_with_other_values_is_the_spec_built_with_them(spec: Path) -> None:
    """For each param the network class takes: the class built with another value of it has the
    parameters (names and shapes) of ``archspec.build`` with that value."""
    pytest.importorskip("torch")
    emitted = archspec.emit(spec)
    network = getattr(load_source(emitted), emitted.entry)
    defaults = dict(api.to_graph(spec).params)
    for name in inspect.signature(network).parameters:
        value = next(v for v in other_values(defaults[name]) if _valid(spec, {name: v}))
        ours = network(**{name: value})
        expected = archspec.build(spec, params={name: value})
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: v.shape for k, v in expected.state_dict().items()
        }, (spec.stem, name)


#: Network params a network class does not take, and why: the class is written for their values.
NOT_TAKEN: dict[str, dict[str, str]] = {
    "deeplabv3_mobilenet_v3_large": {"aux_loss": "a DAG node's if is decided where the class is written"},
    "vgg11": {"conv_arch": "the map size flattened into the first linear layer depends on its length"},
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_the_network_class_takes_every_param_but_those_known(spec: Path) -> None:
    emitted = archspec.emit(spec, backend="torch")
    network = emitted.source[emitted.source.index(f"class {emitted.entry}(") :]
    signature = network[network.index("def __init__(") : network.index(") -> None:")]
    taken = {part.strip().split("=")[0] for part in signature.removeprefix("def __init__(").split(",")} - {"self", ""}
    params = {name for name, _ in api.to_graph(spec).params}
    assert params - taken == set(NOT_TAKEN.get(spec.stem, {}))


def _valid(spec: Path, params: dict[str, object]) -> bool:
    try:
        api.shapes(spec, params=params)
    except SpecError:
        return False
    return True


def test_a_block_reading_its_input_takes_in_channels() -> None:
    source = archspec.emit(ROOT / "specs/resnet18.yaml").source
    assert "def __init__(self, in_channels, planes, stride=1, downsample=None) -> None:" in source
    assert "downsample = stride != 1 or in_channels != planes" in source
    assert "*[BasicBlock(planes, planes) for _ in range(blocks - 1)]" in source


def test_a_loop_that_changes_the_channels_carries_them() -> None:
    source = archspec.emit(ROOT / "specs/vgg11.yaml").source
    assert source.count("class VggBlock(") == 1
    assert "channels = in_channels\n        for _ in range(num_convs):" in source
    assert "            channels = num_channels\n" in source


def test_an_if_between_module_bodies_is_one_class_with_both() -> None:
    source = archspec.emit(ROOT / "specs/mobilenet_v2.yaml").source
    assert "        self.condition = stride == 1 and in_channels == oup\n        if self.condition:\n" in source
    assert (
        "        if self.condition:\n            return self.conv(x) + self.identity(x)\n        return self.conv(x)\n"
        in (source)
    )


def test_densenet_block_adds_its_named_layers_in_a_loop() -> None:
    """torchvision's ``_DenseBlock``: ``self.add_module("denselayer%d" % (i + 1), layer)`` in a loop."""
    torch_source = archspec.emit(ROOT / "specs/densenet121.yaml").source
    assert "class DenseBlock(nn.Sequential):" in torch_source
    assert (
        "        for i in range(num_layers):\n"
        '            self.add_module(f"denselayer{i + 1}", DenseLayer(channels, growth_rate, bn_size))\n'
        "            channels = channels + growth_rate\n" in torch_source
    )
    # the network params a block reads are its parameters, with the network's defaults, passed on
    assert "    def __init__(self, in_channels, growth_rate=32, bn_size=4) -> None:\n" in torch_source
    flax_source = archspec.emit(ROOT / "specs/densenet121.yaml", backend="flax").source
    assert 'self.add(f"denselayer{i + 1}", DenseLayer(channels, growth_rate, bn_size, rngs=rngs))' in flax_source


def test_sizes_computed_along_named_steps_are_kept_in_a_variable() -> None:
    """torchvision's DenseNet counts ``num_features`` as it adds blocks, and its classifier reads
    the count; the features class keeps it the same way, and, as that size is too long to pass as
    one expression (200 characters of the params), keeps it as ``out_channels`` for the network's
    classifier to read."""
    source = archspec.emit(ROOT / "specs/densenet121.yaml").source
    assert (
        "        self.denseblock2 = DenseBlock(channels, block_config[1], growth_rate, bn_size)\n"
        "        channels = channels + block_config[1] * growth_rate\n"
        "        self.transition2 = Transition(channels)\n"
        "        channels = channels // 2\n"
    ) in source
    assert "        self.norm5 = nn.BatchNorm2d(channels)\n        self.out_channels = channels\n" in source
    assert (
        "        self.features = Features(3, growth_rate, block_config, num_init_features, bn_size)\n"
        "        channels = self.features.out_channels\n"
    ) in source
    assert "        self.classifier = nn.Linear(channels, classes)\n" in source
    assert source.count("self.out_channels =") == 1  # only the class whose size a caller reads keeps it


def test_only_a_store_assigned_again_at_its_depth_before_any_read_is_dropped() -> None:
    from archspec.codegen._emitter import _read_stores

    lines = [
        "        channels = a",  # assigned again before any read: dropped
        "        channels = b",
        "        layers.append(X(channels))",
        "        for _ in range(n):",
        "            layers.append(Y(channels))",
        "            channels = c",  # read by the next copy of the loop
        "        channels = d",
        "        layers.append(Z(channels))",
    ]
    assert _read_stores(lines, "channels") == lines[1:]


def test_a_parameter_that_is_the_input_channels_in_every_call_is_the_input_size() -> None:
    """ShuffleNetV2's unit takes ``input_channels`` and is only ever called on that many channels,
    so its class takes no ``in_channels`` beside it, as torchvision's ``InvertedResidual(inp, oup,
    stride)``; its stage is then one expression, and the network passes each stage its widths."""
    source = archspec.emit(ROOT / "specs/shufflenet_v2_x1_0.yaml").source
    assert "    def __init__(self, input_channels, output_channels, stride) -> None:\n" in source
    assert (
        "        super().__init__(\n"
        "            ShuffleUnit(input_channels, output_channels, 2),\n"
        "            *[ShuffleUnit(output_channels, output_channels, 1) for _ in range(repeats - 1)],\n"
    ) in source
    assert "        self.stage3 = Stage(stages_out_channels[1], stages_out_channels[2], stages_repeats[1])\n" in source
    assert "in_channels, input_channels" not in source
    assert (
        "\n        channels = " not in source.split("self.stage4 = ")[0].split("class ShufflenetV2X10")[1]
    )  # none unread


NAMED_NETWORK = """archspec: 1
name: stages
input: [N, 3, 8, 8]
blocks:
  stage(index, depth, width):
    for: i in range(depth)
    name: block{index}-{i}
    do: conv(width, 3, padding=1)
network:
  - stage(1, 2, 4)
  - stage(2, 3, 6)
"""


def test_named_copies_are_added_by_name_and_run_in_order(tmp_path: Path) -> None:
    """Names that are not identifiers (RegNet's ``block1-0``) are added by name, never attributes,
    and the layers run in the order the loop adds them, in torch and flax alike."""
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    from archspec.parity import parity

    spec = tmp_path / "stages.yaml"
    spec.write_text(NAMED_NETWORK)
    for backend in ("torch", "flax"):
        emitted = archspec.emit(spec, backend=backend)
        assert list(emitted.classes.values()) == ["stage"]
        assert 'f"block{index}-{i}"' in emitted.source
    weights = [k for k in archspec.build(spec).state_dict() if k.endswith("weight")]
    assert weights == [
        "0.block1-0.weight",
        "0.block1-1.weight",
        "1.block2-0.weight",
        "1.block2-1.weight",
        "1.block2-2.weight",
    ]
    assert parity(spec, ("torch", "flax")).ok


@pytest.mark.parametrize(("backend", "name"), [("torch", "pop"), ("flax", "layer_names")])
def test_a_copy_named_after_an_attribute_of_its_class_is_refused(tmp_path: Path, backend: str, name: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(NAMED_NETWORK.replace("block{index}-{i}", name).replace("stage(2, 3, 6)", "stage(2, 1, 6)"))
    spec.write_text(spec.read_text().replace("stage(1, 2, 4)", "stage(1, 1, 4)"))
    with pytest.raises(SpecError) as info:
        archspec.emit(spec, backend=backend)
    assert f"the layer name '{name}'" in info.value.message
    assert info.value.loc is not None and info.value.loc.line == 6


def test_convnext_block_is_one_class_over_dim_and_its_stages_a_loop() -> None:
    # the MLP's sizes follow the features of the permuted tensor, and the block's output the
    # branch past its [dim, 1, 1] layer scale: one class for the four stages' blocks
    source = archspec.emit(ROOT / "specs/convnext_tiny.yaml").source
    assert source.count("class CnBlock(") == 1 and "class CnBlock2" not in source
    assert "nn.LayerNorm(dim, eps=1e-06)" in source and "nn.Linear(4 * dim, dim)" in source
    assert "self.layer_scale = nn.Parameter(torch.ones([dim, 1, 1]) * layer_scale)" in source
    assert "for i in range(depth)]" in source  # the stage's blocks, one expression over its depth
    assert "    def __init__(self, dim, layer_scale, stochastic_depth_prob) -> None:\n" in source  # CNBlock's


def test_vit_encoder_block_is_one_class_and_its_layers_a_loop() -> None:
    source = archspec.emit(ROOT / "specs/vit_b_16.yaml").source
    assert source.count("class EncoderBlock(") == 1 and "class EncoderBlock2" not in source
    assert "for i in range(num_layers):" in source and 'f"encoder_layer_{i}"' in source
    assert "self.class_token = nn.Parameter(" in source and "self.pos_embedding = nn.Parameter(" in source
    # the tokens' width is followed as torchvision's EncoderBlock(num_heads, hidden_dim, ...) takes it
    block = source[source.index("class EncoderBlock(") : source.index("class EncoderLayers(")]
    assert "nn.LayerNorm(hidden_dim, eps=1e-06)" in block and "nn.Linear(hidden_dim, mlp_dim)" in block
    assert "768" not in block and "in_channels" not in block


def test_flax_holds_tokens_as_they_are_and_converts_only_at_patchify() -> None:
    # conv -> flatten(2) -> permute([0, 2, 1]): the NHWC map flattened as it is held, the permute
    # nothing; no layer on the tokens moves an axis
    source = archspec.emit(ROOT / "specs/vit_b_16.yaml", backend="flax").source
    assert "Flatten(end_dim=2),\n            identity," in source
    assert source.count("moveaxis") == 1  # channels_last, of the NCHW image the network takes
    for moving in ("LastAxisLinear", "TransposedSelfAttention", "Permute(", "channels_first(", "to_spec="):
        assert moving not in source
    assert "nnx.LayerNorm(hidden_dim, epsilon=1e-06, use_fast_variance=False, rngs=rngs)" in source


@pytest.mark.parametrize(("height", "written"), [(6, "6"), (4, "4")])
def test_a_block_on_a_features_last_tensor_does_not_write_its_features_for_input_channels(
    height: int, written: str
) -> None:
    # input.channels is axis 1 of [N, H, W, C] (H), not the features C the class follows (and takes
    # as in_features, so that one class serves every width, as Swin's blocks need): with H == C a
    # class reading its in_features for input.channels would read C where the spec says H
    spec = {
        "archspec": 1,
        "name": "t",
        "input": ["N", 6, height, 6],
        "blocks": {"mlp": ["linear(input.channels)", "gelu"]},
        "network": ["permute([0, 2, 3, 1])", "mlp", "permute([0, 3, 1, 2])"],
    }
    source = archspec.emit(spec).source
    mlp = source[source.index("class Mlp(") : source.index("class T(")]
    assert "in_channels" not in mlp and f"nn.Linear(in_features, {written})" in mlp
    assert "Mlp(6)" in source


def test_what_a_loop_leaves_is_read_after_it_in_the_params_terms() -> None:
    """After a loop over a table, the channels are the last row's (``widths[-1]``), and after one
    that adds the same amount each time, what it started from plus that many times the amount
    (torchvision's DenseNet: ``num_features + num_layers * growth_rate``): the classes that follow
    take them as expressions of the network's params, so the network class takes those params."""
    pytest.importorskip("torch")
    spec = {
        "archspec": 1,
        "name": "loops",
        "input": ["N", 3, 16, 16],
        "params": {"widths": [4, 8], "depth": 3, "growth": 2, "classes": 5},
        "blocks": {
            "grow(n)": {"for": "i in range(n)", "do": {"concat": ["identity", "conv(growth, 3, padding=1)"]}},
            "rows": {"for": "w in widths", "do": "conv(w, 3, padding=1) -> relu"},
        },
        "network": {
            "stem": "rows",
            "dense": "grow(depth)",
            "head": "global_avgpool -> flatten -> linear(classes)",
        },
    }
    emitted = archspec.emit(spec)
    assert "nn.Linear(widths[-1] + depth * growth, classes)" in emitted.source
    # the concat's class never reads the block's input: its own is in_channels, not in_channels_2
    assert "class GrowConcat(nn.Module):" in emitted.source
    assert "    def __init__(self, in_channels, growth) -> None:\n" in emitted.source
    network = getattr(load_source(emitted), emitted.entry)
    assert list(inspect.signature(network).parameters) == ["widths", "depth", "growth", "classes"]
    for params in ({"widths": [3, 5, 7]}, {"depth": 1, "growth": 6}):
        ours, expected = network(**params), archspec.build(spec, params=params)
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: v.shape for k, v in expected.state_dict().items()
        }


def test_a_network_param_a_caller_shadows_is_passed_as_its_value() -> None:
    """``outer(width)`` calls ``inner``, which reads the network's ``width``: inside ``outer`` that
    name is outer's own parameter, another value, so the network's is passed as the number (it was
    ``Inner(width, width)`` where the two happened to be equal, and a numbered ``Outer2`` elsewhere)."""
    spec = {
        "archspec": 1,
        "name": "shadow",
        "input": ["N", 4, 8, 8],
        "params": {"width": 8},
        "blocks": {"inner": "conv(width, 1) -> relu", "outer(width)": "conv(width, 3, padding=1) -> inner"},
        "network": ["outer(8)", "outer(16)"],
    }
    emitted = archspec.emit(spec)
    assert list(emitted.classes.values()).count("outer") == 1
    assert "            Inner(width, 8),\n" in emitted.source
