"""A ``for`` with a name template: its copies are named steps (``denselayer1``, ``denselayer2``, ...),
as torchvision's DenseNet names the layers it adds in a loop (archspec.spec.expand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.spec.model import For

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def names(tmp_path: Path, body: str, **params: Any) -> list[str]:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    return [node.name for node in api.to_graph(path, params=params).nodes]


def failure(tmp_path: Path, body: str) -> SpecError:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(SpecError) as info:
        api.shapes(path)
    return info.value


def loop(name: str, over: str = "range(n)", variable: str = "i") -> str:
    return f"    - for: {variable} in {over}\n      name: '{name}'\n      do: conv(4, 1)\n"


def test_copies_are_named_by_the_template(tmp_path: Path) -> None:
    body = "blocks:\n  stage(n):\n" + loop("layer{i + 1}") + "network:\n  a: stage(3)\n"
    assert names(tmp_path, body) == ["a.layer1", "a.layer2", "a.layer3"]


def test_numbered_steps_around_named_copies_count_on(tmp_path: Path) -> None:
    body = "blocks:\n  stage(n):\n    - relu\n" + loop("unit{i}") + "    - relu\nnetwork:\n  a: stage(2)\n"
    assert names(tmp_path, body) == ["a.0", "a.unit0", "a.unit1", "a.1"]


def test_a_loop_with_a_template_as_a_whole_body(tmp_path: Path) -> None:
    body = (
        "blocks:\n"
        "  block(n):\n"
        "    for: i in range(n)\n"
        "    name: denselayer{i + 1}\n"
        "    do: conv(4, 1)\n"
        "network:\n"
        "  denseblock1: block(2)\n"
    )
    assert names(tmp_path, body) == ["denseblock1.denselayer1", "denseblock1.denselayer2"]


def test_a_copy_may_be_named_with_a_dash(tmp_path: Path) -> None:
    """RegNet's stages name their blocks ``block1-0``: added by name, never an attribute."""
    body = "network:\n  a:\n" + loop("block1-{i}", over="[0, 1]")
    assert names(tmp_path, body) == ["a.block1-0", "a.block1-1"]


def test_strings_and_several_fields(tmp_path: Path) -> None:
    body = "network:\n  a:\n" + loop("{kind}_{len(kind)}", over="['pw', 'dw']", variable="kind")
    assert names(tmp_path, body) == ["a.pw_2", "a.dw_2"]


def test_the_template_is_kept_for_code_generation(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + "blocks:\n  stage(n):\n" + loop("layer{i + 1}") + "network:\n  a: stage(1)\n")
    body = api.load(path).blocks["stage"].body
    copies = body.seq[0]  # type: ignore[union-attr]
    assert isinstance(copies, For) and copies.name == "layer{i + 1}"


# ------------------------------------------------------------------ errors
def test_copies_with_one_name_are_refused(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a:\n" + loop("layer", over="[1, 2]"))
    assert err.message == "two copies of a loop are named 'layer'"
    assert err.hint is not None and "loop's names" in err.hint
    assert err.loc is not None and err.loc.line == 7


def test_a_name_that_is_not_a_plain_name_is_refused(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a:\n" + loop("{i}", over="[1, 2]"))
    assert "the name template '{i}' gives '1', which is not a plain name" in err.message
    assert err.hint is not None and "put a word before it" in err.hint


def test_a_field_must_give_an_int_or_a_string(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a:\n" + loop("l{i > 0}", over="[1, 2]"))
    assert "'{i > 0}' in the name template 'l{i > 0}' gives True" in err.message
    assert err.expected == "an int or a string"


def test_an_undefined_name_in_a_field_is_located(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a:\n" + loop("l{j}", over="[1, 2]"))
    assert err.message == "undefined name 'j'"
    assert err.loc is not None and err.loc.line == 7


def test_only_a_for_takes_a_name(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a:\n    - repeat: 2\n      name: x\n      do: relu\n")
    assert err.message.startswith("unknown key 'name'")
