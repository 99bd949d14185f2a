"""What lets a spec name every step as a reference implementation does: named branches of
``add``/``concat``, an ``if`` without ``else`` in a list, and nested loops appending to one list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.spec.expand import MAX_STEPS
from archspec.spec.model import Add

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def graph_of(tmp_path: Path, body: str, **params: Any) -> list[str]:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    return [node.name for node in api.to_graph(path, params=params).nodes]


def failure(tmp_path: Path, body: str) -> SpecError:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(SpecError) as info:
        api.shapes(path)
    return info.value


# ------------------------------------------------------------- named branches
def test_named_branches_are_the_paths_and_the_merge_keeps_the_composite_path(tmp_path: Path) -> None:
    body = "network:\n  block:\n    add:\n      conv: conv(3, 3, padding=1) -> batchnorm\n      shortcut: identity\n"
    assert graph_of(tmp_path, body) == ["block.conv.0", "block.conv.1", "block.shortcut", "block"]


def test_named_concat_branches(tmp_path: Path) -> None:
    body = "network:\n  concat: {left: conv(2, 1), right: conv(5, 1)}\n"
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    report = api.shapes(path)
    assert [n.name for n in report.graph.nodes] == ["left", "right", "concat"]
    assert report.output.shape == ("N", 7, 8, 8)


def test_a_named_branch_is_named_in_the_block_stack(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  - relu\n  - add: {conv: conv(3, 3, strides=1), shortcut: identity}\n")
    assert err.trace == ("add#2", "conv", "conv")
    assert (err.loc.line, err.loc.column) == (6, 28)


def test_a_branch_named_like_a_keyword_over_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="'cat'"):
        graph_of(tmp_path, "network:\n  add:\n    cat: [conv(3, 1), relu]\n    shortcut: identity\n")


def test_a_branch_name_that_is_no_attribute_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="branch name '1x' is not a plain name"):
        graph_of(tmp_path, "network:\n  add: {1x: relu, shortcut: identity}\n")


def test_named_branches_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="at least 1 item"):
        Add.model_validate({"add": {}})


# ---------------------------------------------------------- if without else
@pytest.mark.parametrize(
    "optional",
    [
        "  - conv(6, 1) if expand != 1\n",
        "  - {if: expand != 1, then: conv(6, 1)}\n",
    ],
    ids=["shorthand", "structured"],
)
@pytest.mark.parametrize(("expand", "names"), [(6, ["0", "1", "2"]), (1, ["0", "1"])])
def test_an_if_without_else_in_a_list_adds_nothing_when_false(
    tmp_path: Path, optional: str, expand: int, names: list[str]
) -> None:
    body = "params: {expand: 6}\nnetwork:\n" + optional + "  - conv(4, 3)\n  - relu\n"
    assert graph_of(tmp_path, body, expand=expand) == names


@pytest.mark.parametrize(("flag", "names"), [("true", ["0", "1", "2"]), ("false", ["0", "1"])])
def test_an_if_without_else_in_a_flow_list_and_in_a_chain(tmp_path: Path, flag: str, names: list[str]) -> None:
    assert graph_of(tmp_path, f"network: [relu, conv(4, 1) if {flag}, relu]\n") == names
    assert graph_of(tmp_path, f"network: relu -> (conv(4, 1) if {flag}) -> relu\n") == names


def test_an_if_in_a_list_stands_for_the_repeat_it_chooses(tmp_path: Path) -> None:
    body = "network:\n  - relu\n  - relu * 2 if true else conv(4, 1)\n  - conv(4, 1)\n"
    assert graph_of(tmp_path, body) == ["0", "1", "2", "3"]


def test_an_if_without_else_outside_a_list_is_an_error_at_the_if(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  stem: conv(4, 1) if false\n")
    assert "an 'if' without 'else' is only allowed as an item of a list" in err.message
    assert err.trace == ("stem",)
    assert (err.loc.line, err.loc.column) == (5, 9)
    assert err.hint is not None and "else identity" in err.hint


def test_an_if_without_else_in_a_structured_branch_is_an_error(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  add:\n    - {if: true, then: conv(3, 1)}\n    - identity\n")
    assert "only allowed as an item of a list" in err.message
    assert err.trace == ("branch 1",)


def test_an_argument_still_needs_its_else(tmp_path: Path) -> None:
    err = failure(tmp_path, "network: conv(4, 1 if true)\n")
    assert "expected 'else'" in err.message
    assert (err.loc.line, err.loc.column) == (4, 18)


def test_an_ellipsis_is_not_a_layer(tmp_path: Path) -> None:
    err = failure(tmp_path, "network: [relu, ...]\n")
    assert err.message == "'...' is not a layer or a value"
    assert (err.loc.line, err.loc.column) == (4, 17)


def test_columns_after_an_if_without_else_are_the_source_columns(tmp_path: Path) -> None:
    err = failure(tmp_path, "network: [conv(4, 1) if true, conv(4, 3, strides=1)]\n")
    assert (err.loc.line, err.loc.column) == (4, 42)


# ---------------------------------------------------------------- nested loops
def test_nested_loops_in_a_list_append_to_that_list(tmp_path: Path) -> None:
    body = (
        "params: {setting: [[4, 2], [8, 1]]}\n"
        "network:\n"
        "  - relu\n"
        "  - for: c, n in setting\n"
        "    do:\n"
        "      for: i in range(n)\n"
        "      do: conv(c, 3 if i == 0 else 1)\n"
        "  - relu\n"
    )
    assert graph_of(tmp_path, body) == ["0", "1", "2", "3", "4"]


def test_nested_empty_loops_are_bounded_by_the_expansion_steps(tmp_path: Path) -> None:
    body = "network:\n  - relu\n  - ((relu * 0) * 100000) * 100000\n"
    err = failure(tmp_path, body)
    assert f"more than {MAX_STEPS:,} expansion steps" in err.message
