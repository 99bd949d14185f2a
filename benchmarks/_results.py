"""What every benchmark shares: timing one function, formatting times and verdicts, and writing
one section of benchmarks/RESULTS.md (leaving the other sections as they are)."""

from __future__ import annotations

import platform
import re
import statistics
from collections.abc import Callable
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
