"""What every benchmark shares: timing functions side by side, formatting times and verdicts, and writing
one section of benchmarks/RESULTS.md (leaving the other sections as they are)."""

from __future__ import annotations

import platform
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "Each section is rewritten by the script named in it; ratios are measured side by side in one run.\n"
)


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between ``<!-- name -->`` markers."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"<!-- {name} -->\n{body.rstrip()}\n\n_Measured {stamp} on {machine()}._\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


@dataclass(frozen=True)
class Timed:
    """Seconds per call of several functions timed round by round in rotating order, and per-round
    ratios of each to the first."""

    medians: tuple[float, ...]
    ratios: tuple[float, ...]  # median over rounds of (fn i / fn 0) in the same round; ratios[0] = 1
    q1: tuple[float, ...]  # quartiles of those ratios
    q3: tuple[float, ...]
    best: tuple[float, ...]  # fastest call of fn i / fastest of fn 0
    rounds: int


def timed(fns: Sequence[Callable[[], object]], rounds: int, clock: Callable[[], float], sample_seconds: float) -> Timed:
    """Time ``fns`` round by round, rotating which goes first (so none always runs on a cache its
    neighbour warmed or cooled); a sample is as many calls as fill about ``sample_seconds`` of
    ``clock``, so fast calls are not lost in the timer's resolution."""
    for fn in fns:
        fn()
    start = clock()
    fns[0]()
    calls = max(1, round(sample_seconds / max(clock() - start, 1e-9)))
    times: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        for k in range(len(fns)):
            which = (r + k) % len(fns)
            fn = fns[which]
            start = clock()
            for _ in range(calls):
                fn()
            times[which].append((clock() - start) / calls)
    ratios, q1, q3 = [], [], []
    for series in times:
        per_round = [x / y for x, y in zip(series, times[0], strict=True)]
        quartiles = statistics.quantiles(per_round, n=4) if rounds > 1 else [per_round[0]] * 3
        ratios.append(statistics.median(per_round))
        q1.append(quartiles[0])
        q3.append(quartiles[2])
    medians = tuple(statistics.median(s) for s in times)
    best = tuple(min(s) / min(times[0]) for s in times)
    return Timed(medians, tuple(ratios), tuple(q1), tuple(q3), best, rounds)


def median_time(fn: Callable[[], object], rounds: int, clock: Callable[[], float]) -> float:
    """Median seconds of one call of ``fn`` over ``rounds`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(rounds):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


def verdict(ok: bool, q1: float = 2.0) -> str:
    """A table's last cell: met, missed, or above target with the middle half of ratios reaching 1."""
    if ok:
        return "meets target"
    return "above target, within noise (middle half reaches 1)" if q1 <= 1.0 else "**misses target**"
