"""Numbered branches of a merge, ``concat: {0: a, 1: b}``: paths ``convs.0``, ``convs.1`` as a
reference holding its branches in a list names them (torchvision's ASPP ``nn.ModuleList``), the
mistakes they invite located, and the class they are written as in torch and flax."""

from __future__ import annotations

from pathlib import Path

import pytest

import archspec
from archspec import api
from archspec.errors import SpecError

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"

#: ASPP's shape: a numbered concat as a named step, read by the step after it.
ASPP = """\
blocks:
  pyramid(channels):
    convs:
      concat:
        0: conv(channels, 1, bias=false) -> batchnorm -> relu
        1: conv(channels, 3, padding=2, dilation=2, bias=false) -> batchnorm -> relu
        2: adaptive_avgpool(1) -> conv(channels, 1) -> upsample(size=[input.shape[2], input.shape[3]], mode=bilinear)
    project: conv(channels, 1)
network:
  stem: conv(6, 3, padding=1)
  head: pyramid(4)
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    return path


def failure(tmp_path: Path, body: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        api.shapes(write(tmp_path, body))
    return info.value


# ------------------------------------------------------------------ paths and shapes
def test_numbered_branches_are_numbered_paths_under_the_merges_step(tmp_path: Path) -> None:
    report = api.shapes(write(tmp_path, ASPP))
    convs = [n.name for n in report.graph.nodes if n.name.startswith("head.convs")]
    assert convs == [
        *("head.convs.0.0", "head.convs.0.1", "head.convs.0.2"),
        *("head.convs.1.0", "head.convs.1.1", "head.convs.1.2"),
        *("head.convs.2.0", "head.convs.2.1", "head.convs.2.2"),
        "head.convs",  # the concat itself
    ]
    assert report.info["head.convs"].output.shape == ("N", 12, 8, 8)  # three branches of 4
    assert report.output.shape == ("N", 4, 8, 8)


def test_listed_branches_keep_their_branch_names(tmp_path: Path) -> None:
    report = api.shapes(write(tmp_path, "network:\n  convs:\n    concat: [conv(2, 1), conv(3, 1)]\n"))
    assert [n.name for n in report.graph.nodes] == ["convs.branch1", "convs.branch2", "convs"]


def test_a_numbered_branch_is_named_by_its_number_in_the_block_stack(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  convs:\n    add:\n      0: identity\n      1: conv(3, 1, strides=1)\n")
    assert err.trace == ("convs", "1", "conv")


# ------------------------------------------------------------------ mistakes
@pytest.mark.parametrize(
    ("branches", "message", "expected", "found", "line"),
    [
        ("1: conv(3, 1)\n      2: identity", "count 0, 1, 2, ... in the order", "0", "1", 7),
        ("0: conv(3, 1)\n      2: identity", "count 0, 1, 2, ... in the order", "1", "2", 8),
        ("1: conv(3, 1)\n      0: identity", "count 0, 1, 2, ... in the order", "0", "1", 7),
        ("0: conv(3, 1)\n      01: identity", "count 0, 1, 2, ... in the order", "1", "01", 8),
        ("0: conv(3, 1)\n      shortcut: identity", "branch 'shortcut' is named, but branch '0'", None, None, 8),
        ("shortcut: identity\n      0: conv(3, 1)", "branch 'shortcut' is named, but branch '0'", None, None, 7),
    ],
    ids=["from-1", "a-gap", "out-of-order", "leading-zero", "then-a-name", "a-name-first"],
)
def test_numbered_branches_count_from_0_in_order_and_are_all_numbered(
    tmp_path: Path, branches: str, message: str, expected: str | None, found: str | None, line: int
) -> None:
    err = failure(tmp_path, f"network:\n  convs:\n    add:\n      {branches}\n")
    assert message in err.message
    if expected is not None:
        assert (err.expected, err.found) == (expected, found)
    else:
        assert "all numbered 0, 1, 2" in (err.expected or "")
    assert err.loc is not None and err.loc.line == line


# ------------------------------------------------------------------ generated classes
def test_torch_writes_the_branches_as_a_module_list_that_concatenates_them(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    spec = write(tmp_path, ASPP)
    source = archspec.emit(spec, backend="torch").source
    assert "class Convs(nn.ModuleList):" in source
    # its input is the block's: it takes the block's in_channels under that name, not in_channels_2
    assert "self.convs = Convs(in_channels, channels)" in source
    assert "def __init__(self, in_channels, channels) -> None:\n        super().__init__(\n            [" in source
    assert "return torch.cat([branch(x) for branch in self], dim=1)" in source
    assert "nn.Conv2d(3 * channels, channels, 1)" in source  # the projection reads three branches' width
    model = archspec.build(spec)
    weights = [k for k in model.state_dict() if k.startswith("head.convs") and k.endswith("weight")]
    assert weights == [
        "head.convs.0.0.weight",
        "head.convs.0.1.weight",
        "head.convs.1.0.weight",
        "head.convs.1.1.weight",
        "head.convs.2.1.weight",
    ]


def test_flax_writes_the_branches_as_an_nnx_list_and_computes_what_torch_does(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("flax")
    from archspec.parity import parity

    spec = write(tmp_path, ASPP)
    source = archspec.emit(spec, backend="flax").source
    assert "class Convs(nnx.List):" in source
    assert "return jnp.concatenate([branch(x) for branch in self], axis=-1)" in source
    assert parity(spec, ("torch", "flax", "onnx")).ok
    assert parity(spec, ("torch", "flax"), mode="train", grad=True).ok


def test_a_merge_without_a_form_over_a_list_calls_each_branch(tmp_path: Path) -> None:
    """``add`` is written ``a + b``: over numbered branches, each branch by its number."""
    pytest.importorskip("torch")
    body = "network:\n  sums:\n    add:\n      0: conv(3, 1)\n      1: identity\n  out: relu\n"
    spec = write(tmp_path, body)
    assert "return self[0](x) + self[1](x)" in archspec.emit(spec, backend="torch").source
    assert [k for k in archspec.build(spec).state_dict()] == ["sums.0.weight", "sums.0.bias"]


def test_two_copies_of_a_width_are_added_and_more_are_multiplied(tmp_path: Path) -> None:
    """``c + c`` is the join of two (a skip connection); three of one width read ``3 * c``."""
    pytest.importorskip("torch")
    spec = write(
        tmp_path,
        "blocks:\n"
        "  join2(c):\n    - concat: {0: conv(c, 1), 1: conv(c, 1)}\n    - conv(c, 1)\n"
        "  join3(c):\n    - concat: {0: conv(c, 1), 1: conv(c, 1), 2: conv(c, 1)}\n    - conv(c, 1)\n"
        "network:\n  two: join2(4)\n  three: join3(4)\n",
    )
    source = archspec.emit(spec, backend="torch").source
    assert "nn.Conv2d(c + c, c, 1)" in source
    assert "nn.Conv2d(3 * c, c, 1)" in source


def test_numbered_branches_cannot_be_the_network_class_itself(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    spec = write(tmp_path, "network:\n  concat:\n    0: conv(2, 1)\n    1: conv(2, 1)\n")
    assert api.shapes(spec).output.shape == ("N", 4, 8, 8)  # a valid network: the class is what cannot be
    with pytest.raises(SpecError, match="the network's class cannot be") as info:
        archspec.emit(spec, backend="torch")
    assert "make the merge a named step" in (info.value.hint or "")


def test_numbered_branches_cannot_be_one_side_of_an_if_between_module_bodies(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pick = "if: wide\n    then: {concat: {0: conv(c, 1), 1: conv(c, 1)}}\n    else: {concat: {0: conv(c, 1)}}\n"
    network = "network:\n  a: pick(4)\n  b: relu\n"
    spec = write(tmp_path, f"params: {{wide: true}}\nblocks:\n  pick(c):\n    {pick}{network}")
    with pytest.raises(SpecError, match="one side of an 'if' between module bodies cannot be") as info:
        archspec.emit(spec, backend="torch")
    assert info.value.loc is not None and info.value.loc.line == 8


def test_a_numbered_branch_that_is_a_tensor_is_refused_where_it_is_written(tmp_path: Path) -> None:
    """A learnable tensor is a branch of a named merge (a layer scale), but a list holds layers."""
    pytest.importorskip("torch")
    spec = write(tmp_path, "network:\n  scaled:\n    mul:\n      0: identity\n      1: param([3, 1, 1])\n")
    assert api.shapes(spec).output.shape == ("N", 3, 8, 8)
    with pytest.raises(SpecError, match="numbered branch 1 is no layer a list can hold") as info:
        archspec.emit(spec, backend="torch")
    assert info.value.loc is not None and info.value.loc.line == 8
