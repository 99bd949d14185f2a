"""Located, user-facing errors.

Every user mistake surfaces as a :class:`SpecError`: it names the file, line and
column, the block call stack (``b3 › inception#2 › branch3 › conv``), what was
expected and what was found, and a suggestion where one exists. Several errors
found in one pass travel together as :class:`SpecErrors`; like a compiler's, their
report shows the first :data:`MAX_SHOWN` and counts the rest. archspec's own bugs are
never SpecErrors: an invariant archspec broke raises :class:`InternalError`.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

_E = TypeVar("_E", bound=BaseException)

#: Errors a report shows before it only counts the rest: past a screenful, later errors are
#: more often consequences of earlier ones than news.
MAX_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Location:
    """A point in a source file; ``line`` and ``column`` are 1-based."""

    file: str
    line: int = 0
    column: int = 0
    end_column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def shifted(self, columns: int, width: int = 0) -> Location:
        """The location ``columns`` characters to the right (for spots inside a scalar)."""
        column = self.column + columns
        # The constructor, not dataclasses.replace: a spec's loading makes thousands of these.
        return Location(self.file, self.line, column, column + width if width else 0)


@dataclass(frozen=True)
class SpecError(Exception):
    """A mistake in a spec, a weights file or a command line, reported to a person."""

    message: str
    loc: Location | None = None
    trace: tuple[str, ...] = ()
    expected: str | None = None
    found: str | None = None
    hint: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.render(color=False, snippet=False)

    def with_context(self, loc: Location | None = None, trace: Sequence[str] | None = None) -> SpecError:
        """Fill in a location or block stack that the raiser did not know."""
        return replace(
            self,
            loc=self.loc or loc,
            trace=self.trace or tuple(trace or ()),
        )

    def called_from(self, block: str, arguments: Iterable[tuple[str, object]], loc: Location | None) -> SpecError:
        """Add a note of the block call whose body this error is in: the argument values and
        where the call is (the error's own location is inside the block, often in a library)."""
        if loc is None:
            return self
        shown = ", ".join(f"{name}={_short(repr(value))}" for name, value in arguments)
        return replace(self, notes=(*self.notes, f"{block}({shown}) is called at {loc}"))

    def render(self, color: bool = False, snippet: bool = True) -> str:
        """Format as ``file:line:col: error: message`` followed by details."""
        red, bold, dim, reset = ("\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m") if color else ("",) * 4
        # Every part may echo the spec (names, values, its file name): shown inert and bounded.
        head = f"{bold}{shown(str(self.loc))}: {reset}" if self.loc else ""
        lines = [f"{head}{red}{bold}error:{reset}{bold} {shown(self.message)}{reset}"]
        if self.trace:
            lines.append(f"  in: {shown(' › '.join(self.trace))}")
        if self.expected is not None:
            lines.append(f"  expected: {shown(self.expected)}")
        if self.found is not None:
            lines.append(f"  found: {shown(self.found)}")
        lines.extend(f"  note: {shown(note)}" for note in self.notes)
        if self.hint:
            lines.append(f"  hint: {shown(self.hint)}")
        if snippet and self.loc is not None:
            excerpt = source_excerpt(self.loc)
            if excerpt:
                lines.append(f"{dim}{excerpt}{reset}")
        return "\n".join(lines)


#: The longest a part of an error message is shown (a 100,000-digit value is not echoed whole).
MAX_SHOWN_CHARS = 300

# C0 and C1 controls (escape sequences can retitle a terminal or overwrite the error with a fake
# "ok"), DEL, and the bidirectional and zero-width controls that reorder or hide text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def inert(text: str) -> str:
    """``text`` with every control character written as its escape (``\\x1b``), so that nothing
    echoed from a spec acts on the terminal."""
    return _UNSAFE.sub(lambda m: ascii(m.group())[1:-1], text)


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` made :func:`inert` and, past ``limit`` characters, cut in the middle."""
    text = inert(text)
    if len(text) <= limit:
        return text
    keep = (limit - 30) // 2
    return f"{text[:keep]}...({len(text) - 2 * keep:,} characters)...{text[-keep:]}"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exception_attrs_settable(cls: type[_E]) -> type[_E]:
    """Keep a frozen dataclass exception's fields frozen, but let Python set its exception
    attributes: contextlib sets ``__traceback__`` on an exception leaving a ``with`` block,
    ``add_note`` sets ``__notes__`` (a frozen dataclass refuses both). Apply it to every
    frozen dataclass subclass too: each gets its own refusing ``__setattr__``."""
    frozen = cls.__setattr__

    def __setattr__(self: BaseException, name: str, value: object) -> None:
        if name.startswith("__") and name.endswith("__"):
            BaseException.__setattr__(self, name, value)
        else:
            frozen(self, name, value)

    cls.__setattr__ = __setattr__  # type: ignore[method-assign,assignment]
    return cls


exception_attrs_settable(SpecError)


class SpecErrors(Exception):
    """Several :class:`SpecError` found in one pass, reported together."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors: list[SpecError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    @property
    def shown(self) -> list[SpecError]:
        """The errors a report shows: the first :data:`MAX_SHOWN`."""
        return self.errors[:MAX_SHOWN]

    @property
    def not_shown(self) -> int:
        """How many errors a report leaves out after :attr:`shown`."""
        return max(0, len(self.errors) - MAX_SHOWN)

    def render(self, color: bool = False, snippet: bool = True) -> str:
        parts = [e.render(color=color, snippet=snippet) for e in self.shown]
        if self.not_shown:
            red, bold, reset = ("\x1b[31m", "\x1b[1m", "\x1b[0m") if color else ("",) * 3
            more = f"{self.not_shown} more error{'s' if self.not_shown != 1 else ''}"
            parts.append(f"{red}{bold}error:{reset}{bold} ... (and {more}; the first {MAX_SHOWN} are shown){reset}")
        return "\n\n".join(parts)


def gathered(errors: Iterable[SpecError]) -> SpecError | SpecErrors:
    """The exception to raise for the errors of one pass: the error itself when there is one,
    else all of them, each once (the same message at the same spot is the same error)."""
    unique: dict[tuple[str, str], SpecError] = {}
    for error in errors:
        unique.setdefault((error.message, str(error.loc)), error)
    if not unique:
        raise ValueError("gathered() needs at least one error")
    found = list(unique.values())
    return found[0] if len(found) == 1 else SpecErrors(found)


class InternalError(Exception):
    """A bug in archspec, not a mistake in a spec: an invariant of its own that it broke (an IR
    that :meth:`archspec.ir.Graph.verify` refuses). Deliberately not a :class:`SpecError`, so
    nothing that reports a user's mistakes catches it; the CLI reports it, as any exception that
    is not a SpecError, as an internal error (exit 3; ``--debug`` shows the traceback)."""


def source_excerpt(loc: Location) -> str:
    """The source line of ``loc`` with a caret under the column, or '' if unreadable."""
    if loc.line <= 0:
        return ""
    try:
        with Path(loc.file).open(encoding="utf-8", errors="replace") as fh:
            text = next(itertools.islice(fh, loc.line - 1, None), None)
            if text is None:
                return ""
    except OSError:
        return ""
    text = text.rstrip("\n")
    if len(text) > 200:
        return ""
    gutter = f"{loc.line:>5} | "
    # The caret goes under the column as shown: escapes widen what comes before it.
    start = len(inert(text[: max(0, loc.column - 1)]))
    end = len(inert(text[: loc.end_column - 1])) if loc.end_column > loc.column else start + 1
    caret = " " * (len(gutter) - 2) + "| " + " " * start + "^" * max(1, end - start)
    return f"{gutter}{inert(text)}\n{caret}"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` hint for a misspelt name, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def one_of(choices: Iterable[str]) -> str:
    names = sorted(choices)
    if len(names) > 12:
        names = [*names[:12], "..."]
    return ", ".join(names) if names else "(none)"
