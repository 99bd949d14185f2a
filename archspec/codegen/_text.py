"""Text of generated Python: line wrapping and docstrings that say exactly what a spec says."""

from __future__ import annotations

import ast
import functools
import re
from typing import Any

from archspec.codegen._terms import literal

MAX_LINE = 110
#: The line length ruff holds generated code to (pyproject.toml): where a statement fits it on
#: one line, ruff's rules (SIM108) want it written on one line.
RUFF_LINE = 120
INDENT = "    "


def call_source(func: str, arguments: list[str], indent: str) -> str:
    """``func(a, b)`` on one line if it fits, else one argument per line."""
    line = f"{func}({', '.join(arguments)})"
    if len(indent) + len(line) <= MAX_LINE or not arguments:
        return line
    inner = indent + INDENT
    return f"{func}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent})"


def one_line(source: str) -> str:
    """An expression written one item per line (:func:`call_source`, a Sequential's layers) on one
    line, as ruff reads it when it asks whether a statement would fit: ``f(\n    a,\n)`` is ``f(a)``."""
    text = ""
    for part in (line.strip() for line in source.splitlines()):
        if part.startswith((")", "]")):
            text = text.removesuffix(",")
        elif text and not text.endswith(("(", "[")):
            text += " "
        text += part
    return text


@functools.lru_cache(maxsize=1024)
def docstring(text: str, indent: str) -> str:
    """``text`` (the spec's own words) as a docstring that says exactly that and nothing else: its
    words wrapped to the line length, then each line escaped (backslashes doubled, unprintable
    characters such as NUL, escapes and bidi controls written as ``\\uXXXX``, no quote run that
    could end the string). Wrapping comes first, on the text's own characters, so that no line
    break can fall inside an escape: any doc the spec can hold gives valid source."""
    width = MAX_LINE - len(indent) - 6
    lines = [_escaped(line) for line in _wrapped(" ".join(text.split()), width)]
    if lines[-1].endswith('"'):
        lines[-1] = lines[-1][:-1] + '\\"'  # not a quote just before the closing ones
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""'
    return f'{indent}"""' + f"\n{indent}".join(lines) + f'\n{indent}"""'


def _escaped(line: str) -> str:
    line = line.replace("\\", "\\\\")
    if not line.isprintable():
        line = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in line)
    return re.sub(r'"(?=")', r'\\"', line)  # no two quotes in a row, so no run of three


def _wrapped(text: str, width: int) -> list[str]:
    """``text``'s words in lines whose escaped form fits ``width``; a word too long for a line is
    cut between characters. Linear in the text's length (a doc may be megabytes)."""
    lines: list[str] = []
    line: list[str] = []
    used = 0  # the escaped width of ``line``, spaces included
    for word in text.split(" "):
        plain = word.isascii() and word.isprintable() and "\\" not in word and '"' not in word
        size = len(word) if plain else sum(map(_escaped_width, word))
        if line and used + 1 + size <= width:
            line.append(word)
            used += 1 + size
            continue
        if line:
            lines.append(" ".join(line))
        start = 0
        while size > width:  # longer than a line: as many of its characters as fit, then the rest
            if plain:
                end, taken = start + width, width
            else:  # the rest is wider than a line, so this stops before the word's end
                end, taken = start, 0
                while taken + _escaped_width(word[end]) <= width:
                    taken += _escaped_width(word[end])
                    end += 1
            lines.append(word[start:end])
            start, size = end, size - taken
        line, used = [word[start:]], size
    lines.append(" ".join(line))
    return lines


def _escaped_width(char: str) -> int:
    """How wide ``char`` is once escaped (a quote counted as if it needed its backslash)."""
    if char in '\\"':
        return 2
    return 1 if char.isprintable() else len(ascii(char)) - 2


def file_stem(name: str) -> str:
    """A network's name as a file name's part: letters and digits, the rest ``_``."""
    return "".join(c if c.isalnum() else "_" for c in name) or "network"


def indented(lines: list[str], by: str = INDENT) -> list[str]:
    """``lines`` one level deeper (each line of a multi-line statement too)."""
    return ["\n".join(by + part if part else part for part in line.split("\n")) for line in lines]


def dedented(lines: list[str], by: str = INDENT) -> list[str]:
    """``lines`` one level shallower: the inverse of :func:`indented`."""
    return ["\n".join(part.removeprefix(by) for part in line.split("\n")) for line in lines]


def literal_lines(value: Any, indent: str) -> str:
    """A value as Python source: on one line if it fits after ``indent``, else a list one item per line."""
    text = literal(value)
    if not isinstance(value, list) or len(indent) + len(text) <= MAX_LINE - 20:
        return text
    return "[\n" + "".join(f"{indent}{INDENT}{literal(item)},\n" for item in value) + f"{indent}]"


def wrapped(source: str) -> str:
    """Generated ``source`` with each line longer than ruff's limit that is a whole statement or
    one item of a bracket (``padding=(...),``) split at its outermost brackets, one item per line,
    and deeper where an item is still too long, as ruff's formatter splits them. The rest of the
    generator wraps as it writes; this catches what only the whole line shows (a long target
    before a call, a long item inside one)."""
    lines = source.split("\n")
    out: list[str] = []
    for line in lines:
        out.extend(_split_line(line) if len(line) > RUFF_LINE else [line])
    return "\n".join(out)


def _split_line(line: str) -> list[str]:
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip()
    item = text.endswith(",")  # an item of a bracket opened on an earlier line, else a statement
    try:
        tree = ast.parse(f"_({text})" if item else text)
    except SyntaxError:
        return [line]
    if len(tree.body) != 1:
        return [line]
    value = getattr(tree.body[0], "value", None)
    offset = 2 if item else 0
    if item:
        items = [*value.args, *value.keywords] if isinstance(value, ast.Call) else []
        if len(items) != 1 or isinstance(items[0], ast.Starred):
            return [line]
        value = items[0].value if isinstance(items[0], ast.keyword) else items[0]
    if not isinstance(value, ast.expr) or value.lineno != 1 or value.end_lineno != 1:
        return [line]
    start, end = value.col_offset - offset, (value.end_col_offset or 0) - offset
    split = _split_expression(text[start:end], indent)
    if split is None:
        return [line]
    return [indent + text[:start] + split[0], *split[1:-1], split[-1] + text[end:]]


def _split_expression(text: str, indent: str) -> list[str] | None:
    """``text`` (one expression) opened at its outermost bracket: the opening, one item per line a
    level deeper (each split again where still too long), the closing at ``indent``; None if it
    has no bracket to open."""
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Call):
        opening, closing = text[: node.func.end_col_offset] + "(", ")"
        items: list[ast.AST] = [*node.args, *node.keywords]
    elif isinstance(node, ast.List | ast.Tuple) and text[0] + text[-1] in ("[]", "()"):
        opening, closing, items = text[0], text[-1], list(node.elts)
    else:
        return None
    if not items:
        return None
    inner = indent + INDENT
    lines = [opening]
    for item in items:
        segment = ast.get_source_segment(text, item)
        if segment is None:
            return None
        long = f"{inner}{segment},"
        lines.extend(_split_line(long) if len(long) > RUFF_LINE else [long])
    return [*lines, indent + closing]
