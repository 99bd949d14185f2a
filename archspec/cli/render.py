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

_HEADERS = ("path", "op", "output shape", "params", "MACs")


def _shape(shape: tuple[int | str, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


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

    def line(cells: tuple[str, ...], styles: tuple[str, ...]) -> None:
        for i, (cell, style) in enumerate(zip(cells, styles, strict=True)):
            padded = cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            text.append(padded, style=style or None)
            text.append("  " if i < len(cells) - 1 else "\n")

    text = Text(no_wrap=True, overflow="ignore")
    ids = f" {graph.input.dtype} ids" if graph.input.is_integer else ""  # real values go unsaid, as ever
    text.append(f"{graph.name}  input {_shape(graph.input.shape)}{ids}\n", style="bold")
    line(_HEADERS, ("bold",) * 5)
    for cells in rows:
        line(cells, ("", "cyan", "green", "", ""))
    symbolic = bool(graph.input.shape) and isinstance(graph.input.shape[0], str)
    # other symbolic sizes (a sequence length T) count as 1 too: MACs per token
    lengths = [f"{d} = 1" for d in graph.input.shape[1:] if isinstance(d, str)]
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
