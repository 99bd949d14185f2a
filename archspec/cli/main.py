"""The ``archspec`` command line.

Exit codes: 0 ok, 1 a spec (or parity) failure, 2 a usage error. A user mistake
never prints a traceback; ``--debug`` shows one for archspec's own failures.
Heavy modules (rich, pydantic models, backends) load inside the commands, so
``archspec --help`` and ``archspec shapes`` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from archspec._version import __version__
from archspec.cli.options import MaxActivationOpt, MaxParamsOpt, SetOpt
from archspec.errors import SpecError, SpecErrors

app = typer.Typer(
    name="archspec",
    help="Compile declarative neural-network specs: check them, infer shapes, emit modules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_STATE: dict[str, Any] = {"debug": False}
INTERRUPTED = 130  # the shell's code for a process ended by SIGINT

SpecArg = Annotated[
    Path, typer.Argument(help="A spec file (.yaml, .yml or .json).", show_default=False, metavar="SPEC")
]
InputOpt = Annotated[
    str | None,
    typer.Option("--input", "-i", metavar="SHAPE", help="Input shape, e.g. 1x3x224x224 (N keeps the batch symbolic)."),
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


# ---------------------------------------------------------------- arguments
def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["classes=100", "arch=[[1, 64]]"]`` → ``{"classes": 100, "arch": [[1, 64]]}``."""
    from archspec.spec import expr as exprs

    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise typer.BadParameter(f"expected NAME=VALUE, got '{item}'", param_hint="--set")
        try:
            tree = exprs.parse(text.strip() or "''")
        except SpecError as exc:
            raise typer.BadParameter(f"{name}: {exc.message}", param_hint="--set") from None
        ok, value = exprs.literal(getattr(tree, "body", tree))
        if not ok:
            body = getattr(tree, "body", None)
            lowered = text.strip().lower()
            if lowered in ("true", "false"):
                value = lowered == "true"
            elif body is not None and body.__class__.__name__ == "Name":
                value = text.strip()  # a bare word is a string
            else:
                raise typer.BadParameter(f"{name}: '{text}' is not a literal value", param_hint="--set")
        out[name] = value
    return out


def parse_input(text: str | None) -> list[int | str] | None:
    """``"1x3x224x224"`` or ``"N,3,224,224"`` → ``[1, 3, 224, 224]`` / ``["N", 3, 224, 224]``."""
    if text is None:
        return None
    parts = [p.strip() for p in text.replace(",", "x").replace("X", "x").split("x")]
    dims: list[int | str] = []
    for part in parts:
        if part.isdigit() and int(part) > 0:
            dims.append(int(part))
        elif part.isidentifier():
            dims.append(part)
        else:
            raise typer.BadParameter(f"'{text}' is not a shape like 1x3x224x224", param_hint="--input")
    return dims


def _fail(exc: SpecError | SpecErrors) -> None:
    color = sys.stderr.isatty()
    typer.echo(exc.render(color=color), err=True)


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
            results.append(
                {"file": str(path), "ok": False, "errors": [{**e, "backend": None} for e in _errors_json(exc)]}
            )
            if fmt != "json":
                _fail(exc)
            continue
        verdicts = check_backends(report, backends, required=backend is not None)
        refusals = [(v.backend, error) for v in verdicts for error in v.errors]
        results.append(
            {
                "file": str(path),
                "ok": not refusals,
                **({"errors": [{**_errors_json(e)[0], "backend": name} for name, e in refusals]} if refusals else {}),
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
            _fail(SpecErrors(error for _, error in refusals))
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
            spec, parse_sets(sets), parse_input(input), max_params=max_params, max_activation=max_activation
        )
    except (SpecError, SpecErrors) as exc:
        if fmt == "json":  # for programs, as check's: the errors as data, on stdout
            typer.echo(json.dumps({"file": str(spec), "ok": False, "errors": _errors_json(exc)}, indent=2))
        else:
            _fail(exc)
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


@app.command()
def cache(clear: Annotated[bool, typer.Option("--clear", help="Remove every entry.")] = False) -> None:
    """Show the build cache (the generated source of networks built before) or empty it.

    archspec.build keeps each network's generated source there, keyed by the spec's text,
    params, backend and archspec's code, so building it again skips straight to running it.
    Set ARCHSPEC_CACHE_DIR to move it, ARCHSPEC_CACHE=0 to turn it off.

    Example: archspec cache --clear
    """
    from archspec.cache import MAX_ENTRIES, BuildCache, cache_dir

    root = cache_dir()
    if root is None:
        typer.echo(f"build cache: off (ARCHSPEC_CACHE={os.environ.get('ARCHSPEC_CACHE', '')})")
        return
    store = BuildCache(root)
    if clear:
        removed = store.clear()
        typer.echo(f"build cache: {root}: removed {removed} {'entry' if removed == 1 else 'entries'}")
        return
    entries = store.entries()
    size = 0
    for path in entries:
        try:
            size += path.stat().st_size
        except OSError:
            continue
    typer.echo(
        f"build cache: {root}\n{len(entries)} {'entry' if len(entries) == 1 else 'entries'}, "
        f"{size / 1024:,.0f} KiB (the {MAX_ENTRIES} most recently used are kept)"
    )


from archspec.cli.compile import compile_spec  # noqa: E402  (a command of its own file)

app.command("compile")(compile_spec)

from archspec.cli.parity import parity_spec  # noqa: E402  (a command of its own file)

app.command("parity")(parity_spec)


def _errors_json(exc: SpecError | SpecErrors) -> list[dict[str, Any]]:
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
    """Console entry point: run the app, turning failures into messages and exit codes."""
    try:
        result = app(standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (SpecError, SpecErrors) as exc:
        _fail(exc)
        sys.exit(1)
    except SystemExit:
        raise
    except typer.Abort:  # click turns Ctrl-C into Abort
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        code = getattr(exc, "exit_code", None)
        if hasattr(exc, "show") and isinstance(code, int):
            exc.show()  # a usage error from click (typer vendors its own copy of click)
            sys.exit(code)
        # Anything else is archspec's own bug: say so, in one line, unless debugging.
        if _STATE["debug"]:
            raise
        typer.echo(internal_error_line(exc), err=True)
        sys.exit(3)
    if result == INTERRUPTED:  # typer turns Ctrl-C inside a command into exit code 130
        typer.echo("interrupted", err=True)
    sys.exit(result if isinstance(result, int) else 0)
