"""How commands report a spec's errors: rendered for people on stderr, or as data for programs."""

from __future__ import annotations

import sys
from typing import Any

import typer

from archspec.errors import SpecError, SpecErrors


def fail(exc: SpecError | SpecErrors) -> None:
    """Print ``exc`` for people on stderr, in colour where stderr is a terminal."""
    typer.echo(exc.render(color=sys.stderr.isatty()), err=True)


def errors_json(exc: SpecError | SpecErrors) -> list[dict[str, Any]]:
    """``exc`` as the ``errors`` list of ``--format json``: one object per error, every field named."""
    errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
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
