"""Bare words given to string attributes are strings (archspec.spec.words).

``{call: gelu, kwargs: {approximate: tanh}}`` failed as an undefined name ``tanh`` and
``approximate: none`` became null: a user had to write ``"'tanh'"``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import field_validator

from archspec import api
from archspec.errors import SpecError
from archspec.ir import Graph
from archspec.ops import REGISTRY, Op, activation, conv
from archspec.spec.words import accepted, takes_strings

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def graph(tmp_path: Path, body: str) -> Graph:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    return api.to_graph(path)


def refused(tmp_path: Path, body: str) -> SpecError:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(SpecError) as info:
        api.shapes(path)
    return info.value


@pytest.mark.parametrize(
    ("layer", "approximate"),
    [
        ("gelu(approximate=tanh)", "tanh"),
        ("gelu(approximate=none)", "none"),
        ("gelu(tanh)", "tanh"),
        ("gelu(approximate='tanh')", "tanh"),
        ("{call: gelu, kwargs: {approximate: tanh}}", "tanh"),
        ("{call: gelu, kwargs: {approximate: none}}", "none"),  # not null
        ("{call: gelu, args: [tanh]}", "tanh"),
        ("{call: gelu, kwargs: {approximate: \"'tanh'\"}}", "tanh"),
    ],
)
def test_a_bare_word_is_the_string(tmp_path: Path, layer: str, approximate: str) -> None:
    (node,) = graph(tmp_path, f"network: {layer}\n").nodes
    assert node.op == activation.Gelu(approximate=approximate)  # type: ignore[arg-type]
    assert node.exprs == ()  # a word, not an expression for generated code to repeat


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_padding_words(tmp_path: Path, padding: str) -> None:
    short = graph(tmp_path, f"network: conv(4, 3, padding={padding})\n").nodes[0]
    canonical = graph(tmp_path, f"network: {{call: conv, args: [4, 3], kwargs: {{padding: {padding}}}}}\n").nodes[0]
    expected = ((1, 1), (1, 1)) if padding == "same" else ((0, 0), (0, 0))
    assert short.op.padding == canonical.op.padding == expected  # type: ignore[attr-defined]


def test_a_bound_name_is_the_expression(tmp_path: Path) -> None:
    """A param, block parameter or loop variable named like a word keeps its value: so a param can choose."""
    params = "params: {mode: tanh, tanh: none}\n"
    blocks = "blocks:\n  'act(kind)': gelu(approximate=kind)\n"
    net = graph(
        tmp_path,
        params + blocks + "network:\n  a: gelu(approximate=mode)\n  b: gelu(approximate=tanh)\n  c: act('tanh')\n",
    )
    assert [n.op.approximate for n in net.nodes] == ["tanh", "none", "tanh"]  # type: ignore[attr-defined]
    assert net.nodes[0].exprs == (("approximate", "mode"),)
    looped = graph(tmp_path, "network:\n  - for: tanh in ['none']\n    do: gelu(approximate=tanh)\n")
    assert looped.nodes[0].op.approximate == "none"  # type: ignore[attr-defined]


def test_a_word_that_is_no_choice_of_the_attribute(tmp_path: Path) -> None:
    err = refused(tmp_path, "network: gelu(approximate=fast)\n")
    assert err.message == "invalid 'approximate' of gelu: expected 'none' or 'tanh', found the string 'fast'"


def test_a_block_argument_is_no_op_attribute(tmp_path: Path) -> None:
    """A block's parameters have no type: a bare name given to one is looked up, as ever."""
    err = refused(tmp_path, "blocks:\n  'act(kind)': gelu(approximate=kind)\nnetwork: act(tanh)\n")
    assert err.message == "undefined name 'tanh'"
    assert err.hint == "if you mean the word, quote it: 'tanh'"


@pytest.mark.parametrize(
    ("layer", "hint"),
    [
        ("conv(chans, 3)", "'out_channels' of conv takes an int > 0: write one, or define 'chans' under 'params:'"),
        ("conv(8, chans * 2)", "'kernel' of conv takes an int > 0, or a list of 2 of them: write one"),
        ("conv(8, 3, bias=yes)", "'bias' of conv takes true or false: write one"),
        ("conv(widht, 3)", "did you mean 'width'?"),
    ],
)
def test_an_unbound_name_for_an_attribute_that_takes_no_string(tmp_path: Path, layer: str, hint: str) -> None:
    err = refused(tmp_path, f"params: {{width: 8}}\nnetwork: {layer}\n")
    assert err.message.startswith("undefined name")
    assert err.hint is not None and err.hint.startswith(hint), err.hint


def test_true_false_and_null_stay_constants_where_the_attribute_takes_them(tmp_path: Path) -> None:
    (node,) = graph(tmp_path, "network: conv(4, 1, bias=false)\n").nodes
    assert node.op.bias is False  # type: ignore[attr-defined]


def test_which_attributes_take_strings() -> None:
    assert takes_strings(activation.Gelu, "approximate")
    # conv's padding is typed as (lo, hi) pairs; its validator alone takes 'same' and 'valid'
    # (test_a_word_the_op_s_validator_takes covers that reading)
    assert not takes_strings(conv.Conv, "padding")
    assert not takes_strings(conv.Conv, "stride")
    assert accepted(conv.Conv, "bias") == frozenset({bool})
    assert accepted(conv.Conv, "no_such_field") == frozenset()


class _PaddedByWord(Op):
    """A test op whose attribute takes a word only through its validator, not its type (as an
    op that stores one canonical form, say padding pairs, may declare it)."""

    op_name = "padded_by_word"

    padding: tuple[int, ...] = (0,)

    @field_validator("padding", mode="before")
    @classmethod
    def _same(cls, value: object) -> object:
        return (1,) if value == "same" else value


def test_a_word_the_op_s_validator_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REGISTRY, _PaddedByWord.op_name, _PaddedByWord)
    (node,) = graph(tmp_path, "network: padded_by_word(padding=same)\n").nodes
    assert node.op == _PaddedByWord(padding=(1,))
    err = refused(tmp_path, "network: padded_by_word(padding=smae)\n")
    assert err.message == "undefined name 'smae'"
    assert (err.loc and err.loc.line, err.loc and err.loc.column) == (4, 33)
    assert err.hint is not None and err.hint.startswith("'padding' of padded_by_word takes a list of (an int)")
