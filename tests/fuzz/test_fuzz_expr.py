"""Random expressions through the safe parser and evaluator.

Classes: well-formed expressions drawn from the grammar (literals of every kind, names,
arithmetic, comparisons, ``and``/``or``/``not``, ``a if c else b``, lists, tuples, indexing,
slicing, calls of the builtins and of anything else, ``->``), garbage (random characters,
random unicode, forbidden constructs: attributes, lambdas, comprehensions, dunders,
``__import__``, f-strings, walrus...), resource traps (``round(5, -10**18)``, string
``%``-formatting to a GB, ``sum`` of lists, nested list bombs, huge powers) and deep nesting
(chains of 1,000 operators, 300 parentheses). Both the expression mode and the ``for`` mode.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archspec.errors import Location
from archspec.spec import expr

from .fuzz_strategies import expressions, garbage_expressions
from .fuzzlib import PROFILES, Profile, guarded

ENV = {"c": 8, "k": 3, "xs": [1, 2, 3], "s": "ab", "f": 1.5, "b": True, "nested": [[1, 2], [3]], "none": None}
LOC = Location("e.yaml", 3, 7)


def _evaluate(source: str, mode: str) -> object:
    tree = expr.parse(source, LOC, mode=mode)
    if mode == "for":
        return tree
    return expr.Evaluator(ENV, LOC, ("net", "block")).eval(tree)


@pytest.mark.parametrize("profile", PROFILES)
def test_expressions_evaluate_or_are_located_errors(profile: Profile) -> None:
    tagged = st.one_of(
        st.tuples(st.just("grammar"), expressions(list(ENV))),
        st.tuples(st.just("garbage"), garbage_expressions()),
    )

    @profile.settings(weight=3.0)
    @given(tagged, st.sampled_from(["eval", "eval", "eval", "for"]))
    def run(case: tuple[str, str], mode: str) -> None:
        kind, source = case
        if mode == "for":
            source = f"{source.split(' in ')[0] or 'x'} in {source}"
        guarded("expressions", f"{kind} ({mode})", lambda: _evaluate(source, mode), files={"e.yaml"}, lines=True)

    run()
