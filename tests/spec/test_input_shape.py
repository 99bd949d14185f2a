"""Expressions that read a layer's input: ``input.channels``, ``input.shape[i]``
(archspec.spec.input_shape, and how archspec.spec.expand infers what they read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archspec import api
from archspec.errors import SpecError, SpecErrors
from archspec.ir import Graph

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def graph(tmp_path: Path, body: str, head: str = HEAD, **kw: Any) -> Graph:
    path = tmp_path / "net.yaml"
    path.write_text(head + body)
    return api.to_graph(path, **kw)


def failure(tmp_path: Path, body: str, head: str = HEAD) -> SpecError:
    with pytest.raises(SpecError) as info:
        graph(tmp_path, body, head)
    return info.value


def widths(g: Graph) -> dict[str, int]:
    """Each conv's out_channels, by path."""
    return {n.name: n.op.out_channels for n in g.nodes if n.op_name == "conv"}  # type: ignore[attr-defined]


# ------------------------------------------------------------------ reading
def test_a_block_reads_the_channels_it_is_called_on(tmp_path: Path) -> None:
    g = graph(
        tmp_path,
        "blocks:\n"
        "  double: conv(input.channels * 2, 1)\n"
        "network:\n"
        "  a: double\n"
        "  b: conv(5, 1) -> double\n"
        "  c: double\n",
    )
    assert widths(g) == {"a": 6, "b.0": 5, "b.1": 10, "c": 20}


def test_input_is_the_block_input_all_through_its_body(tmp_path: Path) -> None:
    # Lexically, as torchvision's blocks take inplanes: the second conv reads the block's input,
    # not the output of the conv before it.
    g = graph(
        tmp_path,
        "blocks:\n  pair: conv(input.channels * 4, 1) -> conv(input.channels, 1)\nnetwork:\n  a: pair\n",
    )
    assert widths(g) == {"a.0": 12, "a.1": 3}


def test_the_network_reads_its_own_input(tmp_path: Path) -> None:
    g = graph(tmp_path, "network:\n  a: conv(8, 1)\n  b: conv(input.channels + input.shape[2], 1)\n")
    assert widths(g) == {"a": 8, "b": 3 + 8}


def test_shape_gives_sizes_and_keeps_a_symbolic_batch(tmp_path: Path) -> None:
    g = graph(
        tmp_path,
        "blocks:\n"
        "  probe: conv(input.shape[3] * 10 + len(input.shape), 1, bias=input.shape[0] == 'N')\n"
        "network:\n"
        "  a: maxpool(2) -> probe\n",
    )
    conv = g.node("a.1").op
    assert conv.out_channels == 4 * 10 + 4  # type: ignore[attr-defined]
    assert conv.bias is True  # type: ignore[attr-defined]


def test_features_of_a_flat_input_are_its_channels(tmp_path: Path) -> None:
    g = graph(tmp_path, "blocks:\n  same: linear(input.channels)\nnetwork:\n  a: flatten -> same\n")
    assert g.node("a.1").op.out_features == 3 * 8 * 8  # type: ignore[attr-defined]


def test_nested_blocks_repeat_for_and_if_read_their_block_input(tmp_path: Path) -> None:
    g = graph(
        tmp_path,
        "blocks:\n"
        "  grow(k): conv(input.channels + k, 1)\n"
        "  stage(n):\n"
        "    - grow(1) * n\n"
        "    - for: k in [10, 20]\n"
        "      do: grow(k)\n"
        "    - conv(99, 1) if input.channels > 4\n"
        "    - conv(input.channels, 1) if input.channels == 3\n"
        "network:\n"
        "  s: stage(2)\n",
    )
    # each grow reads its own input; the stage's if reads the stage's input (3 channels)
    assert widths(g) == {"s.0": 4, "s.1": 5, "s.2": 15, "s.3": 35, "s.4": 3}


def test_an_argument_default_reads_the_block_input(tmp_path: Path) -> None:
    g = graph(
        tmp_path,
        "blocks:\n"
        "  res(planes, stride=1, project=stride != 1 or input.channels != planes):\n"
        "    add:\n"
        "      - conv(planes, 3, stride=stride, padding=1)\n"
        "      - conv(planes, 1, stride=stride) if project else identity\n"
        "network:\n"
        "  a: res(3)\n"
        "  b: res(6)\n"
        "  c: res(6, stride=2)\n"
        "  d: res(6, project=false)\n",
    )
    scopes = {s.path: dict(s.args) for s in g.scopes if s.label == "res"}
    assert [scopes[p]["project"] for p in "abcd"] == [False, True, True, False]
    assert "a.branch2" not in widths(g) and "b.branch2" in widths(g)


def test_a_call_argument_reads_the_callers_input(tmp_path: Path) -> None:
    g = graph(
        tmp_path,
        "blocks:\n  to(c): conv(c, 1)\n  outer: conv(7, 1) -> to(input.channels)\nnetwork:\n  a: outer\n",
    )
    assert widths(g) == {"a.0": 7, "a.1": 3}


def test_the_expressions_stay_as_written(tmp_path: Path) -> None:
    # Code generation writes input.channels as the block class's in_channels argument.
    g = graph(
        tmp_path,
        "blocks:\n  double(k=input.channels): conv(input.channels * 2, 1, groups=k)\nnetwork:\n  a: double\n",
    )
    assert dict(g.node("a").exprs) == {"out_channels": "input.channels * 2", "groups": "k"}
    assert dict(next(s for s in g.scopes if s.path == "a").args) == {"k": 3}


def test_a_spec_that_reads_no_input_infers_nothing_while_expanding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archspec.spec import expand

    def refuse(*_: Any) -> None:
        raise AssertionError("inferred during expansion")

    monkeypatch.setattr(expand, "infer_node", refuse)
    g = graph(tmp_path, "blocks:\n  b(c): conv(c, 1)\nnetwork:\n  a: b(4) -> b(5)\n")
    assert len(g.nodes) == 2


def test_each_node_is_inferred_once_however_often_input_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archspec.spec import expand

    seen: list[str] = []
    real = expand.infer_node

    def counted(node: Any, inputs: Any) -> Any:
        seen.append(node.name)
        return real(node, inputs)

    monkeypatch.setattr(expand, "infer_node", counted)
    graph(tmp_path, "blocks:\n  same: conv(input.channels, 1)\nnetwork:\n  a: same * 5\n")
    assert seen == ["a.0", "a.1", "a.2", "a.3"]  # the last conv's output is never read


# ------------------------------------------------------------------ errors
def test_a_misspelt_attribute_names_what_exists(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a: conv(input.chanels, 1)\n")
    assert err.message == "the input has no attribute 'chanels'"
    assert err.expected == "input.channels or input.shape"
    assert err.hint == "did you mean 'channels'?"
    assert err.loc is not None and (err.loc.line, err.loc.column) == (5, 11)


def test_symbolic_channels_say_so(tmp_path: Path) -> None:
    err = failure(
        tmp_path, "network:\n  a: conv(input.channels, 1)\n", head="archspec: 1\nname: t\ninput: [N, C, 8, 8]\n"
    )
    assert "symbolic ('C')" in err.message
    assert err.found == "[N, C, 8, 8]"


def test_an_input_without_channels_says_so(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a: linear(input.channels)\n", head="archspec: 1\nname: t\ninput: [N]\n")
    assert "has no channel axis" in err.message


def test_an_axis_out_of_range_is_located(tmp_path: Path) -> None:
    err = failure(tmp_path, "network:\n  a: conv(input.shape[4], 1)\n")
    assert "index 4 is out of range for 'input.shape'" in err.message
    assert err.found == "['N', 3, 8, 8]"


def test_input_is_not_a_value(tmp_path: Path) -> None:
    err = failure(tmp_path, "blocks:\n  b(c): conv(c, 1)\nnetwork:\n  a: b(input)\n")
    assert err.message == "'input' is the layer's input tensor, not a value"
    assert err.hint is not None and "input.channels" in err.hint


def test_a_block_given_several_inputs_has_no_one_input(tmp_path: Path) -> None:
    err = failure(
        tmp_path,
        "blocks:\n"
        "  sum2: add\n"
        "  wide(c=input.channels): sum2\n"
        "network:\n"
        "  dag:\n"
        "    a: conv(3, 1)\n"
        "    b: {in: [input, a], do: wide}\n",
    )
    assert "given 2 inputs, so 'input' is none of them" in err.message


def test_a_shape_error_before_a_read_is_told_once_at_its_own_layer(tmp_path: Path) -> None:
    with pytest.raises(SpecErrors) as info:
        graph(
            tmp_path,
            "blocks:\n"
            "  bad: conv(8, 3, groups=2)\n"
            "  same: conv(input.channels, 1)\n"
            "network:\n"
            "  a: bad\n"
            "  b: same\n"
            "  c: same\n"
            "  d: conv(4, 1, strides=2)\n",
        )
    first, second = info.value.errors
    assert "groups=2 must divide" in first.message
    assert first.loc is not None and first.loc.line == 5
    assert first.notes == ("bad() is called at " + str(tmp_path / "net.yaml") + ":8:6",)  # not same()'s call
    assert "unknown argument 'strides'" in second.message


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("blocks:\n  b(c, input): conv(c, 1)\nnetwork:\n  a: b(1, 2)\n", "a block parameter cannot be named", 5),
        ("params: {input: 3}\nnetwork:\n  a: conv(4, 1)\n", "a network param cannot be named", 4),
        ("network:\n  a:\n    - for: input in [1, 2]\n      do: conv(4, 1)\n", "a 'for' cannot bind the name", 6),
    ],
)
def test_nothing_else_can_be_named_input(tmp_path: Path, body: str, message: str, line: int) -> None:
    err = failure(tmp_path, body)
    assert message in err.message and "'input'" in err.message
    assert err.loc is not None and err.loc.line == line


def test_other_attribute_access_stays_refused(tmp_path: Path) -> None:
    err = failure(tmp_path, "params: {c: 3}\nnetwork:\n  a: conv(c.real, 1)\n")
    assert "attribute access ('.') is not allowed" in err.message
