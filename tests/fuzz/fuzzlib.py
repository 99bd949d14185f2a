"""What every fuzz test shares: the allowed outcomes, the per-example guards, the profiles, the counts.

An example may end in exactly two ways: success, or archspec's own :class:`SpecError` /
:class:`SpecErrors` whose every error carries a location (always the file; a line too,
where the input was text with lines, except for the few file-level errors listed in
:data:`FILE_LEVEL`). Anything else fails the test: another exception, an example running
past :data:`HARD_DEADLINE_S` (a SIGALRM interrupts it), or one whose traced memory
(tracemalloc) peaks more than :data:`MEMORY_BOUND` above where it started.

Two profiles: ``fast`` runs in the default test run (a few hundred examples in all,
derandomized so CI is repeatable); ``long`` is selected with ``python -m pytest -m fuzz``
(at least 10,000 examples in all). Every example is counted by input class and outcome;
``tests/fuzz/conftest.py`` prints the counts and, with ``ARCHSPEC_FUZZ_REPORT=path``,
writes them as JSON (``benchmarks/record_fuzz.py`` turns that into benchmarks/RESULTS.md).
"""

from __future__ import annotations

import collections
import contextlib
import re
import signal
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from archspec.errors import SpecError, SpecErrors

HARD_DEADLINE_S = 20.0
MEMORY_BOUND = 192 * 2**20

#: Errors about a file as a whole, which have no line to point at.
FILE_LEVEL = tuple(
    re.compile(p)
    for p in (
        r"^spec file is empty",
        r"^spec file is not UTF-8 text",
        r"^spec file is [\d,]+ bytes",
        r"^cannot read spec file",
        r"^JSON nested deeper than",
        r"^spec nested deeper than \d+ levels$",  # from JSON, whose parser gives no positions
        r"^YAML nested deeper than",
        r"^invalid YAML: ",  # reader errors (a control character) carry no mark in PyYAML's C path
    )
)


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int  # per test, scaled by each test's weight

    def settings(self, weight: float = 1.0) -> settings:
        fast = self.name == "fast"
        return settings(
            max_examples=max(10, int(self.examples * weight)),
            deadline=None,  # the hard per-example deadline below replaces hypothesis' (timing-flaky) one
            derandomize=fast,
            database=None if fast else settings.default.database,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
            print_blob=True,
        )


FAST = Profile("fast", 40)
LONG = Profile("long", 1600)
PROFILES = [pytest.param(FAST, id="fast"), pytest.param(LONG, id="long", marks=pytest.mark.fuzz)]

#: (test, input class, outcome) -> count, for the summary; outcome is "ok" or "error".
COUNTS: collections.Counter[tuple[str, str, str]] = collections.Counter()
TIMES: dict[str, float] = collections.defaultdict(float)


class Hang(BaseException):
    """Raised by SIGALRM in an example that ran past the hard deadline (BaseException: nothing swallows it)."""


@contextlib.contextmanager
def hard_deadline(seconds: float = HARD_DEADLINE_S) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(_signum: int, _frame: Any) -> None:
        raise Hang(f"example ran past the hard deadline of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_bound(bound: int = MEMORY_BOUND) -> Iterator[None]:
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()
    assert peak <= bound, f"example used {peak / 2**20:.1f} MiB, over the bound of {bound / 2**20:.0f} MiB"


def errors_of(exc: SpecError | SpecErrors) -> list[SpecError]:
    return list(exc.errors) if isinstance(exc, SpecErrors) else [exc]


def check_located(exc: SpecError | SpecErrors, files: set[str], lines: bool) -> None:
    """Every error names one of ``files``; with ``lines``, a line too (unless file-level)."""
    found = errors_of(exc)
    assert found, "an empty SpecErrors"
    for error in found:
        assert isinstance(error, SpecError), type(error)
        assert error.loc is not None, f"error without a location: {error}"
        assert error.loc.file in files, f"error located in {error.loc.file!r}, expected one of {files}: {error}"
        if lines and not any(p.search(error.message) for p in FILE_LEVEL):
            assert error.loc.line >= 1, f"error in a text file without a line: {error}"
            assert error.loc.column >= 1, f"error with a line but no column: {error}"
    # Rendering (with the source excerpt) must not fail either.
    assert exc.render(color=True, snippet=True)
    assert str(exc)


def guarded(
    test: str,
    kind: str,
    action: Callable[[], Any],
    *,
    files: set[str],
    lines: bool,
    bound: int = MEMORY_BOUND,
) -> Any:
    """Run one example: its result, or None after an allowed, located SpecError; counted as ``kind``."""
    start = time.perf_counter()
    outcome = "ok"
    try:
        with memory_bound(bound), hard_deadline():
            try:
                result = action()
            except (SpecError, SpecErrors) as exc:
                check_located(exc, files, lines)
                outcome = "error"
                result = None
    finally:
        TIMES[test] += time.perf_counter() - start
    COUNTS[(test, kind, outcome)] += 1
    return result
