"""Docstrings written from a spec's ``doc`` (archspec.codegen.docstring): any text gives valid
source that says that text, within the line length, whatever escapes it needs."""

from __future__ import annotations

import ast
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from archspec.codegen import docstring
from archspec.codegen._emitter import MAX_LINE

# Characters that need escapes of every width, in words long enough to be cut across lines.
_HOSTILE = st.sampled_from(["a", "\\", '"', "\u200b", "\x00", "\x1b", "\u202e", "\U0001f600", "é", "'"])
_WORDS = st.lists(st.text(_HOSTILE, min_size=1, max_size=400), max_size=8).map(" ".join)


def _said(source: str) -> str:
    tree = ast.parse("class A:\n" + source)
    said = ast.get_docstring(tree.body[0], clean=False)
    assert said is not None
    return said


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(_WORDS, st.text(max_size=600)))
def test_any_doc_gives_a_docstring_that_parses_fits_and_says_it(text: str) -> None:
    source = docstring(text, "    ")  # escaping before wrapping cut '\u200b' in two: ~8% of docs did not parse
    assert all(len(line) <= MAX_LINE for line in source.splitlines())
    assert "".join(_said(source).split()) == "".join(text.split())


def test_a_long_word_of_escapes_is_cut_between_characters_never_inside_an_escape() -> None:
    text = "start " + "\u200b" * 100 + '"' * 50 + "\\" * 50 + " end"
    source = docstring(text, "    ")
    assert len(source.splitlines()) > 3
    assert "".join(_said(source).split()) == "".join(text.split())


def test_a_doc_of_megabytes_is_wrapped_in_linear_time() -> None:
    for text in ("x" * 2_000_000, "word " * 400_000):
        started = time.perf_counter()
        source = docstring(text, "    ")
        assert time.perf_counter() - started < 3
        assert len(_said(source)) > len(text.strip()) - 1
