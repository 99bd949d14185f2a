"""Names from a spec never become code: hostile names are refused with a located error, or the
emitted torch source stays valid Python that says what the spec said, builds, runs and passes ruff.

Every name a spec gives (the network's, blocks', block parameters', steps', DAG nodes', params')
is tried with code injections (``x; import os``, ``__import__('os')``), unicode look-alikes
(fullwidth ``ｃｏｎｖ``, which Python's parser would fold into ``conv``; Cyrillic ``а``), keywords
(``class``, ``lambda``, ``None``), dunders (``__init__``, ``__class__``) and the names the
emitted code itself uses (``nn``, ``torch``, ``F``, ``self``, ``x``, ``super``, ``forward``,
``in_channels``, the ``PaddedConv2d`` helper). Docs and values that end up in the source
(docstrings, parameter defaults, inf and NaN) are tried with quotes, backslashes, NUL, escape
and bidi control characters.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruff_check import ruff_check

import archspec
from archspec.errors import SpecError, SpecErrors

torch = pytest.importorskip("torch")

from archspec.codegen import docstring as _docstring  # noqa: E402
from archspec.codegen import literal  # noqa: E402

HOSTILE = [
    "x; import os",
    "__import__('os')",
    "ｃｏｎｖ",
    "cоnv",
    "а",
    "class",
    "lambda",
    "None",
    "True",
    "__init__",
    "__class__",
    "nn",
    "torch",
    "self",
    "x",
    "super",
    "F",
    "forward",
    "training",
    "print",
    "in_channels",
    "PaddedConv2d",
    "Net",
    "_private",
    "match",
    "type",
]
INJECTED = ("import os", "__import__", "os.system")


def _spec(**overrides: Any) -> dict[str, Any]:
    return {"archspec": 1, "name": "net", "input": ["N", 3, 8, 8], "network": "conv(4, 3, padding=1)", **overrides}


def _places(name: str) -> dict[str, dict[str, Any]]:
    """One spec per place a name can appear."""
    asym = "conv(4, 2, padding='same')"
    return {
        "network name": _spec(name=name),
        "step": _spec(network={name: "conv(4, 3, padding=1)", "after": "relu"}),
        "dag node": _spec(network={"dag": {name: "conv(4, 1)", "b": {"in": ["input", name], "do": "concat"}}}),
        "param": _spec(params={name: 4}, network="relu"),
        "param in use": _spec(params={name: 4}, network=f"conv({name}, 1) -> relu -> conv({name}, 1)"),
        "block": _spec(blocks={f"{name}(c)": "conv(c, 1) -> relu"}, network=[f"{name}(4)", f"{name}(5)"]),
        "block parameter": _spec(
            blocks={f"unit({name}, c)": f"conv({name}, 1) -> {asym} -> conv(c, 1)"},
            network=["unit(4, 5)", "unit(6, 7)"],
        ),
    }


CASES = [(name, place) for name in HOSTILE for place in _places("x")]


def _emitted_or_refused(spec: dict[str, Any]) -> str | None:
    """The emitted source, or None after a located refusal."""
    try:
        return archspec.emit(spec).source
    except (SpecError, SpecErrors) as exc:
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        assert all(e.loc is not None for e in errors), exc
        return None


@pytest.mark.parametrize(("name", "place"), CASES, ids=[f"{p}:{n!a}" for n, p in CASES])
def test_hostile_names_are_refused_or_emitted_safely(name: str, place: str, tmp_path: Path) -> None:
    spec = _places(name)[place]
    source = _emitted_or_refused(spec)
    if source is None:
        return
    tree = ast.parse(source)  # valid Python
    assert not any(bad in source for bad in INJECTED), source
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imports |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imports <= {"torch", "torch.nn.functional"}, imports
    assert source.isascii() or name in source, "non-ASCII text in the source comes from a doc only"
    model = archspec.build(spec).eval()
    with torch.no_grad():
        model(torch.randn(2, 3, 8, 8))
    (tmp_path / "model.py").write_text(source)
    _ruff(tmp_path / "model.py")


def test_what_is_refused_and_how() -> None:
    """The refusals name the problem and point into the spec."""
    expectations = {
        ("step", "class"): "the layer name 'class' (at class) cannot be a torch submodule name",
        ("step", "__init__"): "the layer name '__init__' (at __init__) cannot be a torch submodule name",
        ("step", "forward"): "the layer name 'forward' (at forward) cannot be a torch submodule name",
        ("step", "x; import os"): "step name 'x; import os' is not a plain name",
        ("step", "ｃｏｎｖ"): "step name 'ｃｏｎｖ' is not a plain name",
        ("dag node", "lambda"): "the layer name 'lambda' (at lambda) cannot be a torch submodule name",
        ("dag node", "cоnv"): "'cоnv' cannot name a DAG node",
        ("block", "ｃｏｎｖ"): "the name 'ｃｏｎｖ' is not plain ASCII",
        ("block", "x; import os"): "invalid expression",
        ("block parameter", "а"): "the name 'а' is not plain ASCII",
        ("param", "x; import os"): "'x; import os' cannot name an entry of 'params'",
        ("network name", "__import__('os')"): "invalid value at 'name'",
    }
    for (place, name), message in expectations.items():
        with pytest.raises((SpecError, SpecErrors)) as info:
            archspec.emit(_places(name)[place])
        assert message in str(info.value), (place, name, str(info.value))
    with pytest.raises(SpecError) as info:
        archspec.emit(_spec(network="ｃｏｎｖ(4, 3)"))
    assert info.value.hint == "Python would read it as 'conv'; write that if you mean it"


def test_names_the_code_uses_are_renamed_and_parameters_never_shadow_classes() -> None:
    spec = _spec(
        blocks={
            "inner(c)": "conv(c, 1) -> relu",
            "outer(Inner, PaddedConv2d, nn, x)": (
                "inner(Inner) -> conv(PaddedConv2d, 2, padding='same') -> conv(nn + x, 1)"
            ),
            "padded_conv2d(c)": "conv(c, 1) -> relu",
        },
        network={"torch": "outer(4, 5, 6, 1)", "F": "outer(7, 5, 2, 2)", "self": "padded_conv2d(3)"},
    )
    source = archspec.emit(spec).source
    assert "class PaddedConv2d(nn.Conv2d):" in source  # the helper keeps its name
    assert "class PaddedConv2d2(nn.Sequential):" in source  # the block's class gives way
    assert "class Inner2(nn.Sequential):" in source  # a class never takes a parameter's name
    # 'PaddedConv2d' and 'nn' stay values (so 'nn + x' is a number: one class per value of it)
    assert "def __init__(self, in_channels, Inner, x) -> None:" in source
    assert "self.torch = Outer(3, 4, x=1)" in source and "self.self = PaddedConv2d2(4, 3)" in source
    model = archspec.build(spec).eval()
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 3, 8, 8)


@pytest.mark.parametrize(
    "doc",
    ['ends with a quote"', 'four """" quotes', "back\\slash \\x41 \\N{DASH}", "nul \x00 esc \x1b[31m bell \x07",
     "bidi \u202e\u2066 zero\u200bwidth", '"""; import os; """', "\\", '"', "tab\tnew\nline\u2028sep"],
)  # fmt: skip
def test_docs_become_docstrings_that_say_exactly_that(doc: str, tmp_path: Path) -> None:
    source = archspec.emit(_spec(doc=doc)).source
    tree = ast.parse(source)
    network = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Net")
    assert ast.get_docstring(network, clean=False).replace("\n    ", " ") == " ".join(doc.split())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    assert imported == {"torch", "torch.nn.functional", "nn"} or imported == {"torch", "nn"}, imported
    (tmp_path / "model.py").write_text(source)
    _ruff(tmp_path / "model.py")


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=300))
def test_any_text_round_trips_through_a_docstring(text: str) -> None:
    docstring = _docstring(text, "    ")
    value = ast.literal_eval(docstring.strip())
    assert value.replace("\n    ", " ").strip() == " ".join(text.split())


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, [1.0, math.inf], (math.nan,)])
def test_non_finite_values_are_written_as_python_can_read_them(value: Any) -> None:
    assert "inf" not in literal(value).replace('"inf"', "")
    restored = eval(literal(value), {"__builtins__": {"float": float}})
    assert repr(restored) == repr(value)


@pytest.mark.parametrize(
    "network",
    ["batchnorm(eps=1e999)", "leaky_relu(float('nan'))", "leaky_relu(-1e999)", "dropout(1e-320)"],
)
def test_specs_with_non_finite_numbers_build(network: str) -> None:
    model = archspec.build(_spec(network=network))
    assert model(torch.ones(1, 3, 8, 8)).shape == (1, 3, 8, 8)


def _ruff(path: Path) -> None:
    result = ruff_check(path)
    if result is None:
        return
    assert result.returncode == 0, result.stdout
