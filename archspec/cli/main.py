"""The ``archspec`` command line.

Exit codes: 0 ok, 1 a spec (or parity) failure, 2 a usage error. A user mistake
never prints a traceback; ``--debug`` shows one for archspec's own failures.
Heavy modules (rich, pydantic models, backends) load inside the commands, so
``archspec --help`` and ``archspec shapes`` start fast.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from archspec._version import __version__
from archspec.cli.compile import compile_spec
from archspec.cli.draw import draw_spec
from archspec.cli.options import (
    InputOpt,
    MaxActivationOpt,
    MaxParamsOpt,
    SetOpt,
    parse_inputs,
    parse_sets,
)
from archspec.cli.output import errors_json, fail, failure_json
from archspec.cli.parity import parity_spec
from archspec.errors import SpecError, SpecErrors

app = typer.Typer(
    name="archspec",
    help="Compile declarative neural-network specs: check them, infer shapes, emit modules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_STATE: dict[str, Any] = {"debug": False, "interrupted": False}
INTERRUPTED = 130  # the shell's code for a process ended by SIGINT

SpecArg = Annotated[
    Path, typer.Argument(help="A spec file (.yaml, .yml or .json).", show_default=False, metavar="SPEC")
]
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", metavar="table|json", help="table (for people) or json (for programs).")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"archspec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    _STATE["debug"] = debug


# ------------------------------------------------------------------ commands
@app.command()
def check(
    specs: Annotated[list[Path], typer.Argument(help="Spec files to check.", show_default=False, metavar="SPEC...")],
    sets: SetOpt = None,
    fmt: FormatOpt = "table",
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            "-b",
            metavar="NAME",
            help="Check that this backend builds the networks (default: every installed backend).",
            show_default=False,
        ),
    ] = None,
    max_params: MaxParamsOpt = None,
    max_activation: MaxActivationOpt = None,
) -> None:
    """Validate specs (syntax, blocks, every shape) and that each backend builds them; exit 1
    with located errors.

    Every installed backend runs its lowering rules over each network (nothing is built or
    allocated); one that cannot be loaded is noted and skipped, unless named with --backend.

    Example: archspec check specs/*.yaml
    """
    from archspec import api
    from archspec.backend_check import check_backends, installed_backends
    from archspec.cli.options import known_backend
    from archspec.spec.program import IsLibrary

    overrides = parse_sets(sets)
    backends = [known_backend(backend)] if backend is not None else installed_backends()
    failed = 0
    results = []
    for path in specs:
        try:
            report = api.shapes(
                path, overrides if overrides else None, max_params=max_params, max_activation=max_activation
            )
        except IsLibrary as lib:
            names = sorted(lib.library.blocks) if lib.library else []
            results.append({"file": str(path), "ok": True, "library": True, "blocks": names})
            if fmt != "json":
                typer.echo(f"ok  {path}  (block library: {', '.join(names)})")
            continue
        except (SpecError, SpecErrors) as exc:
            failed += 1
            results.append(failure_json(path, exc))
            if fmt != "json":
                fail(exc)
            continue
        verdicts = check_backends(report, backends, required=backend is not None)
        refusals = [(v.backend, error) for v in verdicts for error in v.errors]
        results.append(
            {
                "file": str(path),
                "ok": not refusals,
                **({"errors": [{**errors_json(e)[0], "backend": name} for name, e in refusals]} if refusals else {}),
                "nodes": len(report.graph),
                "params": report.total_params,
                "backends": {v.backend: v.status for v in verdicts},
            }
        )
        failed += bool(refusals)
        if fmt == "json":
            continue
        for v in verdicts:
            if v.unavailable is not None:
                typer.echo(f"note: {path}: not checked on the {v.backend} backend: {v.unavailable}", err=True)
        if refusals:
            fail(SpecErrors(error for _, error in refusals))
            continue
        built = ", ".join(v.backend for v in verdicts if v.ok)
        built = f"; builds on {built}" if built else ""
        typer.echo(f"ok  {path}  ({len(report.graph)} ops, {report.total_params:,} params{built})")
    if fmt == "json":
        typer.echo(json.dumps(results, indent=2))
    if failed:
        raise typer.Exit(1)


@app.command()
def shapes(
    spec: SpecArg,
    input: InputOpt = None,
    sets: SetOpt = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", "-d", min=1, metavar="N", help="Show rows down to this depth (1: the network's top-level steps)."
        ),
    ] = None,
    fmt: FormatOpt = "table",
    max_params: MaxParamsOpt = None,
    max_activation: MaxActivationOpt = None,
) -> None:
    """Print every layer's output shape, parameter count and MACs, with totals.

    Example: archspec shapes specs/googlenet.yaml --input 1x1x96x96 --depth 1
    """
    from archspec import api

    if fmt not in ("table", "json"):
        raise typer.BadParameter("choose table or json", param_hint="--format")
    try:
        report = api.shapes(
            spec, parse_sets(sets), parse_inputs(input), max_params=max_params, max_activation=max_activation
        )
    except (SpecError, SpecErrors) as exc:
        if fmt == "json":  # for programs, as check's: the errors as data, on stdout
            typer.echo(json.dumps(failure_json(spec, exc), indent=2))
        else:
            fail(exc)
        raise typer.Exit(1) from None
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(depth)))
        return
    from archspec.cli.render import print_shape_table

    print_shape_table(report, depth)


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to a file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of spec files (for editor validation and completion).

    Example: archspec schema -o archspec.schema.json
    """
    from archspec.spec.schema import spec_json_schema

    text = json.dumps(spec_json_schema(), indent=2)
    if output is None:
        typer.echo(text)
        return
    from archspec.io import atomic_write_text

    atomic_write_text(output, text + "\n")


app.command("compile")(compile_spec)
app.command("parity")(parity_spec)
app.command("draw")(draw_spec)


def internal_error_line(exc: BaseException) -> str:
    """archspec's own failure ``exc``, for people, in one line: what it is, where (its notes), and
    how to see more."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split()) or type(exc).__name__
    notes = "; ".join(" ".join(str(note).split()) for note in getattr(exc, "__notes__", ()))
    where = f" ({notes})" if notes else ""
    return (
        f"internal error: {text}{where}: a bug in archspec, please report it; "
        "`archspec --debug <command> ...` shows the traceback"
    )


def main() -> None:
    """Console entry point: run the app, turning failures into messages and exit codes.

    Ctrl-C is exit 130 with one line that says which files were written in full before it (any
    other output keeps its old content), also when a library swallowed the KeyboardInterrupt
    it raised: the SIGINT handler remembers it was pressed."""
    _STATE["interrupted"] = False
    _written().clear()
    previous = signal.signal(signal.SIGINT, _on_sigint) if _in_main_thread() else None
    try:
        code = _run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if _STATE["interrupted"] or code == INTERRUPTED:
        _say_interrupted()
        code = INTERRUPTED
    sys.exit(code)


def _run() -> int:
    try:
        result = app(standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):  # click turns Ctrl-C into Abort
        return INTERRUPTED
    except typer.Exit as exc:
        return exc.exit_code
    except (SpecError, SpecErrors) as exc:
        fail(exc)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except Exception as exc:
        code = getattr(exc, "exit_code", None)
        if hasattr(exc, "show") and isinstance(code, int):
            exc.show()  # a usage error from click (typer vendors its own copy of click)
            return code
        # Anything else is archspec's own bug: say so, briefly, unless debugging.
        if _STATE["debug"]:
            raise
        typer.echo(internal_error_line(exc), err=True)
        return 3
    return result if isinstance(result, int) else 0  # typer turns Ctrl-C inside a command into 130


def _on_sigint(signum: int, frame: object) -> None:
    _STATE["interrupted"] = True
    raise KeyboardInterrupt


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _written() -> list[Path]:
    """The files written in full so far (none where no command has imported archspec.io)."""
    io = sys.modules.get("archspec.io")
    return io.WRITTEN if io is not None else []


def _say_interrupted() -> None:
    written = _written()
    if written:
        files = ", ".join(str(p) for p in written)
        typer.echo(f"interrupted; {files} had been written in full", err=True)
    else:
        typer.echo("interrupted; nothing was written (any file there is unchanged)", err=True)
