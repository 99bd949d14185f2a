"""The look shared by the DOT and Mermaid writers: label widths and fill colours."""

from __future__ import annotations

#: The widest a label line grows before it wraps, in characters.
WIDTH = 44

#: Fill colours of op boxes by op family, and of the other boxes by what they are.
FILL = {
    "conv": "#cfe2f3",
    "linear": "#d9d2e9",
    "norm": "#fff2cc",
    "activation": "#d9ead3",
    "pool": "#fce5cd",
    "tensor": "#eeeeee",
    "merge": "#f4cccc",
    "param": "#fff2cc",
    "resize": "#d0e0e3",
    "attention": "#ead1dc",
    "embedding": "#d9d2e9",
    "input": "#ffffff",
    "output": "#ffffff",
}
COLLAPSED_FILL = "#fdf6e3"
#: Block clusters nested in one another get darker, so each is told from the one around it.
CLUSTER_FILLS = ("#f6f8fb", "#eaf0f7", "#dde7f2", "#d0def0")
