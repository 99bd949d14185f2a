"""The safe expression evaluator of spec files (archspec.spec.expr)."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from archspec.errors import Location, SpecError
from archspec.spec import expr
from archspec.spec.expr import evaluate, parse

LOC = Location("net.yaml", 7, 11)
ENV: dict[str, Any] = {"c": 64, "k": 7, "c2": [96, 128], "arch": [[1, 64], [2, 128]], "flag": True, "name": "vgg"}


def ev(source: str, env: dict[str, Any] | None = None) -> Any:
    return evaluate(source, ENV if env is None else env, LOC)


def error(source: str, env: dict[str, Any] | None = None) -> SpecError:
    with pytest.raises(SpecError) as info:
        ev(source, env)
    return info.value


# ------------------------------------------------------------------ values
@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("c * 4", 256),
        ("c - 2 * k", 50),
        ("-k", -7),
        ("+k", 7),
        ("k // 2", 3),
        ("-k // 2", -4),  # floor division, as in Python and PyTorch shape formulas
        ("k % 4", 3),
        ("-k % 4", 1),
        ("k / 2", 3.5),
        ("2 ** 10", 1024),
        ("1.5 * 2", 3.0),
        ("'a' + 'b'", "ab"),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("(1, 2)", [1, 2]),  # tuples are lists in a spec
        ("[0] * 3", [0, 0, 0]),
    ],
)
def test_arithmetic(source: str, value: Any) -> None:
    assert ev(source) == value
    assert type(ev(source)) is type(value)


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("c2[0]", 96),
        ("c2[1]", 128),
        ("c2[-1]", 128),
        ("arch[1][0]", 2),
        ("name[0]", "v"),
        ("c2[1:]", [128]),
        ("c2[:1]", [96]),
        ("c2[::-1]", [128, 96]),
        ("arch[0:2:1]", [[1, 64], [2, 128]]),
    ],
)
def test_indexing_and_slicing(source: str, value: Any) -> None:
    assert ev(source) == value


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("k < c", True),
        ("k >= 7", True),
        ("1 < k < 8", True),
        ("1 < k > 8", False),
        ("k == 7 != 8", True),
        ("96 in c2", True),
        ("95 not in c2", True),
        ("not flag", False),
        ("flag and k", 7),
        ("false or c", 64),
        ("c if flag else k", 64),
        ("c if not flag else k", 7),
        ("1 if k % 2 else 0", 1),
    ],
)
def test_comparisons_logic_and_if_else(source: str, value: Any) -> None:
    assert ev(source) == value


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("min(3, k)", 3),
        ("max(c2)", 128),
        ("max(c, k * 10)", 70),
        ("len(c2)", 2),
        ("len(arch)", 2),
        ("range(3)", [0, 1, 2]),
        ("range(1, 8, 3)", [1, 4, 7]),
        ("sum(c2)", 224),
        ("abs(-k)", 7),
        ("int(7.9)", 7),
        ("round(2.5)", 2),
    ],
)
def test_builtins(source: str, value: Any) -> None:
    assert ev(source) == value


@pytest.mark.parametrize(
    ("source", "value"),
    [("true", True), ("false", False), ("null", None), ("True", True), ("False", False), ("None", None)],
)
def test_constants(source: str, value: Any) -> None:
    assert ev(source, {}) is value


def test_a_param_shadows_a_constant_name() -> None:
    assert ev("null", {"null": 3}) == 3


def test_strings_keep_arrows_inside_them() -> None:
    assert ev("'a->b'") == "a->b"


# ------------------------------------------------------------------ bounds
def test_number_size_is_bounded() -> None:
    assert ev(f"{2**63}") == 2**63
    assert "too large" in error("2 ** 64 * 2").message
    assert "too large" in error("99999999999999999999999").message
    assert "exponent" in error("2 ** 1000").message
    assert "too large" in error("9 ** 9 ** 9").message  # refused before it is computed


def test_list_length_is_bounded() -> None:
    assert len(ev(f"range({expr.MAX_LIST_LEN})")) == expr.MAX_LIST_LEN
    assert "over the limit" in error(f"range({expr.MAX_LIST_LEN + 1})").message
    assert "too long" in error(f"[0] * {expr.MAX_LIST_LEN + 1}").message
    assert "too long" in error(f"'ab' * {expr.MAX_LIST_LEN}").message
    assert "too long" in error(f"range({expr.MAX_LIST_LEN}) + [1]").message


def test_expression_length_is_bounded() -> None:
    long = "+".join(["1"] * (expr.MAX_EXPR_CHARS // 2 + 1))
    assert len(long) > expr.MAX_EXPR_CHARS
    err = error(long)
    assert "characters long" in err.message
    assert err.loc == LOC


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    err = error("(" * 900 + "1" + ")" * 900)
    assert isinstance(err, SpecError)


def test_complex_results_are_refused() -> None:
    assert "not a real number" in error("(-1) ** 0.5").message


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("source", "what", "column"),
    [
        ("c.real", "attribute access", 0),
        ("c + c2.__class__", "attribute access", 4),
        ("lambda: 1", "lambda", 0),
        ("[i for i in c2]", "list comprehension", 0),
        ("{1: 2}", "dict literal", 0),
        ("{1, 2}", "set literal", 0),
        ("k + (y := 1)", "assignment ':='", 5),
        ("f'{c}'", "f-string", 0),
        ("c @ k", "MatMult", 0),
        ("c is k", "Is", 0),
        ("max(i for i in c2)", "generator", 3),
        ("conv(c, 1) -> x.y", "attribute access", 14),
    ],
)
def test_forbidden_constructs_are_located(source: str, what: str, column: int) -> None:
    err = error(source)
    assert what in err.message
    assert "not allowed" in err.message
    assert err.loc is not None
    assert (err.loc.file, err.loc.line, err.loc.column) == ("net.yaml", 7, 11 + column)


@pytest.mark.parametrize("source", ["open('x')", "__import__('os')", "eval('1')", "exec('1')", "getattr(c, 'x')"])
def test_only_whitelisted_functions_can_be_called(source: str) -> None:
    err = error(source)
    assert "is not a function usable in a value" in err.message
    assert err.expected is not None and "range" in err.expected
    assert err.loc is not None and err.loc.column == 11


def test_syntax_errors_point_at_the_problem() -> None:
    err = error("1 + (2")
    assert err.message.startswith("invalid expression")
    assert err.loc is not None and err.loc.column == 11 + 4  # the unclosed '('
    assert err.found == "1 + (2"


def test_undefined_name_lists_what_is_defined_and_suggests() -> None:
    err = error("c + kk")
    assert err.message == "undefined name 'kk'"
    assert err.hint == "did you mean 'k'?"
    assert err.expected is not None and "c2" in err.expected
    assert err.loc is not None and (err.loc.column, err.loc.end_column) == (15, 17)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("c2[2]", "out of range"),
        ("c2['a']", "cannot index"),
        ("c2[true]", "cannot index"),
        ("k[0]", "cannot index"),
        ("c2[::0]", "slice step"),
        ("k // 0", "by zero"),
        ("k + 'a'", "cannot evaluate"),
        ("min()", "cannot evaluate"),
        ("int('x')", "cannot evaluate"),
        ("len(k)", "cannot evaluate"),
        ("c -> k", "'->' joins layers"),
    ],
)
def test_evaluation_errors_are_spec_errors(source: str, message: str) -> None:
    err = error(source)
    assert message in err.message
    assert err.loc is not None and err.loc.line == 7


def test_error_location_is_the_failing_sub_expression() -> None:
    err = error("k + c2[5]")
    assert err.loc is not None
    assert (err.loc.column, err.loc.end_column) == (15, 20)


def test_trace_is_attached() -> None:
    with pytest.raises(SpecError) as info:
        evaluate("zz", {}, LOC, ("b3", "inception#2"))
    assert info.value.trace == ("b3", "inception#2")


def test_no_location_is_fine() -> None:
    with pytest.raises(SpecError) as info:
        evaluate("zz", {})
    assert info.value.loc is None


# ------------------------------------------------------------------ arrows
def test_arrows_become_shifts_without_moving_columns() -> None:
    source = "conv(c, 3) -> relu -> maxpool(2)"
    tree = parse(source, LOC)
    assert isinstance(tree, ast.Expression)
    names = {n.id: n.col_offset for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert names == {"conv": 0, "c": 5, "relu": 14, "maxpool": 22}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert source[node.col_offset : node.end_col_offset] == node.id
    shifts = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp)]
    assert shifts and all(isinstance(n.op, ast.RShift) for n in shifts)


def test_arrow_replacement_keeps_leading_space_and_strings() -> None:
    tree = parse("  relu -> conv('a->b')", LOC)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert calls[0].col_offset == 10
    assert [a.value for a in calls[0].args if isinstance(a, ast.Constant)] == ["a->b"]
    err = error("  k.x")
    assert err.loc is not None and err.loc.column == 13


def test_for_mode_parses_the_loop_header_with_source_columns() -> None:
    tree = parse("n, c in arch", LOC, mode="for")
    loop = tree.body[0]  # type: ignore[attr-defined]
    assert isinstance(loop, ast.For)
    assert [t.col_offset for t in loop.target.elts] == [0, 3]  # type: ignore[attr-defined]
    assert loop.iter.col_offset == 8


def test_a_node_the_evaluator_does_not_know_is_a_located_error_not_a_crash() -> None:
    # parse() refuses such nodes first; a tree built some other way still gets a spec error
    tree = ast.parse("k + {1: 2}", mode="eval")
    with pytest.raises(SpecError, match=r"dict literal cannot be evaluated here") as info:
        expr.Evaluator(ENV, LOC).eval(tree)
    assert info.value.loc is not None and info.value.loc.column == LOC.column + 4


@pytest.mark.parametrize(("source", "value"), [("(1, k)", [1, 7]), ("not flag", False), ("c if 0 else k", 7)])
def test_tuples_unary_operators_and_conditionals_evaluate(source: str, value: Any) -> None:
    assert ev(source) == value
