"""The words of a drawing, and how each output format is kept safe from them.

Names, docs and string arguments come from specs, which are untrusted. Everything a spec can put
into a label goes through :func:`plain` first (whitespace folded to spaces, every other control,
bidirectional or invisible character written as its escape, length bounded), then through the
escaping of the format it lands in: :func:`html_label` for Graphviz's HTML-like labels (and so for
the SVG that ``dot`` writes from them), :func:`mermaid_text` for Mermaid. The structure around the
labels (node ids, attributes) is made by archspec alone and never holds spec text.
"""

from __future__ import annotations

import enum
import html
import re
import textwrap
import unicodedata
from collections.abc import Iterable
from typing import Any

#: The longest one label line may grow before it is cut (a 100,000-character doc is not drawn).
MAX_LINE = 300

_WHITESPACE = re.compile(r"\s+")


def plain(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one inert line: whitespace runs (newlines included) become one space; control,
    format (bidi overrides, zero-width), private-use and unassigned characters, and the line and
    paragraph separators, become their escapes (``\\u202e``); past ``limit`` characters it is cut."""
    text = _WHITESPACE.sub(" ", text).strip()
    text = "".join(ascii(ch)[1:-1] if _unsafe(ch) else ch for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp")


def wrapped(text: str, width: int, max_lines: int) -> list[str]:
    """``text`` made :func:`plain` and wrapped at spaces into at most ``max_lines`` lines (the last
    ending in `` …`` where text is left out), never inside brackets (``c2=[96, 128]`` stays whole)
    unless a list is wider than a line."""
    text = plain(text, width * (max_lines + 1))
    if len(text) <= width:
        return [text]
    lines = textwrap.wrap(
        _unbreakable_lists(text),
        width,
        break_long_words=True,
        break_on_hyphens=False,
        max_lines=max_lines,
        placeholder=" …",
    )
    return [line.replace(_NO_BREAK, " ") for line in lines] or [""]


_NO_BREAK = "\xa0"  # textwrap breaks at ASCII whitespace only; plain() made any of the spec's own a space


def _unbreakable_lists(text: str) -> str:
    out, level = [], 0
    for ch in text:
        if ch == "[":
            level += 1
        elif ch == "]" and level:
            level -= 1
        out.append(_NO_BREAK if ch == " " and level else ch)
    return "".join(out)


def html_label(text: str) -> str:
    """``text`` made :func:`plain` and escaped for a Graphviz HTML-like label: ``& < > " '`` as
    entities, every non-ASCII character as a numeric reference (so the DOT is ASCII), and each
    backslash doubled: Graphviz expands ``\\N``, ``\\G``, ``\\E``... (the node's, graph's,
    edge's names) in HTML labels too, after reading entities, so ``&#92;N`` would not do."""
    escaped = html.escape(plain(text), quote=True).replace("\\", "\\\\")
    return escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


#: Characters Mermaid reads as text inside a quoted label; every other one is written as an
#: entity (``#35;``), so no quote, bracket, pipe, ``%%`` comment, backtick (markdown strings),
#: ``<`` (HTML) or ``#`` (entities) from a spec reaches Mermaid's parser.
_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._,:=+-*/()")


def mermaid_text(text: str) -> str:
    """``text`` made :func:`plain` and written for a quoted Mermaid label."""
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in plain(text))


# ---------------------------------------------------------------------------------- values
def literal(value: Any) -> str:
    """A value written as a spec writes it: ``[96, 128]``, ``true``, ``'tanh'``, ``1e-05``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, enum.Enum):
        return literal(value.value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return str(value)


def compact(value: Any) -> Any:
    """A canonical attribute as short as it was likely written: a tuple of equal entries (one per
    spatial axis, or a ``(lo, hi)`` padding pair) becomes that entry, so ``((3, 3), (3, 3))`` is 3."""
    if isinstance(value, tuple) and value:
        items = tuple(compact(v) for v in value)
        return items[0] if all(v == items[0] for v in items) else items
    return value


def call(name: str, positional: Iterable[Any] = (), keywords: Iterable[tuple[str, Any]] = ()) -> str:
    """``conv(64, 7, stride=2)``: a call written in the spec's syntax."""
    args = [literal(v) for v in positional] + [f"{k}={literal(v)}" for k, v in keywords]
    return f"{name}({', '.join(args)})" if args else name
