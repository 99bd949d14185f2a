"""``archspec compile``: write what a backend makes of a spec (``.py`` source, an ``.onnx`` model).

Registered on the app by :mod:`archspec.cli.main`; the backend loads only when the command runs,
and its framework only where the weights must be checked.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archspec.cli.options import (
    InputOpt,
    MaxActivationOpt,
    MaxParamsOpt,
    OptionOpt,
    SetOpt,
    known_backend,
    output_file,
    parse_inputs,
    parse_options,
    parse_sets,
)
from archspec.cli.output import fail
from archspec.errors import SpecError, SpecErrors
from archspec.io import check_output_path

if TYPE_CHECKING:
    from archspec.backends import Backend, BackendOptions


def compile_spec(
    spec: Annotated[
        Path, typer.Argument(help="A spec file (.yaml, .yml or .json).", show_default=False, metavar="SPEC")
    ],
    output_text: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="The file to write (e.g. model.py).")
    ],
    backend: Annotated[
        str, typer.Option("--backend", "-b", metavar="NAME", help="torch, flax, onnx or any installed backend.")
    ] = "torch",
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights", "-w", metavar="FILE", help="Canonical safetensors weights to check against the network."
        ),
    ] = None,
    sets: SetOpt = None,
    input: InputOpt = None,
    options: OptionOpt = None,
    opset: Annotated[
        int | None, typer.Option("--opset", metavar="N", help="Shorthand for -O opset=N (onnx).", show_default=False)
    ] = None,
    fold_bn: Annotated[bool, typer.Option("--fold-bn", help="Shorthand for -O fold_bn=true (onnx).")] = False,
    max_params: MaxParamsOpt = None,
    max_activation: MaxActivationOpt = None,
) -> None:
    """Write standalone source for a spec (readable PyTorch for --backend torch).

    With --weights, the weights file is checked against the compiled network (every
    missing, unexpected or misshapen tensor is reported) before anything is written; for
    --backend torch the file then also defines load_weights(model, path=WEIGHTS), which
    loads that file (found relative to model.py) or another canonical one.

    For --backend onnx the file is the .onnx model itself, with the --weights given or
    seeded random ones (it says which).

    \b
    Options of the built-in backends (-O NAME=VALUE):
      onnx   opset    int, default 17: from 13 to the newest the installed onnx knows
             fold_bn  bool, default false: fold each batchnorm into the convolution before it
             seed     int, default 0: of the random weights written without --weights
      flax   none for compile: data_format and seed are options of archspec.build
             (the compiled class takes data_format= and rngs= itself)
      torch  none

    Example: archspec compile specs/googlenet.yaml --backend torch -o googlenet.py
    """
    from archspec import api
    from archspec.backends import get_backend

    known_backend(backend)
    output = output_file(output_text, "model.py")
    given = parse_options(options)
    for name, shorthand, value in (("opset", "--opset", opset), ("fold_bn", "--fold-bn", fold_bn or None)):
        if value is not None:
            if name in given:
                raise typer.BadParameter(f"{shorthand} repeats -O {name}=...: give one of them", param_hint=shorthand)
            given[name] = str(value)
    try:
        check_output_path(output)  # nothing that is not a regular file is replaced, and no work is done first
        program = api.load(spec)
        spec_file, *libraries = program.files
        read = [(spec_file, "the spec"), *((lib, "a block library the spec uses") for lib in libraries)]
        _refuse_overwriting_inputs(output, [*read, *([(weights, "the weights file")] if weights else [])])
        # Shapes first: an absurd network is refused before a backend loads.
        report = api.shapes(
            program, parse_sets(sets), parse_inputs(input), max_params=max_params, max_activation=max_activation
        )
        chosen = get_backend(backend)
        resolved = _resolve_options(chosen, given)
        if output.suffix.lower() != chosen.artifact.suffix:
            kind, suffix = chosen.artifact.kind, chosen.artifact.suffix
            typer.echo(f"note: {output} gets {kind}, which is usually named *{suffix}", err=True)
        message = chosen.export(report.graph, report, output, weights, resolved)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
        raise typer.Exit(1) from None
    typer.echo(message, err=True)


def _resolve_options(chosen: Backend, given: dict[str, str]) -> BackendOptions:
    """``given`` read by ``chosen``'s declared options; a usage error (exit 2) where they do not fit."""
    try:
        return chosen.Options.resolve(chosen.name, given)
    except SpecError as exc:
        detail = "".join(f"; {part}" for part in (exc.expected and f"expected {exc.expected}", exc.hint) if part)
        raise typer.BadParameter(exc.message + detail, param_hint="--option") from None


def _refuse_overwriting_inputs(output: Path, inputs: list[tuple[Path, str]]) -> None:
    """A usage error when ``output`` is one of the files the command reads (``inputs``: each
    with what it is): writing would destroy what the output is made from."""
    try:
        target = output.resolve()
    except (OSError, RuntimeError):
        return  # check_output_path has refused whatever cannot be resolved
    for path, what in inputs:
        with contextlib.suppress(OSError, RuntimeError):
            if path.resolve() == target:
                raise typer.BadParameter(
                    f"{output} is {what}; writing it would destroy it: choose another output file",
                    param_hint="--output",
                )
