"""Run the long fuzzing profile (``python -m pytest -m fuzz tests/fuzz``) and record it in RESULTS.md.

The section ``fuzz`` of benchmarks/RESULTS.md gets the number of generated cases per fuzz test,
how they ended (success, or a located SpecError: nothing else is allowed), the input classes
they were drawn from, and the time taken. Nothing is recorded if any case failed.

    python benchmarks/record_fuzz.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_section

ROOT = Path(__file__).resolve().parents[1]

#: What each fuzz test draws, in words (the test modules' docstrings say more).
CLASSES = {
    "loader: yaml text": "spec-like YAML as dumped and with random edits, arbitrary unicode, nasty characters "
    "(NUL, BOM, tabs, CR, U+2028, controls), nesting 1-3,000 deep in flow and block styles, alias bombs, "
    "recursive and undefined aliases, merge keys, tags (`!!python/...`, `!!binary`, custom), directives",
    "loader: json text": "spec-like JSON as dumped and edited, nesting to 3,000, duplicate keys, NaN/Infinity, "
    "huge numbers, lone surrogates, trailing commas, two documents",
    "pipeline: spec file": "all of the above written to .yaml/.json files and taken from load to shapes, "
    "plus raw bytes (non-UTF-8, UTF-16, BOMs, NULs)",
    "expressions": "well-formed expressions from the grammar (literals, names, arithmetic, comparisons, "
    "and/or/not, if-else, lists, tuples, indexing, slicing, calls, `->`) and garbage (random characters "
    "and unicode, forbidden constructs, dunder escapes, resource traps, 1,000-deep chains), in expression "
    "and `for` mode",
    "networks: structures": "spec-shaped dicts and lists of random scalars (huge and negative ints, NaN, inf, "
    "unicode, hostile strings), as mappings, YAML and JSON",
    "networks: wrong": "random op and block calls with random, misspelt, missing and extra arguments, random "
    "blocks with defaults (recursive ones among them), params, repeat/for with bad counts, if, DAGs with "
    "unknown and reserved names, random input shapes, hostile names",
    "networks: plausible": "mostly valid layers over small inputs with the odd mistake or hostile name",
    "torch: plausible networks": "plausible networks emitted, built, run forward (eval and train), weights "
    "saved and reloaded; all emitted sources checked by ruff",
    "cli: command lines": "every command with random options and values (bad shapes, `--set` with code, "
    "huge and negative numbers, unknown formats and backends), on real, generated, library, missing and "
    "directory specs and junk weights, with and without --debug",
    "sources: hostile docs, names, strings": "a block network whose doc, step names and block name are hostile "
    "text (long words of escapes, quotes, backslashes, control and bidi characters), emitted by every "
    "source backend: the source must parse",
    "paths: not regular files": "FIFOs, device nodes, sockets, folders, dangling and looping symlinks given "
    "as the spec and as the output: refused, never read, blocked on or replaced",
    "libraries: diamond chains": "random DAGs of up to 40 libraries using each other: each file read once",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "fuzz.json"
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "fuzz", "-q", "-p", "no:cacheprovider", "tests/fuzz"],
            cwd=ROOT,
            env={**os.environ, "ARCHSPEC_FUZZ_REPORT": str(report)},
        )
        wall = time.perf_counter() - start
        if done.returncode != 0 or not report.exists():
            sys.exit("the long fuzz run failed: nothing recorded")
        data = json.loads(report.read_text())
    rows = []
    for test, entry in data["tests"].items():
        kinds = ", ".join(f"{kind} {sum(n.values()):,}" for kind, n in sorted(entry["classes"].items()))
        rows.append(
            f"| {test} | {entry['examples']:,} | {entry['ok']:,} | {entry['error']:,} | {entry['seconds']:.0f} s "
            f"| {CLASSES.get(test, '')} ({kinds}) |"
        )
    body = "\n".join(
        [
            "## Fuzzing: the long profile (`python -m pytest -m fuzz tests/fuzz`, `benchmarks/record_fuzz.py`)",
            "",
            f"{data['examples']:,} generated cases in {wall / 60:.1f} min; every one ended in success or in a "
            "SpecError located in its file (with a line where the input had lines). None raised anything else, "
            f"ran past the {data['deadline_seconds']:g} s hard per-case deadline, or traced more than "
            f"{data['memory_bound_mib']} MiB (tracemalloc peak per case).",
            "",
            "| fuzz test | cases | ok | located errors | time in cases | input classes (cases) |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    write_section("fuzz", body)
    print(body)


if __name__ == "__main__":
    main()
