"""Regressions from fuzzing the loader, the expression language and validation (tests/fuzz/).

Each case once crashed (an exception other than SpecError) or lost its location.
"""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import Location, SpecError
from archspec.spec import expr
from archspec.spec.loader import load_json_text, load_yaml_text


@pytest.mark.parametrize(("text", "value"), [("a: !!float", ""), ("a: !!float ;", ";"), ("a: !!int", "")])
def test_explicit_number_tags_on_non_numbers_load_as_text(text: str, value: str) -> None:
    assert load_yaml_text(text).data == {"a": value}  # IndexError / ValueError before; validation reports it


def test_explicit_number_tags_on_non_numbers_are_reported_by_validation(tmp_path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("archspec: 1\nname: n\ninput: [N, !!int 3x]\nnetwork: relu\n")
    with pytest.raises(SpecError) as info:
        archspec.shapes(path)
    assert info.value.message == "input dim '3x' is neither a size nor a symbol name"
    assert info.value.loc == Location(str(path), 3, 12)


@pytest.mark.parametrize("odd", ["\x86", "\x9f", "\u2028", "\x85", "\\/", "\\u0000"])
def test_json_keeps_line_and_column_locations_whatever_its_strings_hold(odd: str) -> None:
    text = '{"archspec": 1,\n "name": "n' + odd + '",\n "input": ["N", 3],\n "network": "relu",\n "parms": {}}'
    doc = load_json_text(text, "f.json")
    assert doc.locs[("input",)] == Location("f.json", 3, 11)
    assert doc.key_locs[("parms",)].line == 5


def test_json_that_yaml_cannot_read_is_located_by_scanning_it() -> None:
    long = "k" * 1100  # YAML's simple keys stop at 1,024 characters
    text = '{"a": [1, {"b": "x"}],\n "' + long + '": 1}'
    doc = load_json_text(text, "f.json")
    assert doc.data == {"a": [1, {"b": "x"}], long: 1}
    assert doc.loc(("a", 1, "b")) == Location("f.json", 1, 18)
    assert doc.loc((long,)) == Location("f.json", 2, 1106)
    assert doc.key_locs[(long,)] == Location("f.json", 2, 2, 1102)
    with pytest.raises(SpecError) as info:
        load_json_text(text[:-1] + ',\n "a": 2}', "f.json")
    assert info.value.loc == Location("f.json", 3, 2) and info.value.notes == ("first defined at f.json:1:2",)


@pytest.mark.parametrize(
    ("source", "column", "hint"),
    [
        ("ｃｏｎｖ(8, 3)", 0, "Python would read it as 'conv'; write that if you mean it"),
        ("cоnv(8, 3)", 0, "it looks like a name it is not; retype it"),
        ("conv(8, kеrnel=3)", 8, "it looks like a name it is not; retype it"),
    ],
)
def test_names_with_non_ascii_characters_are_refused_where_they_are(source: str, column: int, hint: str) -> None:
    with pytest.raises(SpecError) as info:
        expr.parse(source, Location("s.yaml", 4, 10))
    assert "is not plain ASCII" in info.value.message
    assert info.value.hint == hint
    assert info.value.loc == Location("s.yaml", 4, 10 + column)


def test_non_ascii_text_in_strings_is_fine() -> None:
    assert expr.evaluate("'ｃｏｎｖ' + 'а'", {}) == "ｃｏｎｖа"


def test_param_names_must_be_names(tmp_path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("archspec: 1\nname: n\ninput: [N, 3]\nparams:\n  ok: 1\n  'x; import os': 2\nnetwork: relu\n")
    with pytest.raises(SpecError) as info:  # one error, raised as itself
        archspec.shapes(path)
    error = info.value
    assert error.message == "'x; import os' cannot name an entry of 'params'"
    assert error.loc == Location(str(path), 6, 3, 15)
