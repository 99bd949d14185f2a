"""Options shared by several commands: network params (--set) and the resource bounds.

Their defaults are :data:`archspec.infer.MAX_PARAMS` and :data:`archspec.infer.MAX_ACTIVATION`,
written out here so that ``--help`` needs no import of the shape pass.
"""

from __future__ import annotations

from typing import Annotated

import typer

MaxParamsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-params",
        min=1,
        metavar="N",
        help="Refuse networks with more learnable parameters than this (default 10,000,000,000).",
        show_default=False,
    ),
]
MaxActivationOpt = Annotated[
    int | None,
    typer.Option(
        "--max-activation",
        min=1,
        metavar="N",
        help="Refuse networks with a tensor (the input included) of more elements than this "
        "(default 4,294,967,296; a symbolic batch counts as 1).",
        show_default=False,
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a network param: --set classes=100 (repeatable).", metavar="NAME=VALUE"),
]


def known_backend(name: str, option: str = "--backend") -> str:
    """``name`` if a backend is registered under it (without loading it), else a usage error."""
    from archspec.backends import backend_entry_points
    from archspec.errors import did_you_mean, one_of

    points = backend_entry_points()
    if name not in points:
        suggestion = did_you_mean(name, points)
        raise typer.BadParameter(
            f"no backend '{name}'; installed: {one_of(points)}" + (f" ({suggestion})" if suggestion else ""),
            param_hint=option,
        )
    return name
