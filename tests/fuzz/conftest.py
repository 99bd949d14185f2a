"""Fuzz-run bookkeeping: a summary of the examples run, and a JSON report for benchmarks/record_fuzz.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import fuzzlib

_START = time.perf_counter()


def _summary() -> dict[str, object]:
    by_test: dict[str, dict[str, object]] = {}
    for (test, kind, outcome), n in sorted(fuzzlib.COUNTS.items()):
        entry = by_test.setdefault(test, {"examples": 0, "ok": 0, "error": 0, "classes": {}, "seconds": 0.0})
        entry["examples"] += n  # type: ignore[operator]
        entry[outcome] += n  # type: ignore[operator]
        classes = entry["classes"]
        assert isinstance(classes, dict)
        classes.setdefault(kind, {"ok": 0, "error": 0})[outcome] += n
        entry["seconds"] = round(fuzzlib.TIMES[test], 2)
    return {
        "examples": sum(fuzzlib.COUNTS.values()),
        "wall_seconds": round(time.perf_counter() - _START, 1),
        "deadline_seconds": fuzzlib.HARD_DEADLINE_S,
        "memory_bound_mib": fuzzlib.MEMORY_BOUND // 2**20,
        "tests": by_test,
    }


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not fuzzlib.COUNTS:
        return
    summary = _summary()
    terminalreporter.write_sep("-", "archspec fuzzing")
    for test, entry in summary["tests"].items():  # type: ignore[union-attr]
        terminalreporter.write_line(
            f"{test}: {entry['examples']} examples ({entry['ok']} ok, {entry['error']} located errors), "
            f"{entry['seconds']} s"
        )
    verdict = "every one a success or a located SpecError" if exitstatus == 0 else "see the failures above"
    terminalreporter.write_line(f"total: {summary['examples']} examples; {verdict}")
    report = os.environ.get("ARCHSPEC_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps(summary, indent=2))
