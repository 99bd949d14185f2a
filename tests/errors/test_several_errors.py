"""One run reports every independent error of a file, each once, in source order, capped.

Independent are: errors in different block definitions and different top-level steps of the
network found while desugaring, pydantic's, and errors of different top-level steps found
while expanding (a later step reads the failed step's input). Errors inside one step stop
that step: what follows in it may be a consequence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archspec
from archspec.errors import MAX_SHOWN, Location, SpecError, SpecErrors, gathered
from archspec.spec import expand

HEAD = "archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n"


def errors_of(tmp_path: Path, text: str) -> list[SpecError]:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    with pytest.raises((SpecError, SpecErrors)) as info:
        archspec.shapes(path)
    return info.value.errors if isinstance(info.value, SpecErrors) else [info.value]


def spots(errors: list[SpecError]) -> list[tuple[int, int]]:
    return [(e.loc.line, e.loc.column) if e.loc else (0, 0) for e in errors]


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archspec", "check", *args], capture_output=True, text=True, timeout=120
    )


# ----------------------------------------------------------------- desugaring and validation
def test_errors_in_blocks_steps_and_top_level_keys_are_all_reported_in_source_order(tmp_path: Path) -> None:
    text = (
        "archspec: 1\n"
        "name: 9lives\n"  # 2: pydantic: not a name
        "input: [N, 3, 8, 8]\n"
        "blocks:\n"
        "  'bad(c':\n"  # 5: a signature that does not parse
        "    conv(c, 3)\n"
        "  'ok(c)': conv(c, 1)\n"
        "  'also_bad(c)': conv(c, 3) -> 3\n"  # 8: not a layer
        "network:\n"
        "  a: conv(8, 3\n"  # 10: does not parse
        "  b: ok(4)\n"
        "  c:\n"
        "    cat: [relu, relu]\n"  # 13: a misread keyword
        "  d: {call: relu, axis: 1}\n"  # 14: pydantic: an unknown key
    )
    errors = errors_of(tmp_path, text)
    assert spots(errors) == sorted(spots(errors))
    lines = [line for line, _ in spots(errors)]
    assert lines == [2, 5, 8, 10, 13, 14], [e.message for e in errors]
    assert "'cat' looks like the keyword 'concat'" in errors[4].message
    assert errors[4].trace == ("c",)


def test_an_error_in_the_whole_network_is_not_also_a_missing_network(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, HEAD + "network: conv(8, 3\n")
    assert [e.message for e in errors] == ["invalid expression: '(' was never closed"]


def test_a_listed_network_reports_each_item(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, HEAD + "network:\n  - conv(8, 3\n  - relu\n  - relu ->\n")
    assert [line for line, _ in spots(errors)] == [5, 7]


# ----------------------------------------------------------------- expansion
def test_expansion_goes_on_after_a_failed_top_level_step(tmp_path: Path) -> None:
    text = HEAD + (
        "params: {width: 8}\n"
        "network:\n"
        "  a: conv(widht, 3)\n"  # 6
        "  b: relu\n"
        "  c: maxpol(2)\n"  # 8
        "  d: conv(4, 3, strides=2)\n"  # 9
    )
    errors = errors_of(tmp_path, text)
    assert [e.message for e in errors] == [
        "undefined name 'widht'",
        "unknown op or block 'maxpol'",
        "unknown argument 'strides' for conv",
    ]
    assert [line for line, _ in spots(errors)] == [6, 8, 9]
    assert [e.trace[0] for e in errors] == ["a", "c", "d"]


def test_a_block_error_met_by_several_calls_is_reported_once(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  'unit(c)': conv(c, 3, strides=2)\nnetwork:\n  a: unit(4)\n  b: unit(8)\n"
    (error,) = errors_of(tmp_path, text)
    assert error.message == "unknown argument 'strides' for conv"
    assert error.notes and "unit(c=4) is called at" in error.notes[0]


def test_an_error_inside_a_block_call_stops_that_call_only(tmp_path: Path) -> None:
    text = HEAD + (
        "blocks:\n  'unit(c)': conv(c, 3, strides=2) -> maxpol(2)\n"  # the maxpol is not reached
        "network:\n  a: unit(4)\n  b: relu(1)\n"
    )
    errors = errors_of(tmp_path, text)
    assert [e.message for e in errors] == [
        "unknown argument 'strides' for conv",
        "relu takes at most 0 arguments, got 1",
    ]


def test_a_bound_on_the_network_s_size_stops_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the network outgrew a bound, every later step would fail it again, each at its own spot."""
    monkeypatch.setattr(expand, "MAX_NODES", 5)
    text = HEAD + "network:\n  a: maxpol(2)\n  b: relu * 10\n  c: relu\n  d: relu\n"
    errors = errors_of(tmp_path, text)
    assert [e.message for e in errors] == [
        "unknown op or block 'maxpol'",
        "the network expands to more than 5 ops",
    ]


# ----------------------------------------------------------------- reports
def test_gathered_keeps_each_error_once_and_a_lone_error_as_itself() -> None:
    here, there = Location("f.yaml", 3, 5), Location("f.yaml", 4, 1)
    first = SpecError("unknown op", here, trace=("a",))
    assert gathered([first]) is first
    several = gathered([first, SpecError("unknown op", here, trace=("b",)), SpecError("unknown op", there)])
    assert isinstance(several, SpecErrors)
    assert [e.loc for e in several.errors] == [here, there]
    with pytest.raises(ValueError, match="at least one"):
        gathered([])


def test_reports_show_the_first_errors_and_count_the_rest(tmp_path: Path) -> None:
    count = MAX_SHOWN + 5
    steps = "".join(f"  s{i}: relu({i})\n" for i in range(count))
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + "network:\n" + steps)
    with pytest.raises(SpecErrors) as info:
        archspec.shapes(path)
    assert len(info.value.errors) == count
    text = info.value.render(snippet=False)
    assert text.count("error: relu takes at most 0 arguments") == MAX_SHOWN
    assert text.endswith(f"error: ... (and 5 more errors; the first {MAX_SHOWN} are shown)")

    plain = run_check(str(path))
    assert plain.returncode == 1
    assert plain.stderr.count(": error: relu takes at most 0 arguments") == MAX_SHOWN
    assert "(and 5 more errors; the first 20 are shown)" in plain.stderr

    listed = run_check("--format", "json", str(path))
    (report,) = json.loads(listed.stdout)
    assert len(report["errors"]) == MAX_SHOWN and report["errors_not_shown"] == 5
    assert [e["line"] for e in report["errors"]] == list(range(5, 5 + MAX_SHOWN))


def test_a_report_of_one_error_leaves_nothing_out(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(HEAD + "network: relu(1)\n")
    (report,) = json.loads(run_check("--format", "json", str(path)).stdout)
    assert len(report["errors"]) == 1 and report["errors_not_shown"] == 0
