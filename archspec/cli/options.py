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
        help="Refuse networks with more learnable parameters than this (default 10,000,000,000).",
        show_default=False,
    ),
]
MaxActivationOpt = Annotated[
    int | None,
    typer.Option(
        "--max-activation",
        min=1,
        help="Refuse networks with a tensor (the input included) of more elements than this "
        "(default 4,294,967,296; a symbolic batch counts as 1).",
        show_default=False,
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a network param: --set classes=100 (repeatable).", metavar="NAME=VALUE"),
]
