"""A step named like a keyword or an op over a list of layers is an error (archspec.spec.keywords).

Without the rule, each of the specs below passed ``check`` as a sequence with a step named
``cat``, ``multiply`` or ``Concat``: EfficientNet-B0 written so had the right parameter count and
1x1 feature maps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.ops import REGISTRY
from archspec.spec.keywords import ALIASES, KEYWORDS, _one_edit_apart

HEAD = "archspec: 1\nname: t\ninput: [N, 8, 8, 8]\n"


def refused(tmp_path: Path, body: str) -> SpecError:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(SpecError) as info:
        api.shapes(path)
    return info.value


def shapes(tmp_path: Path, body: str) -> list[tuple[str, str]]:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    return [(row.path, row.op) for row in api.shapes(path).table(None)]


# ----------------------------------------------------------------- the users' specs
def test_cat_for_concat(tmp_path: Path) -> None:
    err = refused(tmp_path, "network:\n  mixed:\n    cat: [conv(8, 1), conv(8, 3, padding=1)]\n")
    assert err.message == (
        "'cat' looks like the keyword 'concat', but as a step name it would run its 2 layers one after another"
    )
    assert (err.loc and err.loc.line, err.loc and err.loc.column) == (6, 5)
    assert err.trace == ("mixed",)
    assert err.expected == "concat: [branch, ...]"
    assert err.found == "cat: a list of 2 layers"
    assert err.hint is not None and "'concat:' is branches on one input, joined on channels" in err.hint
    assert "write 'cat: {seq: [...]}'" in err.hint


SE_BLOCK = (
    "blocks:\n"
    "  'se(c)':\n"
    "    {merge}:\n"
    "      - identity\n"
    "      - global_avgpool -> conv(c // 4, 1) -> relu -> conv(c, 1) -> sigmoid\n"
    "network:\n"
    "  stage: conv(8, 3, padding=1) -> se(8)\n"
)


def test_a_gate_written_as_multiply_points_to_mul(tmp_path: Path) -> None:
    err = refused(tmp_path, SE_BLOCK.format(merge="multiply"))
    assert err.message.startswith("'multiply' looks like the keyword 'mul'")
    assert (err.loc and err.loc.line, err.loc and err.loc.column) == (6, 5)
    assert err.trace == ("se",)
    assert err.expected == "mul: [branch, ...]"
    assert err.hint is not None and "'mul:' is branches on one input, multiplied element-wise" in err.hint


def test_a_gate_written_as_mul_is_a_product_of_branches(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + SE_BLOCK.format(merge="mul"))
    report = api.shapes(path)
    assert report.graph.nodes[-1].op.op_name == "mul"
    assert report.output.shape == ("N", 8, 8, 8)


def test_keras_capitalised_concat(tmp_path: Path) -> None:
    err = refused(tmp_path, "network:\n  mixed:\n    Concat:\n      - conv(4, 1)\n      - conv(4, 1)\n")
    assert err.message.startswith("'Concat' looks like the keyword 'concat'")
    assert (err.loc and err.loc.line, err.loc and err.loc.column) == (6, 5)


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("concta", "the keyword 'concat'"),  # two letters swapped
        ("ADD", "the keyword 'add'"),
        ("sum", "the keyword 'add'"),
        ("residual", "the keyword 'add'"),
        ("nn.Sequential", "the keyword 'seq'"),
        ("torch.cat", "the keyword 'concat'"),
        ("branches", "the keyword 'concat' or 'add'"),
        ("Repeat", "the keyword 'repeat'"),
        ("multiply", "the keyword 'mul'"),
        ("Product", "the keyword 'mul'"),
        ("multipy", "the keyword 'mul'"),  # one letter off an alias
        ("relu", "the op 'relu'"),
        ("MaxPool", "the op 'maxpool'"),
    ],
)
def test_names_that_look_like_a_keyword_or_an_op(tmp_path: Path, key: str, meant: str) -> None:
    err = refused(tmp_path, f"network:\n  b1:\n    {key}: [relu, relu, relu]\n")
    assert err.message == f"'{key}' looks like {meant}, but as a step name it would run its 3 layers one after another"


def test_the_network_s_own_steps_and_explicit_seq_mappings_are_checked_too(tmp_path: Path) -> None:
    assert "'cat' looks like" in refused(tmp_path, "network:\n  cat: [relu, relu]\n").message
    assert "'cat' looks like" in refused(tmp_path, "network:\n  seq: {cat: [relu, relu]}\n").message


# ----------------------------------------------------------------- names that stay names
@pytest.mark.parametrize(
    "body",
    [
        "conv: conv(8, 3, padding=1)",  # an op's name over one layer
        "relu: relu",
        "head: [global_avgpool, flatten, linear(10)]",  # a plain name over a list
        "cat: conv(8, 1) -> relu",  # a chain is a sequence whatever its name
        "cat: {seq: [conv(8, 1), relu]}",  # the sequence made explicit
        "cat: [relu]",  # one layer is no list of branches
        "concat1: [relu, relu]",  # numbered steps are no typos
        "se: [relu, relu]",  # one letter off 'seq', too short to be read as a typo
        "pad: [relu, relu]",  # one letter off 'add'
        "shortcut: [conv(8, 1), batchnorm]",
    ],
)
def test_named_steps_keep_working(tmp_path: Path, body: str) -> None:
    name = body.split(":")[0]
    rows = shapes(tmp_path, f"network:\n  {body}\n")
    assert rows[0][0] == name


def test_a_gate_written_as_a_real_merge_passes(tmp_path: Path) -> None:
    rows = shapes(tmp_path, "network:\n  mixed:\n    concat: [conv(4, 1), conv(4, 3, padding=1)]\n")
    assert ("mixed", "concat") in rows


# ----------------------------------------------------------------- the vocabulary
def test_every_alias_means_a_keyword_an_op_or_a_planned_merge() -> None:
    for alias, meant in ALIASES.items():
        assert meant, alias
        for word in meant:
            assert word in KEYWORDS or word in REGISTRY, (alias, word)


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("concta", "concat", True),
        ("conat", "concat", True),
        ("conccat", "concat", True),
        ("xoncat", "concat", True),
        ("concat", "concat", False),
        ("cocnta", "concat", False),
        ("cat", "concat", False),
    ],
)
def test_one_edit_apart(a: str, b: str, near: bool) -> None:
    assert _one_edit_apart(a, b) is near
    assert _one_edit_apart(b, a) is near


def test_a_broken_flow_list_under_a_step_is_reported_as_the_step_s_own_error(tmp_path: Path) -> None:
    err = refused(tmp_path, "network:\n  b1:\n    cat: [conv(8, 1), relu ->]\n")
    assert err.message.startswith("invalid expression")
    assert err.trace == ("b1", "cat")
