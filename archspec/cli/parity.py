"""``archspec parity``: the same seeded weights and input through several backends, differences tabled.

Registered on the app by :mod:`archspec.cli.main`; the work is :func:`archspec.parity.parity`
(framework-free), and each backend's framework loads only when the command runs.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archspec.cli.options import SetOpt, known_backend, parse_inputs, parse_sets
from archspec.cli.output import fail
from archspec.errors import SpecError, SpecErrors

if TYPE_CHECKING:
    from archspec.parity import ParityReport


def parity_spec(
    spec: Annotated[
        Path, typer.Argument(help="A spec file (.yaml, .yml or .json).", show_default=False, metavar="SPEC")
    ],
    backends: Annotated[
        str,
        typer.Option(
            "--backends", "-b", metavar="A,B,...", help="Comma-separated backends; the first is the reference."
        ),
    ] = "torch,flax",
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            metavar="eval|train",
            help="eval, or train: one step with batch statistics (running stats compared).",
        ),
    ] = "eval",
    grad: Annotated[
        bool, typer.Option("--grad", help="Also compare gradients of sum(output * cotangent) for input and params.")
    ] = False,
    device: Annotated[
        str, typer.Option("--device", metavar="cpu|cuda[:N]", help="cpu or cuda (TF32 off for fp32).")
    ] = "cpu",
    dtype: Annotated[
        str,
        typer.Option(
            "--dtype",
            metavar="float32|float64",
            help="float32, or float64 to tell rounding (ill-conditioned nets) from real bugs.",
        ),
    ] = "float32",
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=65536, metavar="N", help="Batch size of the seeded input.")
    ] = 2,
    atol: Annotated[float, typer.Option("--atol", min=0.0, metavar="X", help="Absolute tolerance.")] = 1e-4,
    rtol: Annotated[
        float, typer.Option("--rtol", min=0.0, metavar="X", help="Tolerance relative to max|reference|.")
    ] = 1e-4,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, max=2**63 - 1, metavar="N", help="Seed of the weights, input and cotangent."),
    ] = 0,
    sets: SetOpt = None,
    input: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="SHAPE|NAME=SHAPE",
            help="Input shape, e.g. Nx3x64x64 (the batch comes from --batch); NAME=SHAPE for each named input.",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="table|json", help="table (for people) or json (for programs).")
    ] = "table",
) -> None:
    """Run a spec through several backends with the same seeded weights and input; compare.

    Prints, per top-level stage and for the output (plus running statistics in train mode
    and gradients with --grad), the max abs difference max|a - b| and the max rel difference
    max|a - b| / max|a| against the first backend a. A tensor passes when
    max|a - b| <= atol + rtol * max|a|; exit 1 when any does not. In train mode dropout
    and drop_path rates are set to 0 (frameworks draw different masks). --dtype float64 runs every backend
    in float64, which separates real differences from float32 rounding in ill-conditioned nets.

    Example: archspec parity specs/googlenet.yaml --backends torch,flax --mode train --grad
    """
    from archspec.parity import parity

    if fmt not in ("table", "json"):
        raise typer.BadParameter("choose table or json", param_hint="--format")
    if mode not in ("eval", "train"):
        raise typer.BadParameter("choose eval or train", param_hint="--mode")
    if dtype not in ("float32", "float64"):
        raise typer.BadParameter("choose float32 or float64", param_hint="--dtype")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise typer.BadParameter(f"'{device}' is not a device: choose cpu, cuda or cuda:N", param_hint="--device")
    names = [known_backend(b.strip(), "--backends") for b in backends.split(",") if b.strip()]
    try:
        report = parity(
            spec,
            names,
            mode=mode,
            grad=grad,
            device=device,
            batch=batch,
            atol=atol,
            rtol=rtol,
            seed=seed,
            params=parse_sets(sets) or None,
            input_shape=parse_inputs(input),
            dtype=dtype,
        )
    except (SpecError, SpecErrors) as exc:
        fail(exc)
        raise typer.Exit(1) from None
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2, default=_json_number))
    else:
        _print_table(report)
    if not report.ok:
        raise typer.Exit(1)


def _json_number(value: object) -> object:
    return str(value)


def _number(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.2e}"


def _print_table(report: ParityReport) -> None:
    shapes = {name: "x".join(str(d) for d in shape) for name, shape in report.input_shapes.items()}
    shown = ", ".join(f"{name} {shape}" for name, shape in shapes.items())  # "input 2x3x64x64" for one
    typer.echo(
        f"parity {report.spec}: {', '.join(report.backends)} (reference {report.reference}), {report.mode} mode"
        f"{', gradients' if report.grad else ''}, {report.device}, {report.dtype}, {shown}, seed {report.seed}"
    )
    typer.echo(f"pass: max|a - b| <= {report.atol:g} + {report.rtol:g} * max|a|  (a: {report.reference})")
    rows = [("backend", "kind", "name", "max abs", "max rel", "", "worst tensor / note")]
    for r in report.rows:
        detail = r.note or (f"{r.worst} (of {r.tensors})" if r.worst else "")
        rows.append((r.backend, r.kind, r.name, _number(r.abs), _number(r.rel), "ok" if r.ok else "FAIL", detail))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for backend, why in report.skipped.items():
        typer.echo(f"skipped {backend}: {why}")
    for note in report.notes:
        typer.echo(f"note: {note}")
    failed = sum(not r.ok for r in report.rows)
    typer.echo("ok" if not failed else f"{failed} row{'s' if failed != 1 else ''} over tolerance")
    if failed and report.dtype == "float32" and (report.mode == "train" or report.grad):
        typer.echo(
            "hint: train-mode batch statistics and gradients can magnify float32 rounding past the tolerance; "
            "--dtype float64 shows whether the backends agree up to rounding"
        )
