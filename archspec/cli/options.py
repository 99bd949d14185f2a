"""Options shared by several commands, and how their text is read: network params (--set), the
input shape (--input), backend options (--option) and the resource bounds.

The bounds' defaults are :data:`archspec.infer.MAX_PARAMS` and :data:`archspec.infer.MAX_ACTIVATION`,
written out here so that ``--help`` needs no import of the shape pass.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from archspec.errors import SpecError

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
OptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-O",
        metavar="NAME=VALUE",
        help="An option of the backend: -O opset=18 (repeatable; the built-in backends' are listed above).",
    ),
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


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["classes=100", "arch=[[1, 64]]"]`` → ``{"classes": 100, "arch": [[1, 64]]}``."""
    from archspec.spec import expr as exprs

    out: dict[str, Any] = {}
    for name, text in _pairs(items, "--set"):
        try:
            tree = exprs.parse(text.strip() or "''")
        except SpecError as exc:
            raise typer.BadParameter(f"{name}: {exc.message}", param_hint="--set") from None
        body = getattr(tree, "body", tree)
        ok, value = exprs.literal(body)
        if not ok:
            lowered = text.strip().lower()
            if lowered in ("true", "false"):
                value = lowered == "true"
            elif isinstance(body, ast.Name):
                value = text.strip()  # a bare word is a string
            else:
                raise typer.BadParameter(f"{name}: '{text}' is not a literal value", param_hint="--set")
        out[name] = value
    return out


def parse_options(items: list[str] | None) -> dict[str, str]:
    """``["opset=18", "fold_bn=true"]`` → ``{"opset": "18", "fold_bn": "true"}``: the values stay
    text, which the backend's declared options read into their types (see
    :meth:`archspec.backends.BackendOptions.resolve`)."""
    options: dict[str, str] = {}
    for name, text in _pairs(items, "--option"):
        if name in options and options[name] != text:
            raise typer.BadParameter(f"{name} is given twice ({options[name]} and {text})", param_hint="--option")
        options[name] = text
    return options


def output_file(text: str, example: str) -> Path:
    """The file ``-o`` names, or a usage error for what names no file to write: ``-`` (standard
    output, which the commands do not write: a .onnx model or a PNG is binary) and a path ending
    in a slash (a folder; ``Path`` would silently drop the slash and write a file named like the
    folder). ``example`` is a file name the hints suggest (``model.py``)."""
    if text == "-":
        raise typer.BadParameter(
            f"'-' would be standard output; this command writes a file: give its name, e.g. -o {example}",
            param_hint="--output",
        )
    if text.endswith(("/", os.sep)) or text in ("", ".", ".."):
        raise typer.BadParameter(
            f"'{text}' names a folder; give a file in it, e.g. -o {text.rstrip('/' + os.sep) or '.'}/{example}",
            param_hint="--output",
        )
    return Path(text)


#: ``--input``: the one input's shape, or ``NAME=SHAPE`` once per named input.
InputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--input",
        "-i",
        metavar="SHAPE|NAME=SHAPE",
        help="Input shape, e.g. 1x3x224x224 (N keeps the batch symbolic); NAME=SHAPE for each named input.",
    ),
]


def parse_inputs(items: list[str] | None) -> list[int | str] | dict[str, list[int | str]] | None:
    """``--input`` items: one shape (``1x3x224x224``), or named ones (``image=1x3x64x64``, ...)."""
    if not items:
        return None
    pairs = [item.partition("=") for item in items]
    if len(items) == 1 and not pairs[0][1]:
        return parse_input(items[0])
    unnamed = [item for item, (_, eq, _) in zip(items, pairs, strict=True) if not eq]
    if unnamed:
        raise typer.BadParameter(
            f"'{unnamed[0]}' has no name: with several --input, each is NAME=SHAPE", param_hint="--input"
        )
    shapes: dict[str, list[int | str]] = {}
    for name, _, shape in pairs:
        name = name.strip()
        if not name.isidentifier() or not name.isascii():
            raise typer.BadParameter(f"'{name}' is not an input name", param_hint="--input")
        if name in shapes:
            raise typer.BadParameter(f"input '{name}' is given twice", param_hint="--input")
        dims = parse_input(shape)
        assert dims is not None
        shapes[name] = dims
    return shapes


def parse_input(text: str | None) -> list[int | str] | None:
    """``"1x3x224x224"`` or ``"N,3,224,224"`` → ``[1, 3, 224, 224]`` / ``["N", 3, 224, 224]``."""
    if text is None:
        return None
    parts = [p.strip() for p in text.replace(",", "x").replace("X", "x").split("x")]
    dims: list[int | str] = []
    shown = text if len(text) <= 60 else text[:57] + "..."
    for part in parts:
        if not part.isascii():  # str.isdigit takes '８' and '²', int() the first: ASCII only, as specs
            raise typer.BadParameter(
                f"'{shown}' is not a shape like 1x3x224x224 (ASCII digits and names)", param_hint="--input"
            )
        if part.isdigit() and len(part) > 18:
            raise typer.BadParameter(f"a dimension of {len(part):,} digits is not a size", param_hint="--input")
        if part.isdigit() and int(part) > 0:
            dims.append(int(part))
        elif part.isidentifier():
            dims.append(part)
        else:
            raise typer.BadParameter(f"'{shown}' is not a shape like 1x3x224x224", param_hint="--input")
    return dims


def _pairs(items: list[str] | None, option: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` items split at the first ``=``; a usage error for any other form."""
    pairs = []
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise typer.BadParameter(f"expected NAME=VALUE, got '{item}'", param_hint=option)
        pairs.append((name, text.strip()))
    return pairs
