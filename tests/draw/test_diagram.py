"""What a drawing shows, format aside: boxes and edges against the IR, depth, counts, labels."""

from __future__ import annotations

import pytest
from draw_helpers import SPECS

import archspec
from archspec.drawing._diagram import BoxKind, Cluster, diagram, op_call
from archspec.drawing._text import wrapped
from archspec.ir import GRAPH_INPUT

ALL_SPECS = sorted(p.name for p in SPECS.glob("*.yaml"))


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_at_full_depth_there_is_a_box_per_op_and_an_edge_per_tensor_read(spec: str) -> None:
    report = archspec.shapes(SPECS / spec)
    drawn = diagram(report)
    graph = report.graph
    boxes = drawn.boxes()
    ops = [b for b in boxes if b.kind in (BoxKind.OP, BoxKind.MERGE)]
    assert [b.path for b in ops] == [n.name for n in graph.nodes]
    assert [b.kind for b in boxes].count(BoxKind.INPUT) == 1
    assert [b.kind for b in boxes].count(BoxKind.OUTPUT) == len(graph.outputs)  # DeepLabV3's "out" is named
    by_id = {b.id: b for b in boxes}
    drawn_edges = {(by_id[e.source].path, by_id[e.target].path, e.shape) for e in drawn.edges}
    shape = {n.name: str(report.info[n.name].output) for n in graph.nodes} | {GRAPH_INPUT: str(graph.input)}
    expected = {(i, n.name, shape[i]) for n in graph.nodes for i in n.inputs}
    expected |= {(node, name, str(report.outputs[name])) for name, node in graph.outputs.items()}
    assert drawn_edges == expected
    assert len(drawn.edges) == len(expected)  # a tensor read twice by one op is one edge


def test_merges_have_their_own_kind_and_every_branch_goes_in() -> None:
    drawn = diagram(archspec.shapes(SPECS / "googlenet.yaml"))
    merges = [b for b in drawn.boxes() if b.kind is BoxKind.MERGE]
    assert len(merges) == 9 and all(b.text == "concat" for b in merges)
    for merge in merges:
        assert sum(e.target == merge.id for e in drawn.edges) == 4


def test_depth_1_draws_the_top_level_steps_with_their_totals() -> None:
    report = archspec.shapes(SPECS / "googlenet.yaml")
    drawn = diagram(report, depth=1, counts=True)
    steps = [b for b in drawn.boxes() if b.kind is BoxKind.COLLAPSED]
    assert [b.path for b in steps] == ["b1", "b2", "b3", "b4", "b5", "head"]
    assert not any(isinstance(item, Cluster) for item in drawn.items)
    rows = {r.path: r for r in report.table(1)}
    assert [(b.params, b.macs) for b in steps] == [(rows[b.path].params, rows[b.path].macs) for b in steps]
    assert sum(b.params for b in steps) == report.total_params
    # a sequence names its steps, runs of one kind counted
    assert [b.text for b in steps[:4]] == [
        "conv → relu → maxpool",
        "conv ×2 → maxpool",
        "inception ×2 → maxpool",
        "inception ×5 → maxpool",
    ]
    assert [e.shape for e in drawn.edges][-2:] == ["[N, 1024, 1, 1]", "[N, 10]"]


def test_at_full_depth_each_op_counts_its_own_parameters_a_merge_none() -> None:
    report = archspec.shapes(SPECS / "googlenet.yaml")
    boxes = diagram(report, counts=True).boxes()
    assert sum(b.params for b in boxes) == report.total_params
    assert sum(b.macs for b in boxes) == report.total_macs
    merge = next(b for b in boxes if b.path == "b3.0")  # the concat, at the inception block's own path
    assert (merge.params, merge.macs) == (0, 0)


def test_depth_2_draws_each_block_as_one_box_with_its_call_in_a_cluster_of_its_step() -> None:
    drawn = diagram(archspec.shapes(SPECS / "googlenet.yaml"), depth=2)
    b3 = next(item for item in drawn.items if isinstance(item, Cluster) and item.path == "b3")
    first = b3.items[0]
    assert not isinstance(first, Cluster)
    assert (first.kind, first.name, first.text) == (
        BoxKind.COLLAPSED,
        "0",
        "inception(c1=64, c2=[96, 128], c3=[16, 32], c4=32)",
    )
    # the four branches read one tensor: one edge into the box
    assert sum(e.target == first.id for e in drawn.edges) == 1


def test_deeper_a_block_is_a_labelled_cluster_around_its_branches_and_its_merge() -> None:
    drawn = diagram(archspec.shapes(SPECS / "googlenet.yaml"), depth=3)
    b3 = next(item for item in drawn.items if isinstance(item, Cluster) and item.path == "b3")
    block = b3.items[0]
    assert isinstance(block, Cluster)
    assert (block.path, block.text) == ("b3.0", "inception(c1=64, c2=[96, 128], c3=[16, 32], c4=32)")
    names = [(item.name, getattr(item, "kind", None)) for item in block.items]
    assert names[-1] == ("", BoxKind.MERGE)  # the concat, in the block it merges
    assert [n for n, _ in names[:4]] == ["branch1", "branch2", "branch3", "branch4"]


def test_residual_blocks_show_the_shortcut_beside_the_convolutions() -> None:
    drawn = diagram(archspec.shapes(SPECS / "resnet18.yaml"))
    by_path = {b.path: b for b in drawn.boxes()}
    add = by_path["layer2.0.add"]
    into_add = {e.source for e in drawn.edges if e.target == add.id}
    assert into_add == {by_path["layer2.0.bn2"].id, by_path["layer2.0.downsample.1"].id}
    assert by_path["layer2.0.downsample.0"].text == "conv(128, 1, stride=2, bias=false)"
    assert by_path["relu"].name == ""  # `relu: relu` says relu once


@pytest.mark.parametrize(
    ("spec", "path", "call"),
    [
        ("googlenet.yaml", "b1.0", "conv(64, 7, stride=2, padding=3)"),
        ("googlenet.yaml", "b1.2", "maxpool(3, 2, padding=1)"),
        ("mobilenet_v2.yaml", "features.1.conv.0.0", "conv(32, 3, padding=1, groups=32, bias=false)"),
        ("googlenet.yaml", "head.1", "linear(10)"),
    ],
)
def test_ops_are_written_as_calls_with_their_non_default_attributes(spec: str, path: str, call: str) -> None:
    graph = archspec.to_graph(SPECS / spec)
    assert op_call(graph.node(path).op) == call


def test_a_long_sequence_names_its_first_steps() -> None:
    drawn = diagram(archspec.shapes(SPECS / "squeezenet1_1.yaml"), depth=1)
    assert drawn.boxes()[1].text == "conv → relu → maxpool → fire ×2 → maxpool → …"


def test_a_depth_below_1_is_refused() -> None:
    with pytest.raises(ValueError, match="depth must be 1 or more"):
        diagram(archspec.shapes(SPECS / "lenet_bn.yaml"), depth=0)


def test_long_calls_wrap_between_arguments_not_inside_lists() -> None:
    text = "inception(c1=128, c2=[128, 192], c3=[32, 96], c4=64)"
    lines = wrapped(text, 30, 6)
    assert lines == ["inception(c1=128,", "c2=[128, 192], c3=[32, 96],", "c4=64)"]
    assert " ".join(lines) == text


def test_named_inputs_and_outputs_each_get_a_box_and_the_edges_of_their_shapes() -> None:
    """DeepLabV3 with its auxiliary head returns "out" and "aux"; a network of two inputs reads both."""
    report = archspec.shapes(SPECS / "deeplabv3_mobilenet_v3_large.yaml", params={"aux_loss": True})
    drawn = diagram(report, depth=1)
    boxes = {b.id: b for b in drawn.boxes()}
    outputs = [b for b in boxes.values() if b.kind is BoxKind.OUTPUT]
    assert [b.name for b in outputs] == ["out", "aux"]
    into = {boxes[e.target].name: (boxes[e.source].path, e.shape) for e in drawn.edges if boxes[e.target] in outputs}
    assert into == {"out": ("out", "[N, 21, 520, 520]"), "aux": ("aux", "[N, 21, 520, 520]")}
    two = {
        "archspec": 1,
        "name": "two",
        "inputs": {"image": ["N", 3, 8, 8], "mask": ["N", 1, 8, 8]},
        "network": {"dag": {"joined": {"in": ["image", "mask"], "do": "concat"}}},
    }
    drawn = diagram(archspec.shapes(two))
    assert [b.name for b in drawn.boxes() if b.kind is BoxKind.INPUT] == ["image", "mask"]
    assert sorted(e.shape for e in drawn.edges) == ["[N, 1, 8, 8]", "[N, 3, 8, 8]", "[N, 4, 8, 8]"]
