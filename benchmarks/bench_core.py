"""Core speed: shape inference in process, `archspec shapes` as a process, and scaling with network size.

Run: python benchmarks/bench_core.py   (rewrites the "core" section of benchmarks/RESULTS.md)

Targets (issue 2): (a) googlenet.yaml load + expand + infer in process under 20 ms;
(b) `archspec shapes specs/googlenet.yaml` as a whole process under 0.5 s;
(c) chains of 100 / 1,000 / 10,000 blocks grow linearly, 10,000 under 2 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_section

ROOT = Path(__file__).resolve().parents[1]
GOOGLENET = ROOT / "specs" / "googlenet.yaml"


def times_of(fn: Callable[[], object], repeat: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    return statistics.median(times_of(fn, repeat, warmup))


def chain_spec(blocks: int) -> str:
    """A network of `blocks` calls of a two-op block, each at its own path."""
    return (
        "archspec: 1\nname: chain\ninput: [1, 8, 16, 16]\n"
        "blocks:\n  unit(c): conv(c, 3, padding=1) -> relu\n"
        "network:\n" + "".join("  - unit(8)\n" for _ in range(blocks))
    )


def main() -> None:
    import archspec.api as api

    in_process = median_time(lambda: api.shapes(GOOGLENET), repeat=30, warmup=3)
    graph = api.to_graph(GOOGLENET)
    infer_only = median_time(lambda: api.shapes(graph), repeat=30, warmup=3)

    command = [sys.executable, "-m", "archspec", "shapes", str(GOOGLENET)]
    process = median_time(lambda: subprocess.run(command, check=True, capture_output=True), repeat=7)
    command_json = [*command, "--format", "json"]
    process_json = median_time(lambda: subprocess.run(command_json, check=True, capture_output=True), repeat=7)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 1_000, 10_000):
            path = Path(tmp) / f"chain{n}.yaml"
            path.write_text(chain_spec(n))
            # Best of several runs: the machine is shared, and a scaling ratio needs each size's
            # own cost, not whatever else ran during one of its runs.
            seconds = min(times_of(lambda p=path: api.shapes(p), repeat=7 if n < 10_000 else 5))
            rows.append((n, seconds))

    def verdict(ok: bool) -> str:
        return "meets target" if ok else "**misses target**"

    per_block = [s / n for n, s in rows]
    lines = [
        "## Core: spec to shapes (`benchmarks/bench_core.py`)",
        "",
        "| measurement | median | target | |",
        "|---|---:|---:|---|",
        f"| googlenet.yaml load + expand + infer, in process | {in_process * 1e3:.1f} ms | 20 ms "
        f"| {verdict(in_process < 0.020)} |",
        f"| googlenet shape inference alone (IR given) | {infer_only * 1e3:.2f} ms | | |",
        f"| `archspec shapes specs/googlenet.yaml`, whole process (table) | {process * 1e3:.0f} ms | 500 ms "
        f"| {verdict(process < 0.5)} |",
        f"| same with `--format json` | {process_json * 1e3:.0f} ms | 500 ms | {verdict(process_json < 0.5)} |",
        "",
        "Generated chains (`unit(c): conv(c, 3, padding=1) -> relu`, two ops per block), load + expand + infer,"
        " best of 5-7 runs:",
        "",
        "| blocks | ops | time | per block |",
        "|---:|---:|---:|---:|",
        *(f"| {n:,} | {2 * n:,} | {s * 1e3:.0f} ms | {s / n * 1e6:.0f} µs |" for n, s in rows),
        "",
        f"Growth: 10,000 blocks take {rows[2][1] / rows[1][1]:.1f}x the time of 1,000 "
        f"and {rows[1][1] / rows[0][1]:.1f}x that of 100 → 1,000 (linear is 10x); "
        f"per-block cost varies {max(per_block) / min(per_block):.2f}x across sizes. "
        f"10,000 blocks: {rows[2][1]:.2f} s (target 2 s, {verdict(rows[2][1] < 2.0)}).",
    ]
    write_section("core", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
