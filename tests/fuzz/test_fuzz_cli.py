"""Random command lines through ``archspec`` (in process, through the console entry point ``main``).

Classes: every command (check, shapes, compile, schema, unknown ones) with random options and
option values (shapes like ``1x-3``, ``--set`` texts with code in them, huge and negative
numbers, unknown formats and backends, missing values), on real specs, generated right and
wrong specs, block libraries, directories, missing files and junk weights files; with and
without ``--debug``. Allowed: exit 0, 1 (with a located ``error:``) or 2 (usage), and never
a traceback or an internal error.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from archspec.cli.main import main

from .fuzz_strategies import networks, plausible_networks
from .fuzzlib import COUNTS, PROFILES, TIMES, Profile, hard_deadline, memory_bound

ROOT = Path(__file__).resolve().parents[2]

_SHAPES = ["1x1x96x96", "Nx1x96x96", "2x1x64x64", "0x3", "1x-3", "", "x", "N", "1,1,96,96", "1X1X96X96",
           "1x3x100000x100000", "1x1x９６x96", "1e3x1", "99999999999999999999x1x96x96"]  # fmt: skip
_SETS = ["classes=3", "classes", "=3", "classes=[1, 2]", "classes='x'", "c=__import__('os')", "classes=1e999",
         "x y=1", "classes=" + "9" * 50, "classes=-1", "classes=true", "classes=(1 + 2)", "ｃlasses=3"]  # fmt: skip
_NUMBERS = ["0", "1", "-1", "10", "1000000000000", "abc", "", "1e3", str(2**70)]


def _options(folder: Path) -> st.SearchStrategy[list[str]]:
    pairs = st.one_of(
        st.tuples(st.sampled_from(["--input", "-i"]), st.sampled_from(_SHAPES)),
        st.tuples(st.sampled_from(["--set", "-s"]), st.sampled_from(_SETS)),
        st.tuples(st.sampled_from(["--depth", "-d"]), st.sampled_from(_NUMBERS)),
        st.tuples(st.sampled_from(["--format", "-f"]), st.sampled_from(["table", "json", "xml", ""])),
        st.tuples(st.sampled_from(["--max-params", "--max-activation"]), st.sampled_from(_NUMBERS)),
        st.tuples(st.sampled_from(["-o", "--output"]), st.sampled_from([str(folder / "out.py"), str(folder), ""])),
        st.tuples(st.just("--backend"), st.sampled_from(["torch", "nope", "", "TORCH", "torch;rm"])),
        st.tuples(st.just("--weights"), st.sampled_from([str(folder / "junk.safetensors"), str(folder / "none")])),
        st.tuples(st.sampled_from(["--fold-bn", "--frobnicate", "--"]), st.just("")),
    )
    return st.lists(pairs, max_size=4).map(lambda ps: [part for pair in ps for part in pair if part != ""])


def _specs(folder: Path) -> st.SearchStrategy[str]:
    def write(spec: object, name: str) -> str:
        path = folder / name
        path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return str(path)

    return st.one_of(
        st.sampled_from([str(ROOT / "specs" / "googlenet.yaml"), str(ROOT / "specs" / "lenet_bn.yaml")]),
        st.sampled_from([str(ROOT / "specs" / "blocks" / "inception.yaml"), str(folder), str(folder / "missing.yaml")]),
        plausible_networks().map(lambda s: write(s, "plausible.yaml")),
        networks().map(lambda s: write(s, "wrong.yaml")),
    )


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    old = sys.argv
    sys.argv = ["archspec", *argv]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.argv = old
    return (code if isinstance(code, int) else 1 if code else 0), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("profile", PROFILES)
def test_random_command_lines(profile: Profile, tmp_path: Path) -> None:
    (tmp_path / "junk.safetensors").write_bytes(os.urandom(64))
    commands = st.sampled_from(["check", "shapes", "shapes", "compile", "schema", "shape", "--version", ""])

    @profile.settings(weight=0.75)
    @given(commands, _specs(tmp_path), _options(tmp_path), st.booleans(), st.booleans())
    def run(command: str, spec: str, options: list[str], debug: bool, second: bool) -> None:
        argv = [*(["--debug"] if debug else []), *([command] if command else []), spec, *options]
        if second and command == "check":
            argv.append(str(ROOT / "specs" / "nin.yaml"))
        start = time.perf_counter()
        with memory_bound(), hard_deadline():
            code, out, err = _run(argv)
        TIMES["cli: command lines"] += time.perf_counter() - start
        kind = f"{command or '(none)'}: exit {code}"
        COUNTS[("cli: command lines", kind, "ok" if code == 0 else "error")] += 1
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in err and "Traceback" not in out, (argv, err)
        assert "internal error" not in err, (argv, err)
        if code == 1:  # located: on stderr, or with --format json as the report's errors on stdout
            assert "error:" in err or "Aborted" in err or _json_errors_located(out), (argv, err, out)

    run()


def _json_errors_located(out: str) -> bool:
    """Whether ``out`` is a JSON report (a list of them for several files: ``check``) whose errors
    all name the file they are in."""
    try:
        report = json.loads(out)
        reports = report if isinstance(report, list) else [report]
        errors = [error for one in reports for error in one.get("errors", ())]
    except (ValueError, AttributeError, TypeError):
        return False
    return bool(errors) and all(error.get("file") for error in errors)
