"""The lowering table (:class:`archspec.backends.Lowerings`): rules typed by the op they lower.

A rule is called with the node's validated op (a ``Conv``, not an ``Op``) and the backend's
context; a failure inside a rule is archspec's bug (:class:`LoweringBug`), never reported as the
spec's; and the registration is typed, so mypy flags a rule registered for an op it does not take.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archspec.backends import LoweringBug, Lowerings
from archspec.errors import Location, SpecError
from archspec.ir import Node
from archspec.ops.activation import Relu, Sigmoid
from archspec.ops.conv import Conv

ROOT = Path(__file__).resolve().parents[1]
HERE = Location("net.yaml", 3, 9)


class Context:
    """A stand-in for a backend's lowering context."""

    def __init__(self, node: Node) -> None:
        self.node = node


def _node(op: Relu | Sigmoid | Conv) -> Node:
    return Node("b1.0", op, ("input",), HERE, ("b1", "relu"))


def test_a_rule_gets_the_op_itself_and_the_context() -> None:
    table: Lowerings[Context, str] = Lowerings("test")

    @table.register(Conv)
    def conv(op: Conv, ctx: Context) -> str:
        return f"{ctx.node.name}: {op.out_channels} x {op.kernel}"

    node = _node(Conv.model_validate({"out_channels": 8, "kernel": 3}))
    assert table.lower(node, Context(node)) == "b1.0: 8 x (3, 3)"


def test_one_rule_may_lower_several_ops() -> None:
    table: Lowerings[Context, str] = Lowerings("test")

    @table.register(Relu, Sigmoid)
    def plain(op: Relu | Sigmoid, ctx: Context) -> str:
        return op.op_name

    for op in (Relu(), Sigmoid()):
        node = _node(op)
        assert table.lower(node, Context(node)) == op.op_name
    assert table.ops() == {Relu, Sigmoid}


def test_an_op_lowered_twice_is_refused() -> None:
    table: Lowerings[Context, str] = Lowerings("test")
    table.register(Relu)(lambda op, ctx: "first")
    with pytest.raises(ValueError, match="test: op 'relu' has two lowerings"):
        table.register(Relu)(lambda op, ctx: "second")


def test_a_spec_error_from_a_rule_is_located_at_the_node() -> None:
    table: Lowerings[Context, str] = Lowerings("test")

    @table.register(Relu)
    def refuses(op: Relu, ctx: Context) -> str:
        raise SpecError("the test backend cannot do this", hint="use another backend")

    node = _node(Relu())
    with pytest.raises(SpecError, match="cannot do this") as caught:
        table.lower(node, Context(node))
    assert caught.value.loc == HERE
    assert caught.value.trace == ("b1", "relu")


def test_a_rule_that_crashes_is_a_bug_naming_the_node_not_a_spec_error() -> None:
    table: Lowerings[Context, str] = Lowerings("test")

    @table.register(Relu)
    def broken(op: Relu, ctx: Context) -> str:
        return str(op.no_such_attribute)  # type: ignore[attr-defined]

    node = _node(Relu())
    with pytest.raises(LoweringBug, match=r"test backend failed to lower 'b1\.0' \(relu\): AttributeError") as caught:
        table.lower(node, Context(node))
    assert not isinstance(caught.value, SpecError)
    assert isinstance(caught.value.__cause__, AttributeError)


# ---------------------------------------------------------------- static typing
WRONG_RULES = """
from archspec.backends import Lowerings
from archspec.ops.conv import Conv, Conv1d
from archspec.ops.linear import Linear

LOWERINGS: Lowerings[object, str] = Lowerings("test")

@LOWERINGS.register(Conv, Conv1d)
def conv(op: Conv | Conv1d, ctx: object) -> str:  # fine: takes both
    return str(op.kernel)

@LOWERINGS.register(Linear)
def wrong_op(op: Conv, ctx: object) -> str:
    return ""

@LOWERINGS.register(Conv, Conv1d)
def one_of_two(op: Conv, ctx: object) -> str:
    return ""

@LOWERINGS.register(Linear)
def wrong_result(op: Linear, ctx: object) -> int:
    return 0
"""


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """mypy's errors over the rules above and every backend's rules (one run: it is slow)."""
    found = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if found is None:
        pytest.skip("mypy is not installed")
    wrong = tmp_path_factory.mktemp("rules") / "wrong_rules.py"
    wrong.write_text(WRONG_RULES)
    rules = [
        str(ROOT / "backends" / backend / "ops") for backend in ("archspec_torch", "archspec_flax", "archspec_onnx")
    ]
    # Errors are reported for these files only: the modules they import are checked by their own tests.
    options = ["--follow-imports=silent", "--ignore-missing-imports", "--python-version", "3.11"]
    env = {"PATH": str(Path(sys.executable).parent), "MYPYPATH": f"{ROOT}:{ROOT / 'backends'}"}
    result = subprocess.run([found, *options, str(wrong), *rules], cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: mypy could not run
    return [line for line in result.stdout.splitlines() if ": error:" in line]


def test_mypy_flags_a_rule_registered_for_an_op_it_does_not_take(mypy_errors: list[str]) -> None:
    errors = [line for line in mypy_errors if "wrong_rules.py" in line]
    assert len(errors) == 3, errors  # each wrong rule, and only those
    assert 'type "Callable[[Conv, object], str]"; expected "Callable[[Linear, object], str]"' in errors[0]
    assert 'type "Callable[[Conv, object], str]"; expected "Callable[[Conv | Conv1d, object], str]"' in errors[1]
    assert 'type "Callable[[Linear, object], int]"; expected "Callable[[Linear, object], str]"' in errors[2]


def test_the_backends_rules_type_check(mypy_errors: list[str]) -> None:
    assert [line for line in mypy_errors if "wrong_rules.py" not in line] == []
