"""The small, safe expression language of spec files.

Expressions are parsed with Python's :mod:`ast` and checked against a whitelist of
node types; they are evaluated by walking the tree here, never by ``eval``. They
cover what architecture parameters need: numbers, strings, booleans, lists,
integer arithmetic (``k // 2``, ``c * 4``), indexing (``c2[0]``), comparisons,
``x if cond else y`` and a few pure builtins (``min``, ``max``, ``len``, ...). The one
attribute access is on the name ``input``, the layer's input tensor (``input.channels``,
``input.shape[2]``): a value that :class:`HasAttributes`, read through :meth:`~HasAttributes.attribute`.

``a -> b`` (the sequence arrow of layer shorthand) is read as ``a >> b``: both are
two characters, so the columns of every sub-expression stay those of the source.
Work is bounded: expression length and nesting, number size and the size of values (list
items and string characters, nested lists counted in full) all have limits, and the few
operations that could run long on small numbers (``round`` to -10**18 digits, string
``%``-formatting, ``sum`` of lists) are refused or bounded before they run.
"""

from __future__ import annotations

import ast
import io
import operator
import tokenize
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from archspec.errors import Location, SpecError, did_you_mean, exception_attrs_settable

MAX_EXPR_CHARS = 2_000
MAX_INT_BITS = 64
MAX_LIST_LEN = 100_000
#: Nesting of one expression's syntax tree: ``a -> b -> c`` is 3 levels, ``f(g(x))`` 4. Every
#: pass over expressions recurses, so this also keeps each of them far from Python's limit.
MAX_EXPR_DEPTH = 100
_MAX_ROUND_DIGITS = 400
#: The one name whose attributes an expression may read: the layer's input tensor.
INPUT = "input"

_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _bounded_range(*args: int) -> list[int]:
    values = range(*args)
    if len(values) > MAX_LIST_LEN:
        raise ValueError(f"range of {len(values):,} items is over the limit of {MAX_LIST_LEN:,}")
    return list(values)


def _bounded_round(number: Any, ndigits: Any = None) -> Any:
    # round(5, -10**18) computes 10**(10**18): refuse digit counts no float or spec value needs.
    if isinstance(ndigits, int) and abs(ndigits) > _MAX_ROUND_DIGITS:
        raise ValueError(f"{ndigits} digits is out of range (at most {_MAX_ROUND_DIGITS} either way)")
    return round(number, ndigits)


def _number_sum(values: Any, start: Any = 0) -> Any:
    # sum(lists, []) copies the growing list once per item (quadratic): numbers only.
    items = list(values) if isinstance(values, list | tuple) else values
    for item in [*items, start] if isinstance(items, list) else [start]:
        if not isinstance(item, int | float):
            raise TypeError(f"sum adds numbers, not {type(item).__name__} values")
    return sum(items, start)


BUILTINS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "len": len,
    "int": int,
    "float": float,
    "round": _bounded_round,
    "sum": _number_sum,
    "range": _bounded_range,
}


def value_size(value: Any, stop: int | None = None, memo: dict[int, int] | None = None) -> int:
    """How big ``value`` is once written out: list items plus string characters, nested lists
    counted in full (``[[0] * 1000] * 1000`` is a million, though it shares one inner list).
    Counting ends early, with a result over ``stop``, once the size passes ``stop``."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, list | tuple):
        return 1
    memo = {} if memo is None else memo
    size = memo.get(id(value))
    if size is not None:
        return size
    size = len(value)
    for item in value:
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, list | tuple):
            size += value_size(item, stop, memo)
        if stop is not None and size > stop:
            return size  # partial, not memoised
    memo[id(value)] = size
    return size


_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.Subscript,
    ast.Slice, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.keyword, ast.And, ast.Or, *_BINARY, *_UNARY, *_COMPARE, ast.RShift,
)  # fmt: skip


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access ('.')",
        ast.Lambda: "lambda",
        ast.ListComp: "list comprehension",
        ast.Dict: "dict literal",
        ast.Set: "set literal",
        ast.NamedExpr: "assignment ':='",
        ast.Starred: "'*' unpacking",
        ast.JoinedStr: "f-string",
        ast.GeneratorExp: "generator",
        ast.Await: "await",
        ast.Yield: "yield",
    }
    return names.get(type(node), type(node).__name__)


def _arrows_to_shifts(source: str) -> str:
    """Replace the token ``->`` by ``>>`` (same width, so columns are kept)."""
    if "->" not in source:
        return source
    chars = list(source)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.OP and tok.string == "->":
                col = tok.start[1]
                chars[col : col + 2] = [">", ">"]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # ast.parse reports the real problem
    return "".join(chars)


#: What an ``if`` without ``else`` in layer shorthand is read with: ``x if c`` parses as
#: ``x if c else ...``, and :func:`has_else` tells the two apart (a spec cannot write ``...``).
_NO_ELSE = " else ..."


def _open_conditionals(source: str) -> list[int]:
    """The columns where an ``if`` without ``else`` ends: the end of the last token before the
    ``,``, closing bracket or end of text that closes the expression it is in."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []  # ast.parse reports the real problem
    open_ifs, ends, last_end = [0], [], 0
    for tok in tokens:
        closes = tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (
            tok.type == tokenize.OP and tok.string in (",", ")", "]", "}")
        )
        if closes:
            ends += [last_end] * open_ifs[-1]
            open_ifs[-1] = 0
            if tok.string in (")", "]", "}") and len(open_ifs) > 1:
                open_ifs.pop()
        elif tok.type == tokenize.OP and tok.string in ("(", "[", "{"):
            open_ifs.append(0)
        elif tok.type == tokenize.NAME and tok.string == "if":
            open_ifs[-1] += 1
        elif tok.type == tokenize.NAME and tok.string == "else" and open_ifs[-1]:
            open_ifs[-1] -= 1
        elif tok.type == tokenize.OP and tok.string == "...":
            raise _ParseProblem(
                "'...' is not a layer or a value", tok.start[1], hint="'identity' passes its input through"
            )
        if tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            last_end = tok.end[1]
    return sorted(ends)


def _without_insertions(column: int, insertions: list[int], width: int) -> int:
    """A column of a text with ``width`` characters inserted at each of ``insertions`` (columns
    of the text without them), as a column of that text: one inside an insertion is its start."""
    shift = 0
    for i, at in enumerate(insertions):
        start = at + i * width
        if column <= start:
            break
        shift += min(width, column - start)
    return column - shift


def has_else(node: ast.IfExp) -> bool:
    """Whether a conditional of layer shorthand has an ``else`` (see :data:`_NO_ELSE`)."""
    return not (isinstance(node.orelse, ast.Constant) and node.orelse.value is Ellipsis)


def parse(source: str, loc: Location | None = None, *, mode: str = "eval") -> ast.AST:
    """Parse and whitelist-check an expression; errors point into the source at ``loc``.

    ``mode`` is ``eval`` (an expression), ``layer`` (layer shorthand: also ``x if cond``, whose
    missing ``else`` :func:`has_else` tells) or ``for`` (a ``for`` clause, ``n, c in arch``).

    The tree is cached by text, so a call written many times (``unit(8)`` in a chain of
    10,000 blocks) is parsed once; trees are shared and must not be modified.
    """
    try:
        return _parse_text(source, mode)
    except _ParseProblem as problem:
        where = loc.shifted(problem.column) if loc and problem.column is not None else loc
        raise SpecError(problem.message, where, **problem.details) from None


class _ParseProblem(Exception):
    """A parse failure at a column of the text, located by :func:`parse`."""

    def __init__(self, message: str, column: int | None = None, **details: Any) -> None:
        self.message, self.column, self.details = message, column, details


@lru_cache(maxsize=4096)
def _parse_text(source: str, mode: str) -> ast.AST:
    if len(source) > MAX_EXPR_CHARS:
        raise _ParseProblem(f"expression is {len(source):,} characters long, over the limit of {MAX_EXPR_CHARS:,}")
    source = source.replace("\n", " ")  # a YAML block scalar's newline is a space; widths kept
    if not source.isascii():
        _check_ascii_names(source)
    prefix = 4 if mode == "for" else 0
    text = _arrows_to_shifts(source)
    insertions = _open_conditionals(text) if mode == "layer" else []
    for at in reversed(insertions):
        text = text[:at] + _NO_ELSE + text[at:]

    def column(col: int) -> int:  # a column of the parsed text as one of the source
        return _without_insertions(col, insertions, len(_NO_ELSE))

    wrapped = f"for {text}: pass" if mode == "for" else text.strip()
    lead = 0 if mode == "for" else len(text) - len(text.lstrip())
    try:
        tree = ast.parse(wrapped, mode="exec" if mode == "for" else "eval")
    except SyntaxError as exc:
        col = column(max(0, (exc.offset or 1) - 1 - prefix + lead))
        raise _ParseProblem(f"invalid expression: {exc.msg}", col, found=source.strip()) from None
    except (RecursionError, MemoryError, ValueError):
        raise _ParseProblem("expression is nested too deeply") from None
    depth = _depth(tree) - (2 if mode == "for" else 0)  # 'for x in ...: pass' adds Module and For
    if depth > MAX_EXPR_DEPTH:
        raise _ParseProblem(
            f"expression is nested {depth} levels deep, over the limit of {MAX_EXPR_DEPTH}",
            0,
            hint="split a long chain ('a -> b -> ...') into a YAML list, or give parts of it names",
        )
    for node in ast.walk(tree):
        if mode == "for" and isinstance(node, ast.Module | ast.For | ast.Pass | ast.Store):
            continue
        if not isinstance(node, _ALLOWED) and not _reads_input(node):
            raise _ParseProblem(
                f"{_describe(node)} is not allowed in a spec expression",
                column(getattr(node, "col_offset", 0) - prefix + lead),
                expected="numbers, names, lists, arithmetic, comparisons, 'a if c else b', calls",
                found=source.strip(),
            )
    if lead or prefix or insertions:
        for node in ast.walk(tree):
            if hasattr(node, "col_offset"):
                node.col_offset = column(node.col_offset + lead - prefix)
            end = getattr(node, "end_col_offset", None)
            if end is not None:
                node.end_col_offset = column(end + lead - prefix)  # type: ignore[attr-defined]
    return tree


def _reads_input(node: ast.AST) -> bool:
    """Whether ``node`` is ``input.<name>``, the one attribute access expressions allow (the
    evaluator checks the name: every other attribute stays out of reach)."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == INPUT


def _check_ascii_names(source: str) -> None:
    """Refuse names with non-ASCII characters. Python's parser folds look-alikes into ASCII
    (NFKC: 'ｃｏｎｖ' is read as 'conv'), and others ('cоnv' with a Cyrillic 'о') only look
    like a name they are not; a spec's names are ASCII, and strings may hold any text."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return  # ast.parse reports the real problem
    for tok in tokens:
        if tok.type == tokenize.NAME and not tok.string.isascii():
            folded = unicodedata.normalize("NFKC", tok.string)
            raise _ParseProblem(
                f"the name '{tok.string}' is not plain ASCII",
                tok.start[1],
                expected="a name of ASCII letters, digits and '_'",
                found=ascii(tok.string),
                hint=f"Python would read it as '{folded}'; write that if you mean it"
                if folded.isascii()
                else "it looks like a name it is not; retype it",
            )


def _depth(tree: ast.AST) -> int:
    """The depth of a syntax tree, without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend(
            (child, depth + 1) for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr_context)
        )
    return deepest


def node_loc(node: ast.AST, loc: Location | None, width: int | None = None) -> Location | None:
    """The source location of an AST node of an expression that starts at ``loc``.

    ``width`` overrides the node's own width (a keyword argument's name, not its value).
    """
    if loc is None:
        return None
    start = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", None) if width is None else start + width
    return loc.shifted(start, (end - start) if end is not None and getattr(node, "end_lineno", 1) == 1 else 0)


@exception_attrs_settable
@dataclass(frozen=True)
class UndefinedName(SpecError):
    """A name an expression reads that nothing in scope defines; ``name`` is the name, so that
    the caller, who knows what the value is for, can say what to write instead."""

    name: str = ""


class AttributeProblem(Exception):
    """Why a :class:`HasAttributes` value cannot give an attribute; the evaluator locates it."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message, self.details = message, details


class HasAttributes:
    """A value an expression reads only through attributes (``input.channels``), never whole:
    it is no number, list or string that an op or a block could take. (A plain class, not an
    ABC: every name an expression reads is checked against it, and ABC checks cost more.)"""

    #: What the value is, in an error's words (``the layer's input``).
    described: str

    def attribute(self, name: str) -> Any:
        """The attribute ``name``; raises :class:`AttributeProblem` when it has none or cannot
        give it yet (and a located :class:`SpecError` for a mistake elsewhere in the spec)."""
        raise NotImplementedError


class Evaluator:
    """Evaluates whitelisted expressions over an environment of named values."""

    def __init__(self, env: Mapping[str, Any], loc: Location | None, trace: tuple[str, ...] = ()) -> None:
        self.env = env
        self.loc = loc
        self.trace = trace

    def error(self, node: ast.AST, message: str, **details: Any) -> SpecError:
        return SpecError(message, node_loc(node, self.loc), self.trace, **details)

    def eval(self, node: ast.AST) -> Any:
        """``node``'s value, checked against the bounds on values; errors located at ``node``."""
        try:
            value = self._evaluate(node)
        except SpecError:
            raise
        except RecursionError:
            raise self.error(node, "expression is nested too deeply") from None
        except (TypeError, ValueError, ZeroDivisionError, IndexError, KeyError, OverflowError) as exc:
            raise self.error(node, f"cannot evaluate '{ast.unparse(node)}': {exc}") from None
        if isinstance(value, complex):  # (-1) ** 0.5: no spec value is complex
            raise self.error(node, f"'{ast.unparse(node)}' is not a real number")
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise self.error(node, f"number in '{ast.unparse(node)}' is too large", expected=f"below 2**{MAX_INT_BITS}")
        if isinstance(value, list | str | tuple) and value_size(value, stop=MAX_LIST_LEN) > MAX_LIST_LEN:
            raise self.error(
                node,
                f"value of '{ast.unparse(node)}' is too long (over {MAX_LIST_LEN:,} items and characters)",
                expected=f"at most {MAX_LIST_LEN:,} list items and string characters, nested lists included",
            )
        return value

    def _evaluate(self, node: ast.AST) -> Any:
        """One node's value; its operands go through :meth:`eval`, so each is checked too.

        The most frequent kinds come first (this runs for every argument of every call).
        """
        match node:
            case ast.Name():
                return self._name(node)
            case ast.Constant():
                return self._constant(node)
            case ast.BinOp():
                return self._binary(node)
            case ast.Call():
                return self._call(node)
            case ast.Subscript():
                return self._subscript(node)
            case ast.Attribute():
                return self._attribute(node)
            case ast.List() | ast.Tuple():
                return [self.eval(item) for item in node.elts]
            case ast.Expression():
                return self.eval(node.body)
            case ast.UnaryOp():
                return _UNARY[type(node.op)](self.eval(node.operand))
            case ast.Compare():
                return self._compare(node)
            case ast.IfExp():
                return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
            case ast.BoolOp():
                return self._boolean(node)
            case _:
                raise self.error(node, f"{_describe(node)} cannot be evaluated here")

    def _constant(self, node: ast.Constant) -> Any:
        if not isinstance(node.value, int | float | str | bool | type(None)):
            raise self.error(node, f"constant {node.value!r} is not allowed")
        return node.value

    def _name(self, node: ast.Name) -> Any:
        value = self.env[node.id] if node.id in self.env else self._lookup(node)
        if isinstance(value, HasAttributes):
            raise self.error(
                node,
                f"'{node.id}' is {value.described}, not a value",
                expected="a number, list or string",
                hint=f"read its size: {node.id}.channels, {node.id}.shape[2]",
            )
        return value

    def _attribute(self, node: ast.Attribute) -> Any:
        owner = self._lookup(node.value) if isinstance(node.value, ast.Name) else self.eval(node.value)
        if not isinstance(owner, HasAttributes):  # a param that took the name: no attributes to read
            raise self.error(
                node,
                f"'{ast.unparse(node.value)}' has no attribute '{node.attr}'",
                found=f"{type(owner).__name__} {owner!r}",
            )
        try:
            return owner.attribute(node.attr)
        except AttributeProblem as problem:
            raise self.error(node, problem.message, **problem.details) from None

    def _lookup(self, node: ast.Name) -> Any:
        if node.id in self.env:
            return self.env[node.id]
        if node.id.lower() in _CONSTANTS:
            return _CONSTANTS[node.id.lower()]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise UndefinedName(
            f"undefined name '{node.id}'",
            node_loc(node, self.loc),
            self.trace,
            expected="a block parameter or network param: " + (", ".join(sorted(self.env)) or "(none defined)"),
            hint=did_you_mean(node.id, self.env) or f"if you mean the word, quote it: '{node.id}'",
            name=node.id,
        )

    def _subscript(self, node: ast.Subscript) -> Any:
        value = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            parts = [None if p is None else self.eval(p) for p in (node.slice.lower, node.slice.upper, node.slice.step)]
            return value[slice(*parts)]
        index = self.eval(node.slice)
        if not isinstance(value, list | str) or not isinstance(index, int) or isinstance(index, bool):
            raise self.error(
                node,
                f"cannot index '{ast.unparse(node.value)}' with '{ast.unparse(node.slice)}'",
                expected="a list indexed by an integer",
                found=f"{type(value).__name__} indexed by {type(index).__name__}",
            )
        if not -len(value) <= index < len(value):
            raise self.error(
                node,
                f"index {index} is out of range for '{ast.unparse(node.value)}'",
                expected=f"an index below {len(value)}",
                found=repr(value),
            )
        return value[index]

    def _binary(self, node: ast.BinOp) -> Any:
        if isinstance(node.op, ast.RShift):
            raise self.error(node, "'->' joins layers, not values")
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise self.error(node, "'%' on a string formats it, which spec expressions do not do")
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and abs(right) > MAX_INT_BITS:
            raise self.error(node, f"exponent {right} is too large")
        if isinstance(node.op, ast.Mult):
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, list | str) and isinstance(n, int) and len(seq) * n > MAX_LIST_LEN:
                    raise self.error(node, "repeated list is too long")
        return _BINARY[type(node.op)](left, right)

    def _boolean(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.eval(operand)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _call(self, node: ast.Call) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name is None or name not in BUILTINS:
            raise self.error(
                node,
                f"'{ast.unparse(node.func)}' is not a function usable in a value",
                expected="one of " + ", ".join(sorted(BUILTINS)),
                hint="layers (ops and blocks) go where a layer is expected, not inside arguments",
            )
        args = [self.eval(a) for a in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords if kw.arg is not None}
        return BUILTINS[name](*args, **kwargs)


def evaluate(source: str, env: Mapping[str, Any], loc: Location | None = None, trace: tuple[str, ...] = ()) -> Any:
    """Parse and evaluate ``source`` in ``env``."""
    return Evaluator(env, loc, trace).eval(parse(source, loc))


def literal(node: ast.AST) -> tuple[bool, Any]:
    """``(True, value)`` when ``node`` is a literal needing no environment."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | type(None)):
        return True, node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        ok, value = literal(node.operand)
        if ok and isinstance(value, int | float) and not isinstance(value, bool):
            return True, -value if isinstance(node.op, ast.USub) else value
        return False, None
    if isinstance(node, ast.Name) and node.id.lower() in _CONSTANTS:
        return False, None  # a param may shadow it; evaluate in context
    if isinstance(node, ast.List | ast.Tuple):
        values = []
        for item in node.elts:
            ok, value = literal(item)
            if not ok:
                return False, None
            values.append(value)
        return True, values
    return False, None
