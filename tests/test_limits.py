"""Absurd networks and small specs that ask for huge work are refused fast, with the figure.

A 10^6 x 10^6 linear layer or a 1x3x100000x100000 input is refused by shape inference, before
any backend allocates anything (the command-line side is in tests/cli/test_cli_robustness.py);
repetition bombs, block chains, deep expressions and expression traps (``round(5, -10**18)``,
``'%999999999d' % 1``, ``sum`` of lists, nested list bombs) end in located errors within a
few seconds at most (generous bounds: a loaded CI machine), in bounded memory.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import archspec
from archspec import infer
from archspec.backends import BackendOptions
from archspec.errors import Location, SpecError
from archspec.spec import expand, expr
from archspec.spec.loader import MAX_DEPTH, load_yaml_text

HUGE_LINEAR = {"archspec": 1, "name": "huge", "input": ["N", 1_000_000], "network": "linear(1000000)"}
HUGE_INPUT = {"archspec": 1, "name": "wide", "input": [1, 3, 100_000, 100_000], "network": "conv(8, 3)"}


@contextmanager
def bounded(seconds: float, mebibytes: float) -> Iterator[None]:
    """The block runs within ``seconds`` and ``mebibytes`` of traced memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < mebibytes, f"peaked at {peak:.1f} MiB"


def refused(action: Callable[[], Any], seconds: float = 10.0, mebibytes: float = 64) -> SpecError:
    with bounded(seconds, mebibytes), pytest.raises(SpecError) as info:
        action()
    assert info.value.loc is not None
    return info.value


# ------------------------------------------------------------------ absurd sizes
def test_a_million_by_a_million_linear_is_refused_with_the_figure() -> None:
    error = refused(lambda: archspec.shapes(HUGE_LINEAR))
    assert "over 10,000,000,000 parameters (reached 1,000,001,000,000 at 'linear')" in error.message
    assert "--max-params" in (error.hint or "")


def test_an_absurd_input_is_refused_with_the_figure() -> None:
    error = refused(lambda: archspec.shapes(HUGE_INPUT))
    assert (
        error.message == "the input [1, 3, 100000, 100000] has 30,000,000,000 elements, over the limit of 4,294,967,296"
    )
    assert "--max-activation" in (error.hint or "")


def test_an_absurd_activation_inside_the_network_is_refused() -> None:
    spec = {"archspec": 1, "name": "up", "input": ["N", 3, 64, 64], "network": "conv(8, 1, padding=40000)"}
    error = refused(lambda: archspec.shapes(spec))
    assert error.message == (
        "'conv' produces a tensor [N, 8, 80064, 80064] of 51,281,952,768 elements, over the limit of 4,294,967,296"
    )


def test_the_bounds_can_be_raised_and_lowered() -> None:
    report = archspec.shapes(HUGE_LINEAR, max_params=10**13)
    assert report.total_params == 1_000_001_000_000
    assert archspec.shapes(HUGE_INPUT, max_activation=10**12).output.shape == (1, 8, 99998, 99998)
    with pytest.raises(SpecError, match="over 100 parameters"):
        archspec.shapes("specs/lenet_bn.yaml", max_params=100)
    assert infer.MAX_ACTIVATION == 2**32 and infer.MAX_PARAMS == 10**10  # the numbers --help states


def test_build_and_emit_refuse_before_the_backend_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    import archspec.backends as backends

    class Refuses:
        """A backend that fails any request to build or emit (it may be looked up: that allocates nothing)."""

        name = "refuses"
        Options = BackendOptions

        def _asked(self, *_args: Any, **_kwargs: Any) -> Any:
            raise AssertionError("a backend was asked for an absurd network")

        build = emit = _asked

    monkeypatch.setattr(backends, "get_backend", lambda name: Refuses())
    for build in (archspec.build, archspec.emit):
        assert "1,000,001,000,000" in refused(lambda build=build: build(HUGE_LINEAR)).message
        assert "30,000,000,000 elements" in refused(lambda build=build: build(HUGE_INPUT)).message


def test_build_takes_the_raised_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import archspec.backends as backends

    seen: list[int] = []

    class Recorder:
        name = "recorder"
        Options = BackendOptions

        def build(self, graph: Any, report: Any, weights: Any, options: Any) -> str:
            seen.append(report.total_params)
            return "module"

    monkeypatch.setattr(backends, "get_backend", lambda name: Recorder())
    assert archspec.build(HUGE_LINEAR, max_params=10**13) == "module"
    assert seen == [1_000_001_000_000]


# ------------------------------------------------------------------ small specs asking for huge work
def _net(network: Any, **extra: Any) -> dict[str, Any]:
    return {"archspec": 1, "name": "bomb", "input": ["N", 4], "network": network, **extra}


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ("(relu * 1000) * 1000", "expands to more than 10,000 ops"),
        ("((relu * 0) * 100000) * 100000", "more than 30,000 expansion steps"),
        ({"for": "i in range(1000)", "do": {"for": "j in range(1000)", "do": "relu"}}, "more than 10,000 ops"),
    ],
)
def test_repetition_bombs_are_refused(network: Any, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # At the real bounds (100,000 ops, 300,000 steps) each takes 1.5-3 s and ~150 MB; a tenth here.
    monkeypatch.setattr(expand, "MAX_NODES", 10_000)
    monkeypatch.setattr(expand, "MAX_STEPS", 30_000)
    error = refused(lambda: archspec.shapes(_net(network)), seconds=30, mebibytes=100)
    assert message in error.message
    assert error.hint


def test_a_chain_of_blocks_deeper_than_the_nesting_bound_is_refused() -> None:
    n = expand.MAX_NESTING + 5
    blocks = {f"b{i}": f"b{i + 1}" for i in range(n)} | {f"b{n}": "relu"}
    error = refused(lambda: archspec.shapes(_net("b0", blocks=blocks)))
    assert f"nested more than {expand.MAX_NESTING} levels deep" in error.message
    assert error.trace[:3] == ("b0", "b1", "b2")
    ok = {f"b{i}": f"b{i + 1}" for i in range(20)} | {"b20": "relu"}
    assert len(archspec.shapes(_net("b0", blocks=ok)).graph) == 1


@pytest.mark.parametrize(
    "network",
    [
        "relu" + " * 1" * 400,  # 400 nested repeats
        "conv(" + "-" * 500 + "1, 1)",
        "conv(1" + " + 1" * 400 + ", 1)",
        " -> ".join(["relu"] * 150),
    ],
)
def test_deep_expressions_are_refused_before_any_pass_recurses(network: str) -> None:
    error = refused(lambda: archspec.shapes(_net(network)))
    assert f"over the limit of {expr.MAX_EXPR_DEPTH}" in error.message


def test_a_chain_of_100_arrows_is_still_fine() -> None:
    assert len(archspec.shapes(_net(" -> ".join(["relu"] * 90))).graph) == 90


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("round(5, -10**18)", "digits is out of range"),
        ("'%999999999d' % 1", "'%' on a string formats it"),
        ("sum([[1]] * 50000, [])", "sum adds numbers"),
        ("[[0] * 99999] * 99999", "too long (over 100,000 items and characters)"),
        ("['a' * 99999] * 99999", "too long"),
        ("'a' * 99999 + 'a' * 99999", "too long"),
        ("9 ** 9 ** 9", "exponent"),
    ],
)
def test_expression_traps_end_fast(source: str, message: str) -> None:
    loc = Location("x.yaml", 1, 1)
    error = refused(lambda: expr.evaluate(source, {}, loc), mebibytes=32)
    assert message in error.message


def test_sum_and_round_still_work_on_numbers() -> None:
    assert expr.evaluate("sum([1, 2.5]) + round(2.567, 2) + round(1234, -2)", {}) == 3.5 + 2.57 + 1200


def test_deep_yaml_of_any_style_is_refused_at_the_level_that_crosses_the_bound() -> None:
    deep_block = "".join("  " * i + "-\n" for i in range(2800)) + "  " * 2800 + "1\n"  # 7.8 MB
    deep_flow = "a: " + "[" * 1_000_000 + "]" * 1_000_000
    for text in (deep_block, deep_flow):
        error = refused(lambda text=text: load_yaml_text(text, "deep.yaml"), mebibytes=200)
        assert error.message == f"YAML nested deeper than {MAX_DEPTH} levels"
        assert error.loc is not None and error.loc.line >= 1
