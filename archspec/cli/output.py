"""How commands report a spec's errors: rendered for people on stderr, or as data for programs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from archspec.errors import SpecError, SpecErrors


def fail(exc: SpecError | SpecErrors) -> None:
    """Print ``exc`` for people on stderr, in colour where stderr is a terminal."""
    typer.echo(exc.render(color=sys.stderr.isatty()), err=True)


def failure_json(path: Path, exc: SpecError | SpecErrors) -> dict[str, Any]:
    """A failed spec's report for programs: its errors, capped as the text report is."""
    not_shown = exc.not_shown if isinstance(exc, SpecErrors) else 0
    errors = [{**error, "backend": None} for error in errors_json(exc)]  # the spec's own, not a backend's
    return {"file": str(path), "ok": False, "errors": errors, "errors_not_shown": not_shown}


def errors_json(exc: SpecError | SpecErrors) -> list[dict[str, Any]]:
    """``exc`` as the ``errors`` list of ``--format json``: one object per error shown, every field named."""
    errors = exc.shown if isinstance(exc, SpecErrors) else [exc]
    return [
        {
            "message": e.message,
            "file": e.loc.file if e.loc else None,
            "line": e.loc.line if e.loc and e.loc.line > 0 else None,
            "column": e.loc.column if e.loc and e.loc.line > 0 else None,
            "trace": list(e.trace),
            "expected": e.expected,
            "found": e.found,
            "hint": e.hint,
            "notes": list(e.notes),
        }
        for e in errors
    ]
