"""``archspec draw``: a picture of the network (SVG, PNG, Graphviz DOT or Mermaid).

Registered on the app by :mod:`archspec.cli.main`; the work is :mod:`archspec.drawing`
(framework-free). SVG and PNG run Graphviz's ``dot``; where it is missing the command says in
one line how to install it (a usage error, exit 2) before doing any work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archspec.cli.options import InputOpt, MaxActivationOpt, MaxParamsOpt, SetOpt, output_file, parse_inputs, parse_sets
from archspec.cli.output import fail
from archspec.errors import SpecError, SpecErrors


def draw_spec(
    spec: Annotated[
        Path, typer.Argument(help="A spec file (.yaml, .yml or .json).", show_default=False, metavar="SPEC")
    ],
    output_text: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="The picture: .svg or .png (Graphviz), .dot, or .mmd (Mermaid)."
        ),
    ],
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            "-d",
            min=1,
            metavar="N",
            help="Draw scopes this many path components deep as one box each (1: the network's top-level "
            "steps); default: every op.",
        ),
    ] = None,
    counts: Annotated[bool, typer.Option("--counts", help="Show each box's parameter and MAC counts.")] = False,
    input: InputOpt = None,
    sets: SetOpt = None,
    max_params: MaxParamsOpt = None,
    max_activation: MaxActivationOpt = None,
) -> None:
    """Draw the network: a box per op (or per block, with --depth), clusters around blocks and
    branches, edges labelled with the tensor shapes.

    .svg and .png are laid out and rendered by Graphviz's `dot` program, which must be installed
    (Debian/Ubuntu: apt-get install graphviz); .dot (Graphviz source) and .mmd (a Mermaid
    flowchart, which GitHub renders in Markdown) need nothing else.

    Example: archspec draw specs/googlenet.yaml --depth 2 -o googlenet.svg
    """
    from archspec import drawing
    from archspec.io import check_output_path

    output = output_file(output_text, "net.svg")
    try:
        fmt = drawing.format_of(output)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--output") from None
    if fmt in drawing.NEEDS_GRAPHVIZ and not drawing.graphviz_installed():
        _no_graphviz(drawing.install_graphviz_line(fmt))
    try:
        check_output_path(output)  # nothing that is not a regular file is replaced, and no work is done first
        made = drawing.draw(
            spec,
            output,
            depth=depth,
            counts=counts,
            params=parse_sets(sets),
            input_shape=parse_inputs(input),
            max_params=max_params,
            max_activation=max_activation,
        )
    except (SpecError, SpecErrors) as exc:
        fail(exc)
        raise typer.Exit(1) from None
    except drawing.GraphvizNotFound as exc:  # `dot` went away after the check above
        _no_graphviz(str(exc))
    boxes, edges = len(made.diagram.boxes()), len(made.diagram.edges)
    typer.echo(f"wrote {output} ({boxes} boxes, {edges} edges)", err=True)


def _no_graphviz(line: str) -> None:
    typer.echo(f"error: {line}", err=True)
    raise typer.Exit(2)
