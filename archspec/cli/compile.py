"""``archspec compile``: emit a backend's source for a spec (``.py`` for torch).

Registered on the app by :mod:`archspec.cli.main`; the backend (and its framework)
loads only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archspec.cli.options import MaxActivationOpt, MaxParamsOpt, SetOpt, known_backend
from archspec.errors import SpecError, SpecErrors


def compile_spec(
    spec: Annotated[
        Path, typer.Argument(help="A spec file (.yaml, .yml or .json).", show_default=False, metavar="SPEC")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write (e.g. model.py).")],
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
    input: Annotated[
        str | None,
        typer.Option(
            "--input", "-i", metavar="SHAPE", help="Input shape, e.g. 1x3x224x224 (N keeps the batch symbolic)."
        ),
    ] = None,
    opset: Annotated[
        int | None,
        typer.Option("--opset", metavar="N", help="ONNX opset (onnx only; default 17, read by most runtimes)."),
    ] = None,
    fold_bn: Annotated[
        bool, typer.Option("--fold-bn", help="Fold each batchnorm into the convolution before it (onnx only).")
    ] = False,
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

    Example: archspec compile specs/googlenet.yaml --backend torch -o googlenet.py
    """
    from archspec import api
    from archspec.backends import get_backend
    from archspec.cli.main import _fail, parse_input, parse_sets
    from archspec.io import atomic_write_text

    known_backend(backend)
    try:
        # Shapes first: an absurd network is refused before a backend (or its framework) loads.
        report = api.shapes(
            spec, parse_sets(sets), parse_input(input), max_params=max_params, max_activation=max_activation
        )
        chosen = get_backend(backend)
        export_file = getattr(chosen, "export_file", None)  # backends whose artefact is a model file (onnx)
        if export_file is not None:
            if output.suffix.lower() != ".onnx":
                typer.echo(f"note: {output} gets an ONNX model (binary), not source", err=True)
            message = export_file(report.graph, report, output, weights=weights, opset=opset, fold_bn=fold_bn)
            typer.echo(message, err=True)
            return
        if output.suffix.lower() == ".onnx":
            typer.echo(f"note: {output} gets {backend} source; --backend onnx writes an ONNX model", err=True)
        if opset is not None or fold_bn:
            raise typer.BadParameter(f"--opset and --fold-bn are for --backend onnx, not {backend}")
        with_weights = getattr(chosen, "emit_with_weights", None)  # source that can load its weights (torch)
        if weights is not None and with_weights is not None:
            emitted = with_weights(report.graph, report, weights, output)  # checks them first
        else:
            emitted = chosen.emit(report.graph, report)
            if weights is not None:
                chosen.build(report.graph, report, weights)  # all mismatches, by name, or nothing
    except (SpecError, SpecErrors) as exc:
        _fail(exc)
        raise typer.Exit(1) from None
    atomic_write_text(output, emitted.source)
    loads = ""
    if weights is not None:
        loads = (
            f"; load_weights({emitted.entry}()) reads {weights}"
            if with_weights
            else f"; {weights} fits it: the {backend} backend's load_weights loads it"
        )
    typer.echo(f"wrote {output} ({emitted.entry}, {report.total_params:,} params{loads})", err=True)
