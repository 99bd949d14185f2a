"""Shape tables for people.

The table is laid out here (column widths from the data) and handed to rich as one
styled :class:`rich.text.Text`, which colours it on a terminal and prints plain text
elsewhere. Laying out thousands of rows with ``rich.table.Table`` costs ~1 ms a row;
this costs microseconds.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from archspec.infer import Row, ShapeReport, human
from archspec.ir import GRAPH_INPUT

_HEADERS = ("path", "op", "output shape", "params", "MACs")


def _shape(shape: tuple[int | str, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _inputs(report: ShapeReport) -> str:
    """The table's heading after the name: ``input [N, 3, 224, 224]``, or each named input."""
    inputs = report.graph.inputs
    typed = {name: _shape(t.shape) + (f" {t.dtype} ids" if t.is_integer else "") for name, t in inputs.items()}
    if GRAPH_INPUT in typed:
        return f"input {typed[GRAPH_INPUT]}"
    return "inputs " + ", ".join(f"{name} {shown}" for name, shown in typed.items())


def _cells(row: Row) -> tuple[str, str, str, str, str]:
    name = row.path.rsplit(".", 1)[-1] if row.depth > 1 else row.path
    return (
        "  " * (row.depth - 1) + name,
        row.op,
        _shape(row.shape),
        f"{row.params:,}" if row.params else "-",
        human(row.macs) if row.macs else "-",
    )


def shape_table_text(report: ShapeReport, depth: int | None) -> Text:
    """The table and totals as styled text."""
    graph = report.graph
    rows = [_cells(r) for r in report.table(depth)]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(_HEADERS)]
    right = (False, False, False, True, True)

    def line(cells: tuple[str, ...], styles: tuple[str, ...], output: str | None = None) -> None:
        for i, (cell, style) in enumerate(zip(cells, styles, strict=True)):
            padded = cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            text.append(padded, style=style or None)
            text.append("  " if i < len(cells) - 1 else "")
        if output is not None:  # a step the network returns, marked with its output's name
            text.append(f"  -> output '{output}'", style="bold")
        text.append("\n")

    text = Text(no_wrap=True, overflow="ignore")
    text.append(f"{graph.name}  {_inputs(report)}\n", style="bold")
    line(_HEADERS, ("bold",) * 5)
    for row, cells in zip(report.table(depth), rows, strict=True):
        line(cells, ("", "cyan", "green", "", ""), row.output)
    symbolic = any(t.shape and isinstance(t.shape[0], str) for t in graph.inputs.values())
    # other symbolic sizes (a sequence length T) count as 1 too: MACs per token
    lengths = sorted({f"{d} = 1" for t in graph.inputs.values() for d in t.shape[1:] if isinstance(d, str)})
    text.append(f"total params:  {report.total_params:,}\n", style="bold")
    for alias, canonical in report.ties.items():
        text.append(f"tied:          {alias} is {canonical} (one tensor, counted once)\n")
    text.append(f"total buffers: {report.total_buffers:,} (running statistics, not trained)\n")
    text.append(
        f"total MACs:    {report.total_macs:,} ({human(report.total_macs)}"
        f"{', per sample' if symbolic else ''}{''.join(f', {n}' for n in lengths)}; torchinfo mult-adds, FLOPs ~ 2x)"
    )
    return text


def print_shape_table(report: ShapeReport, depth: int | None, console: Console | None = None) -> None:
    """Print the per-layer table and the totals."""
    console = console or Console(highlight=False, soft_wrap=True)
    console.print(shape_table_text(report, depth), soft_wrap=True)
