"""Shape tables for people, drawn with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from archspec.shapes import ShapeReport


def _shape(shape: tuple[int | str, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def print_shape_table(report: ShapeReport, depth: int | None, console: Console | None = None) -> None:
    """Print the per-layer table and the totals."""
    console = console or Console(highlight=False)
    graph = report.graph
    table = Table(title=f"{graph.name}  input {_shape(graph.input.shape)}", title_justify="left", box=None)
    table.add_column("path", no_wrap=True)
    table.add_column("op", style="cyan", no_wrap=True)
    table.add_column("output shape", no_wrap=True)
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    for row in report.table(depth):
        indent = "  " * (row.depth - 1)
        table.add_row(
            f"{indent}{row.path.rsplit('.', 1)[-1] if row.depth > 1 else row.path}",
            row.op,
            _shape(row.shape),
            f"{row.params:,}" if row.params else "-",
            _human(row.macs) if row.macs else "-",
        )
    console.print(table)
    symbolic = any(isinstance(d, str) for d in graph.input.shape[:1])
    console.print(f"total params:  {report.total_params:,}")
    console.print(f"total buffers: {report.total_buffers:,} (running statistics, not trained)")
    console.print(
        f"total MACs:    {report.total_macs:,} ({_human(report.total_macs)}"
        f"{', per sample' if symbolic else ''}; torchinfo mult-adds, FLOPs ~ 2x)"
    )
