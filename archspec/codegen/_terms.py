"""Terms: values in generated code, written as the spec's expression where that is exact.

A :class:`Term` is a concrete value (what the IR says) and, optionally, a Python
expression over the parameters of the class being generated (``c2[0]``,
``kernel_size // 2``, ``in_channels``). An :class:`Env` hands out terms: it takes an
expression the spec gave an attribute, checks that it uses only constructs whose
Python meaning equals the spec language's, evaluates it with archspec's own safe
evaluator over this instance's parameter values, and keeps it only if it gives
exactly the concrete value; otherwise the term is the literal value. So generated
code is parametric where that is exact and literal everywhere else, and it is
correct for every instance by construction.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archspec.codegen._namespace import is_free_identifier
from archspec.errors import SpecError
from archspec.spec import expr as spec_expr

#: Builtins whose Python meaning is the spec language's (``range`` is not: it makes a list there).
_PURE_CALLS = frozenset({"min", "max", "abs", "len", "int", "float", "round", "sum"})
SPEC_CONSTANTS = frozenset({"true", "false", "null", "none"})
_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.List, ast.Subscript, ast.Slice, ast.BinOp,
    ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword, ast.operator, ast.unaryop,
    ast.boolop, ast.cmpop,
)  # fmt: skip


def literal(value: Any) -> str:
    """Python source for a plain value (lists stay lists, tuples tuples, strings double-quoted)."""
    if isinstance(value, str):
        text = repr(value)
        return '"' + text[1:-1] + '"' if text[0] == "'" and '"' not in value else text
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float) and not math.isfinite(value):  # repr gives 'inf', 'nan': no Python names
        return 'float("nan")' if math.isnan(value) else 'float("inf")' if value > 0 else '-float("inf")'
    return repr(value)


def normalise(value: Any) -> Any:
    """Lists and tuples compare equal when their items do."""
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    return value


def same_value(a: Any, b: Any) -> bool:
    a, b = normalise(a), normalise(b)
    return (type(a) is type(b) and a == b) or (
        isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) and a == b
    )


@dataclass(frozen=True, eq=False)
class Expression:
    """A Python expression over a class's parameters, with what a term needs to know of it,
    worked out once per expression text (a block's attributes recur in every instance of it)."""

    body: ast.expr  # shared between terms: never modified
    text: str  # its source, as generated code writes it
    portable: bool  # whether it means the same in Python as in the spec language
    names: frozenset[str]  # the parameters it reads


def _expression(body: ast.expr) -> Expression:
    return Expression(body, ast.unparse(body), _portable(body), _names(body))


@dataclass(frozen=True)
class Term:
    """A value in generated code: ``expr`` when it is exact for this instance, else a literal."""

    value: Any
    expr: Expression | None = field(default=None, compare=False)

    @property
    def source(self) -> str:
        return self.expr.text if self.expr is not None else literal(self.value)

    @property
    def names(self) -> frozenset[str]:
        return self.expr.names if self.expr is not None else frozenset()

    @property
    def is_literal(self) -> bool:
        return self.expr is None


def _portable(tree: ast.AST) -> bool:
    """Whether ``tree`` means the same in Python as in the spec language."""
    for node in ast.walk(tree):
        if not isinstance(node, _NODES) or isinstance(node, ast.RShift):
            return False
        if isinstance(node, ast.Name) and (node.id.lower() in SPEC_CONSTANTS or node.id in ("True", "False", "None")):
            return False
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _PURE_CALLS):
            return False
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
            return False
    return True


def _names(body: ast.expr) -> frozenset[str]:
    """The parameters an expression reads."""
    return frozenset(n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id not in _PURE_CALLS)


@functools.lru_cache(maxsize=4096)
def _analysed(source: str) -> Expression | None:
    """A spec expression, analysed once per text; None if it does not parse. Its tree is
    :func:`archspec.spec.expr.parse`'s shared one."""
    try:
        tree = spec_expr.parse(source)
    except SpecError:
        return None
    body = tree.body if isinstance(tree, ast.Expression) else tree
    if not isinstance(body, ast.expr):
        return None
    return _expression(body)


@functools.lru_cache(maxsize=1024)
def parameter(name: str) -> Expression:
    """The expression that is the parameter ``name`` itself."""
    return _expression(ast.Name(name, ast.Load()))


def _python(text: str) -> ast.expr:
    """A fresh tree of generated source ``text`` (an :attr:`Expression.text`)."""
    return ast.parse(text, mode="eval").body


@functools.lru_cache(maxsize=4096)
def _combined(kind: str, texts: tuple[str, ...]) -> Expression:
    """The sum (``kind='+'``), product (``'*'``) or tuple (``'()'``) of expressions given by their sources."""
    items = [_python(t) for t in texts]
    if kind == "()":
        return _expression(ast.Tuple(items, ast.Load()))
    operator = ast.Mult() if kind == "*" else ast.Add()
    body = items[0]
    for item in items[1:]:
        body = ast.BinOp(body, operator, item)
    return _expression(body)


@functools.lru_cache(maxsize=4096)
def _rewritten(text: str, replacements: tuple[tuple[str, str], ...]) -> Expression:
    """Expression ``text`` with each named parameter replaced by the source it is paired with."""
    return _expression(ast.fix_missing_locations(_Rewrite(dict(replacements)).visit(_python(text))))


class _Rewrite(ast.NodeTransformer):
    """Replaces names by the trees of the sources they map to."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return _python(self.sources[node.id]) if node.id in self.sources else node


def factor_source(term: Term) -> str:
    """``term`` as the right operand of ``*``: parenthesised unless it is a name or a literal."""
    source = term.source
    return source if term.is_literal or source.isidentifier() else f"({source})"


def tuple_term(value: Iterable[Any], items: list[Term]) -> Term:
    """The tuple ``value`` written as one expression of its items' terms (``(k, k)``), or as a
    literal when any item is one."""
    if any(t.is_literal for t in items):
        return Term(tuple(value))
    return Term(tuple(value), _combined("()", tuple(t.source for t in items)))


class Env:
    """The parameters visible in one generated class, with this instance's values."""

    def __init__(self, values: Mapping[str, Any], input_channels: str | None = None) -> None:
        self.values = {k: v for k, v in values.items() if is_free_identifier(k)}
        #: The class's parameter for its input's channels, which the spec reads as ``input.channels``.
        self.input_channels = input_channels

    def spec_source(self, source: str) -> str:
        """A spec expression with ``input.channels`` written as the class's parameter for it."""
        if self.input_channels is None or "input" not in source:
            return source
        return _INPUT_CHANNELS.sub(self.input_channels, source)

    def literal(self, value: Any) -> Term:
        return Term(value)

    def name(self, name: str) -> Term:
        """The parameter ``name`` itself as a term."""
        return Term(self.values[name], parameter(name))

    def term(self, value: Any, source: str | None) -> Term:
        """``source`` (a spec expression) when it evaluates to ``value`` here, else the literal."""
        expression = _analysed(self.spec_source(source)) if source is not None else None
        if expression is None:
            return Term(value)
        return self.check(value, expression)

    def check(self, value: Any, expression: Expression) -> Term:
        """The term for ``expression``, kept only if it is portable and exact here."""
        names = expression.names
        if not expression.portable or not names:  # a constant expression: show the value
            return Term(value)
        if not names <= self.values.keys():
            return Term(value)
        try:
            result = spec_expr.Evaluator(self.values, None).eval(expression.body)
        except SpecError:
            return Term(value)
        if not same_value(result, value):
            return Term(value)
        return Term(value, expression)

    def sum(self, value: Any, terms: list[Term]) -> Term:
        """``a + b + ...`` when some term is an expression (a literal one kept as its value:
        ``in_channels + 32``), else the literal ``value``; ``n * a`` for three or more copies of
        one expression (ASPP's five branches of ``out_channels``, as torchvision writes
        ``len(self.convs) * out_channels``), where two read best as the join of two
        (``8 * width + 8 * width``, a U-Net's skip connection)."""
        if all(t.is_literal for t in terms):
            return Term(value)
        sources = {t.source for t in terms}
        if len(terms) > 2 and len(sources) == 1:
            (source,) = sources
            return self.check(value, _combined("*", (str(len(terms)), source)))
        return self.check(value, _combined("+", tuple(t.source for t in terms)))

    def substitute(self, value: Any, expression: Expression | None, arguments: Mapping[str, Term]) -> Term:
        """An expression in a callee's parameters, rewritten in this env's terms via ``arguments``."""
        if expression is None or not expression.portable:
            return Term(value)
        replaced = [n for n in sorted(expression.names) if n in arguments]
        # What the rewritten expression reads; a constant (the callee's size in literal arguments)
        # or one that reads names this class does not have is a literal without rewriting it.
        names = (expression.names - set(replaced)).union(*(arguments[n].names for n in replaced))
        if not names or not names <= self.values.keys():
            return Term(value)
        return self.check(value, _rewritten(expression.text, tuple((n, arguments[n].source) for n in replaced)))

    def defines(self, name: str) -> bool:
        """Whether ``name`` means something here already (a loop variable must not shadow it)."""
        return name in self.values

    def child(self, extra: Mapping[str, Any], input_channels: str | None = None) -> Env:
        """This env with more names (an unnamed class's own ``in_channels``)."""
        return Env({**self.values, **extra}, input_channels or self.input_channels)


class BoundEnv(Env):
    """The env of a block written at its call site, because its body is one call or an ``if``
    between calls: its expressions, over the block's parameters, are written in the caller's
    terms (``bindings``: each parameter the call gives, as a term of the caller)."""

    def __init__(self, caller: Env, bindings: Mapping[str, Term]) -> None:
        self.values = caller.values  # the caller's names: what the written expressions read
        self.bindings = dict(bindings)
        self.input_channels = caller.input_channels  # the block's input is the caller's

    def term(self, value: Any, source: str | None) -> Term:
        expression = _analysed(self.spec_source(source)) if source is not None else None
        if expression is None:
            return Term(value)
        return self.substitute(value, expression, self.bindings)

    def defines(self, name: str) -> bool:
        return name in self.values or name in self.bindings

    def child(self, extra: Mapping[str, Any], input_channels: str | None = None) -> Env:
        return BoundEnv(Env({**self.values, **extra}, input_channels), self.bindings)


_INPUT_CHANNELS = re.compile(r"\binput\.channels\b")


def expression(source: str) -> Expression | None:
    """Spec expression ``source`` analysed (None if it does not parse)."""
    return _analysed(source)
