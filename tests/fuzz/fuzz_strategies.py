"""Hypothesis strategies for hostile and broken input.

* :func:`yaml_texts` / :func:`json_texts`: text, from arbitrary unicode and nasty bytes to
  spec-like documents with random edits, deep nesting, anchors and aliases (bombs,
  recursion, merges), tags (``!!python/...`` and friends) and directives.
* :func:`structures`: dicts and lists of scalars shaped like specs (right keys, wrong values).
* :func:`expressions`: well-formed expressions drawn from the grammar, and garbage.
* :func:`networks`: well-formed-but-wrong specs: random op and block calls with random or
  misspelt arguments, random blocks and params, random shapes, hostile names.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from hypothesis import strategies as st

from archspec.ops import REGISTRY

OPS = sorted(REGISTRY)
FIELDS = {name: REGISTRY[name].positional() for name in OPS}
LAYER_KEYS = [
    "call",
    "args",
    "kwargs",
    "seq",
    "concat",
    "axis",
    "add",
    "mul",
    "repeat",
    "do",
    "for",
    "in",
    "if",
    "then",
    "else",
]
TOP_KEYS = ["archspec", "name", "doc", "input", "params", "use", "blocks", "network"]

#: Names that try to break generated code, or look like other names.
HOSTILE_NAMES = [
    "x; import os",
    "__import__('os')",
    "ｃｏｎｖ",  # fullwidth: Python's parser folds it to 'conv' (NFKC)
    "cоnv",  # Cyrillic 'о'
    "а",  # Cyrillic 'а'
    "class",
    "lambda",
    "import",
    "def",
    "None",
    "True",
    "__init__",
    "__class__",
    "__dict__",
    "nn",
    "torch",
    "self",
    "x",
    "super",
    "F",
    "forward",
    "training",
    "parameters",
    "print",
    "exec",
    "in_channels",
    "Module",
    "Sequential",
    "_",
    "_private",
    "a b",
    "1st",
    "a.b",
    "a-b",
    "",
    "\u200b",
    "ǅ",
    "ß",
    "İ",
    "x\ny",
    "'''",
    '"""',
    "\\",
    "#",
]
PLAIN_NAMES = ["a", "b", "c", "k", "n", "stem", "head", "body", "block", "unit", "layer", "b1", "b2", "conv_bn", "out"]
WORDS = [*OPS, "same", "valid", "tanh", "none", "N", "B", "input", "relu6", "convv", "lineer", "maxpol", "stride"]


# ------------------------------------------------------------------ scalars
def _ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(-2, 12),
        st.integers(-100, 300),
        st.sampled_from([0, 1, 2, 3, 64, 100_000, 100_001, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30]),
        st.integers().map(lambda n: -abs(n)),
    )


def _floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, 0.5, 1.0, 1e-5, 1e-320, 1e308, math.inf, -math.inf, math.nan, 0.1]),
    )


def _names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PLAIN_NAMES),
        st.sampled_from(HOSTILE_NAMES),
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
        st.text(min_size=0, max_size=6),
    )


def _strings() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(WORDS), st.sampled_from(HOSTILE_NAMES), st.text(max_size=12))


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(_ints(), _floats(), st.booleans(), st.none(), _strings())


# ------------------------------------------------------------------ expressions
_BINARY = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or", "->"]
_UNARY = ["-", "+", "not "]
_FUNCS = ["min", "max", "abs", "len", "int", "float", "round", "sum", "range", "conv", "relu", "print", "open", "eval"]
_FORBIDDEN = [
    "__import__('os')",
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.y",
    "lambda: 1",
    "[i for i in range(3)]",
    "{i: i for i in xs}",
    "{1, 2}",
    "{'a': 1}",
    "(y := 3)",
    "f'{c}'",
    "*xs",
    "await c",
    "(yield)",
    "c if c",
    "b'bytes'",
    "1j",
    "...",
    "c[::0]",
    "'%s' % c",
    "'%999999999d' % 1",
    "round(5, -10**18)",
    "sum([[1]] * 99999, [])",
    "[[0] * 99999] * 99999",
    "[range(99999)] * 99999",
    "'a' * 99999 + 'a' * 99999",
    "9 ** 9 ** 9",
    "2 ** 64",
    "int('9' * 1999)",
    "float('nan')",
    "1e999",
    "-1e999 - 1e999",
    "max()",
    "min([])",
    "range(10**18)",
    "len(range(10**18))",
    "int(float('inf'))",
    "xs[10**30]",
    "s * -1",
]
EXPR_ALPHABET = st.sampled_from([*list("0123456789abcxyz_()[]{},.:;+-*/%<>=!&|^~@'\"\\ \t\n#$?`"), "->", "**", "//"])


def _literal_source(value: Any) -> str:
    """Spec-expression source for a value (how a person would write it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal_source(v) for v in value) + "]"
    return repr(value)


def _expr_leaves(names: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        _ints().map(str),
        _floats().map(_literal_source),
        _strings().map(repr),
        st.sampled_from(["true", "false", "null", "None", "True"]),
        st.sampled_from(names) if names else st.just("c"),
        _names(),
    )


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    wrap = st.sampled_from(["({})", "{}"])
    return st.one_of(
        st.tuples(inner, st.sampled_from(_BINARY), inner, wrap).map(lambda t: t[3].format(f"{t[0]} {t[1]} {t[2]}")),
        st.tuples(st.sampled_from(_UNARY), inner).map(lambda t: f"{t[0]}{t[1]}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + ", ".join(xs) + ")"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, st.sampled_from(["{}:", ":{}", "{}::{}", "::-1", "{}:{}"]), inner).map(
            lambda t: f"{t[0]}[{t[1].replace('{}', t[2], 1).replace('{}', '1')}]"
        ),
        st.tuples(
            st.sampled_from(_FUNCS), st.lists(inner, max_size=3), st.lists(st.tuples(_names(), inner), max_size=2)
        ).map(lambda t: f"{t[0]}({', '.join([*t[1], *(f'{k}={v}' for k, v in t[2])])})"),
    )


def expressions(names: list[str] | None = None, max_leaves: int = 10) -> st.SearchStrategy[str]:
    """Well-formed expressions of the spec grammar (most), and garbage."""
    well_formed = st.recursive(_expr_leaves(names or []), _grow, max_leaves=max_leaves)
    return st.one_of(well_formed, well_formed, well_formed, garbage_expressions())


def garbage_expressions() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_FORBIDDEN),
        st.lists(EXPR_ALPHABET, max_size=30).map("".join),
        st.text(max_size=20),
        st.integers(1, 1200).map(lambda n: "1" + " + 1" * n),
        st.integers(1, 1000).map(lambda n: "-" * n + "1"),
        st.integers(1, 700).map(lambda n: "not " * n + "1"),
        st.integers(1, 300).map(lambda n: "(" * n + "1" + ")" * n),
        st.integers(1, 300).map(lambda n: "[" * n + "]" * n),
        st.integers(1, 700).map(lambda n: "relu" + " * 1" * n),
        st.integers(1, 700).map(lambda n: " -> ".join(["relu"] * n)),
        st.integers(1, 400).map(lambda n: "relu if 1 else " * n + "relu"),
        st.integers(1900, 2100).map(lambda n: "1" * n),
    )


# ------------------------------------------------------------------ layers and networks
#: Networks draw their params, blocks and block parameters from these, so that calls and
#: expressions (built once, from the same lists) often refer to something that exists.
PARAMS = ["c", "k", "n", "xs", "classes"]
BLOCKS = ["unit", "stage", "res", "inc"]
BLOCK_PARAMS = ["c", "k", "n", "s"]
_REFS = sorted({*PARAMS, *BLOCK_PARAMS})


def _misspelt(word: str) -> st.SearchStrategy[str]:
    def edit(data: tuple[int, str, int]) -> str:
        i, ch, how = data
        i = i % (len(word) + 1)
        if how == 0:
            return word[:i] + word[i + 1 :]
        if how == 1:
            return word[:i] + ch + word[i:]
        if how == 2 and len(word) > 1:
            j = min(i, len(word) - 2)
            return word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        if how == 3:
            return word.upper()
        return word.replace("o", "о").replace("a", "а")  # Cyrillic look-alikes

    return st.tuples(st.integers(0, 40), st.sampled_from("aeiostrxz_1"), st.integers(0, 4)).map(edit)


_MISSPELT_OP = st.sampled_from(OPS).flatmap(_misspelt)
_MISSPELT_FIELD = st.sampled_from(sorted({f for fs in FIELDS.values() for f in fs})).flatmap(_misspelt)
_ARG = st.one_of(
    st.integers(1, 16).map(str),
    st.sampled_from(["1", "2", "3", "8", "16", "c", "k", "c * 2", "k // 2", "xs[0]", "[1, 3]", "'same'"]),
    scalars().map(_literal_source),
    st.lists(st.integers(0, 5), max_size=3).map(_literal_source),
    expressions(_REFS, max_leaves=4),
)


@st.composite
def _call(draw: st.DrawFn) -> str:
    """``op(args, kw=v)``: a real op (often with its own argument names), a block, or a misspelling."""
    callee = draw(
        st.one_of(st.sampled_from(OPS), st.sampled_from(OPS), st.sampled_from(BLOCKS), _MISSPELT_OP, _names())
    )
    fields = FIELDS.get(callee, ())
    if draw(st.booleans()):  # plausible: often a valid layer, so that later stages see something
        if callee in ("conv", "conv1d"):
            k = draw(st.sampled_from([1, 3]))
            return f"{callee}({draw(st.sampled_from([2, 4, 8, 'c']))}, {k}, padding={k // 2})"
        if callee in ("maxpool", "avgpool", "maxpool1d", "avgpool1d"):
            return f"{callee}({draw(st.sampled_from([1, 2]))})"
        if callee == "linear":
            return f"flatten -> linear({draw(st.sampled_from(['3', 'classes', 'c']))})"
        if callee in BLOCKS:
            return f"{callee}({', '.join(draw(st.lists(st.sampled_from(['2', '4', 'c', 'k']), max_size=3)))})"
        if not fields:
            return callee
    n_args = draw(st.integers(0, min(len(fields), 3) if fields else 2))
    args = [draw(_ARG) for _ in range(n_args)]
    keys = draw(st.lists(st.one_of(st.sampled_from(fields or ("stride",)), _MISSPELT_FIELD), max_size=2))
    kwargs = [f"{k}={draw(_ARG)}" for k in keys]
    if not args and not kwargs and draw(st.booleans()):
        return callee
    return f"{callee}({', '.join([*args, *kwargs])})"


CALLS = _call()
_COUNT = st.one_of(
    st.integers(0, 3).map(str), st.sampled_from(["-1", "100001", "2**64", "1.5", "true", "'2'", "n", "k", "xs"])
)
_COND = expressions(_REFS, max_leaves=3)
_LEAF = st.one_of(
    CALLS,
    st.lists(CALLS, min_size=1, max_size=4).map(" -> ".join),
    st.tuples(st.lists(CALLS, min_size=1, max_size=2).map(" -> ".join), _COUNT).map(lambda t: f"({t[0]}) * {t[1]}"),
    st.tuples(CALLS, _COND, CALLS).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
    st.lists(CALLS, min_size=1, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
)
_STEP = st.one_of(st.sampled_from(PLAIN_NAMES), _names())
_DAG_NAME = st.one_of(st.sampled_from(["a", "b", "c", "input", "out"]), _names())
_DAG_IN = st.one_of(
    st.lists(st.sampled_from(["input", "a", "b", "c", "zz"]), max_size=3), st.sampled_from(["input", "a"])
)


def _grow_layer(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    dag_node = st.one_of(
        inner,
        st.builds(
            lambda ins, body: {"in": ins, "do": body},
            _DAG_IN,
            st.one_of(inner, st.sampled_from(["add", "concat", "mul"])),
        ),
    )
    return st.one_of(
        st.lists(inner, min_size=0, max_size=4),
        st.dictionaries(_STEP, inner, max_size=3),
        st.builds(lambda xs, axis: {"concat": xs, "axis": axis}, st.lists(inner, max_size=3), _ints()),
        st.builds(lambda xs: {"concat": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda xs: {"add": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda xs: {"mul": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda n, body: {"repeat": n, "do": body}, _COUNT, inner),
        st.builds(
            lambda v, xs, body: {"for": f"{v} in {xs}", "do": body},
            st.sampled_from(["i", "n, c", "c", "a, b, c"]),
            st.sampled_from(["[1, 2]", "[[1, 8], [2, 16]]", "range(3)", "[]", "3", "xs", "[[1]]"]),
            inner,
        ),
        st.builds(
            lambda v, xs, body: {"for": v, "in": xs, "do": body},
            st.lists(_names(), max_size=2),
            st.lists(scalars(), max_size=3),
            inner,
        ),
        st.builds(lambda c, a, b: {"if": c, "then": a, "else": b}, _COND, inner, inner),
        st.builds(lambda nodes: {"dag": nodes}, st.dictionaries(_DAG_NAME, dag_node, max_size=4)),
        st.builds(
            lambda name, args, kwargs: {"call": name, "args": args, "kwargs": kwargs},
            st.one_of(st.sampled_from(OPS), _names()),
            st.lists(scalars(), max_size=3),
            st.dictionaries(
                st.one_of(st.sampled_from(["stride", "padding", "axis", "p"]), _names()), scalars(), max_size=2
            ),
        ),
        st.dictionaries(st.sampled_from(LAYER_KEYS), inner, min_size=1, max_size=3),
    )


LAYERS = st.recursive(_LEAF, _grow_layer, max_leaves=6)
SMALL_LAYERS = st.recursive(_LEAF, _grow_layer, max_leaves=3)


def _input_shapes() -> st.SearchStrategy[Any]:
    dim = st.one_of(
        st.integers(1, 40), st.sampled_from(["N", "B", "classes"]), _ints(), _strings(), st.booleans(), _floats()
    )
    plausible = st.tuples(st.integers(1, 4), st.integers(4, 33)).flatmap(
        lambda t: st.sampled_from([["N", t[0], t[1], t[1]], ["N", t[0], t[1]], ["N", t[1]], [2, t[0], t[1], t[1]]])
    )
    return st.one_of(plausible, plausible, st.lists(dim, max_size=6), scalars())


_INPUTS = _input_shapes()
_PARAM_VALUE = st.one_of(st.integers(1, 16), st.integers(1, 16), scalars(), st.lists(st.integers(1, 8), max_size=3))


@st.composite
def _network(draw: st.DrawFn) -> dict[str, Any]:
    param_names = draw(st.lists(st.one_of(st.sampled_from(PARAMS), _names()), max_size=3, unique=True))
    params = {name: draw(_PARAM_VALUE) for name in param_names}
    blocks: dict[str, Any] = {}
    for name in draw(st.lists(st.one_of(st.sampled_from(BLOCKS), _names()), max_size=3, unique=True)):
        names = draw(st.lists(st.one_of(st.sampled_from(BLOCK_PARAMS), _names()), max_size=3, unique=True))
        defaults = draw(st.integers(0, len(names)))
        signature = [p if i < len(names) - defaults else f"{p}={draw(_ARG)}" for i, p in enumerate(names)]
        key = f"{name}({', '.join(signature)})" if names or draw(st.booleans()) else name
        blocks[key] = draw(SMALL_LAYERS)
    spec: dict[str, Any] = {
        "archspec": draw(st.sampled_from([1, 1, 1, 1, 2, "1", None, 1.0])),
        "name": draw(st.one_of(st.sampled_from(["net", "tiny", "m.v2", "a-b"]), _names())),
        "input": draw(_INPUTS),
    }
    if params or draw(st.booleans()):
        spec["params"] = params
    if blocks:
        spec["blocks"] = blocks
    spec["network"] = draw(LAYERS)
    if draw(st.integers(0, 9)) == 0:
        spec["doc"] = draw(_strings())
    if draw(st.integers(0, 9)) == 0:
        del spec[draw(st.sampled_from(["archspec", "name", "input", "network"]))]
    if draw(st.integers(0, 9)) == 0:
        spec[draw(st.one_of(st.sampled_from(["parms", "use", "blocks", "networks", "Name"]), _names()))] = draw(
            scalars()
        )
    return spec


NETWORKS = _network()


def networks() -> st.SearchStrategy[dict[str, Any]]:
    """A spec mapping that is well-formed YAML data but (mostly) wrong as a network."""
    return NETWORKS


# ------------------------------------------------------------------ plausible networks
#: Mostly valid layers over a small NCHW input, with the odd mistake (a misspelt argument, a
#: hostile step name): these get through shape inference often enough for the backends to be
#: fuzzed too.
_P_CALLS = st.sampled_from(
    [
        "conv(4, 3, padding=1)", "conv(c, 1)", "conv(c * 2, k, padding=k // 2)", "conv(8, [1, 3], padding=[0, 1])",
        "conv(4, 3, padding='same')", "conv(4, 2, padding='same')", "conv(4, 3, stride=2, padding=1)",
        "conv(4, 3, groups=4, padding=1)", "conv(4, 3, dilation=2, padding=2, bias=false)", "relu", "relu6", "sigmoid",
        "tanh", "gelu", "gelu('tanh')", "silu", "identity", "batchnorm", "batchnorm(update_rate=0.2)", "dropout(0.1)",
        "leaky_relu(0.1)", "maxpool(2, stride=1)", "maxpool(3, stride=1, padding=1)", "avgpool(3, 1, 1)",
        "avgpool(2, ceil_mode=true, count_include_pad=false)", "lrn(3)", "softmax(1)", "layernorm(1)",
        "adaptive_avgpool(2)", "unit(4)", "unit(c)", "stage(2, 4)", "stage(n, c)", "unit(c=8)",
        "conv(4, 3, strides=1)", "maxpool(2, sride=2)", "unit(4, 5)", "batchnorm(momentum=0.1)",
    ]
)  # fmt: skip
_P_NAMES = st.one_of(st.sampled_from(PLAIN_NAMES), st.sampled_from(PLAIN_NAMES), st.sampled_from(HOSTILE_NAMES))
_P_LEAF = st.one_of(_P_CALLS, st.lists(_P_CALLS, min_size=1, max_size=3).map(" -> ".join))


def _p_grow(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(_P_NAMES, inner, min_size=1, max_size=3),
        st.builds(lambda xs: {"concat": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"add": ["identity", x]}, inner),
        st.builds(lambda n, x: {"repeat": n, "do": x}, st.sampled_from([0, 1, 2, "n"]), inner),
        st.builds(lambda x: {"for": "c in [4, 8]", "do": x}, inner),
        st.builds(lambda a, b: {"if": "n > 1", "then": a, "else": b}, inner, inner),
        st.builds(
            lambda a, b, name: {
                "dag": {name: a, "b": {"in": ["input"], "do": b}, "out": {"in": [name, "b"], "do": "concat"}}
            },
            inner,
            inner,
            st.sampled_from(["a", "x", "class", "self", "torch", "in_channels", "nn"]),
        ),
    )


_P_LAYERS = st.recursive(_P_LEAF, _p_grow, max_leaves=5)
_P_HEADS = st.sampled_from([None, "global_avgpool -> flatten -> linear(classes)", "flatten -> linear(3) -> softmax"])


@st.composite
def _plausible_network(draw: st.DrawFn) -> dict[str, Any]:
    channels, size = draw(st.sampled_from([1, 2, 4, 8])), draw(st.integers(5, 12))
    body = draw(_P_LAYERS)
    head = draw(_P_HEADS)
    network: Any = {"body": body, "head": head} if head else body
    spec = {
        "archspec": 1,
        "name": draw(
            st.one_of(st.sampled_from(["net", "tiny", "m.v2", "a-b", "Net", "_x", "x"]), st.sampled_from(HOSTILE_NAMES))
        ),
        "input": ["N", channels, size, size],
        "params": {
            "c": draw(st.sampled_from([2, 4, 8])),
            "k": draw(st.sampled_from([1, 3])),
            "n": draw(st.integers(0, 2)),
            "classes": 3,
        },
        "blocks": {
            draw(st.sampled_from(["unit(c)", "unit(c, k=3)", "unit(c=4)"])): draw(
                st.recursive(_P_LEAF, _p_grow, max_leaves=2)
            ),
            draw(st.sampled_from(["stage(n, c)", "stage(n, c=8)"])): {"repeat": "n", "do": "unit(c)"},
        },
        "network": network,
    }
    if draw(st.integers(0, 4)) == 0:
        spec["doc"] = draw(_strings())
    return spec


PLAUSIBLE_NETWORKS = _plausible_network()


def plausible_networks() -> st.SearchStrategy[dict[str, Any]]:
    """Networks that mostly pass every check: valid layers, the odd mistake or hostile name."""
    return PLAUSIBLE_NETWORKS


# ------------------------------------------------------------------ structures
def structures() -> st.SearchStrategy[Any]:
    """Dicts and lists of scalars with spec-like keys: right words, wrong shapes."""
    key = st.one_of(st.sampled_from(TOP_KEYS), st.sampled_from(LAYER_KEYS), st.sampled_from(WORDS), _names())
    tree = st.recursive(
        scalars(),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=4)),
        max_leaves=15,
    )
    top = st.fixed_dictionaries(
        {"archspec": st.one_of(st.just(1), scalars())},
        optional={k: tree for k in ["name", "input", "params", "blocks", "network", "doc", "use"]},
    )
    return st.one_of(top, top, tree)


# ------------------------------------------------------------------ text
_NASTY = [
    "\x00", "\t", "\r", "\r\n", "\ufeff", "\u2028", "\x85", "\x1b", "\ud7ff", "\U0001f600", ":", "- ", "? ",
    "[", "]", "{", "}", ",", "&a ", "*a", "*b", "<<: *a", "!!python/object/apply:os.system ['true'] ", "!!binary ",
    "!!set ", "!x ", "%YAML 1.2\n---\n", "%TAG ! tag:x,2000:\n---\n", "---\n", "...\n", "#", "'", '"', "|", ">",
    "\\", "@", "`", "    ", "\n  ", "\n", "~", "=", "1e999", "0x1F", "0o17", "1_000", ".nan", "-.inf", "2001-12-14",
    "yes", "no", "on", "off", "null",
]  # fmt: skip
_TAGGED = [
    "a: !!python/object/apply:os.system ['echo hi']",
    "a: !!python/name:os.system",
    "a: !!python/object/new:type [x, [], {}]",
    "!!python/object:__main__.X {a: 1}",
    "a: !!binary aGVsbG8=",
    "a: !!set {x, y}",
    "a: !!omap [{x: 1}]",
    "a: !!timestamp 2001-12-14",
    "a: !custom 1",
    "a: !<tag:yaml.org,2002:python/tuple> [1]",
    "%TAG !p! tag:yaml.org,2002:python/\n---\na: !p!object/apply:os.system [x]",
    "a: !!str 1\nb: !!int '3'\nc: !!float '1.5'\nd: !!bool 'yes'\ne: !!null ''",
    "a: !!int 'x'",
    "a: !!float 'x'",
]


def _bomb(fanout: int, depth: int, flow: bool) -> str:
    lines = ["a0: &a0 [x, x]" if flow else "a0: &a0\n  - x\n  - x"]
    for i in range(1, depth + 1):
        refs = ", ".join([f"*a{i - 1}"] * fanout)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def _nested(depth: int, style: str) -> str:
    if style.startswith("block"):
        depth = min(depth, 300)  # indentation grows the text quadratically: 300 levels is 90 kB
    if style == "flow-list":
        return "a: " + "[" * depth + "]" * depth
    if style == "flow-map":
        return "a: " + "{b: " * depth + "1" + "}" * depth
    if style == "block-map":
        return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "1\n"
    if style == "block-list":
        return "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "1\n"
    return "a: " + "[" * depth  # unclosed


def _aliases() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(_bomb, st.integers(1, 12), st.integers(1, 12), st.booleans()),
        st.sampled_from(
            [
                "a: &a [*a]",
                "a: &a {b: *a}",
                "a: *nope",
                "a: &a 1\na: *a",
                "a: &a [1]\nb: &a [2]\nc: *a",
                "base: &b {x: 1}\nuse: {<<: *b, y: 2}",
                "- &a [*a, *a]",
                "&a [*a]",
                "archspec: 1\nname: n\ninput: &i [N, 3, 8, 8]\nparams: {shape: *i}\nnetwork: &n relu\n",
                "archspec: 1\nname: n\ninput: [N, 3]\nnetwork: &n {seq: [relu, *n]}\n",
            ]
        ),
    )


def _to_yaml(data: Any) -> str:
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return repr(data)


def _to_json(data: Any) -> str:
    try:
        return json.dumps(data, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return repr(data)


@st.composite
def _edited(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """``base`` text with a few random edits: deletions, insertions of nasty pieces, duplications."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        how = draw(st.integers(0, 3))
        if how == 0:
            text = text[:i] + text[i + draw(st.integers(1, 8)) :]
        elif how == 1:
            text = text[:i] + draw(st.sampled_from(_NASTY)) + text[i:]
        elif how == 2:
            text = text[:i] + draw(st.text(max_size=3)) + text[i:]
        else:
            j = draw(st.integers(i, min(len(text), i + 40)))
            text = text[:j] + text[i:j] + text[j:]
    return text


def yaml_texts() -> st.SearchStrategy[str]:
    spec_like = st.one_of(networks().map(_to_yaml), structures().map(_to_yaml))
    return st.one_of(
        spec_like,
        spec_like,
        _edited(spec_like),
        _edited(spec_like),
        st.text(max_size=200),
        st.lists(st.sampled_from(_NASTY), max_size=20).map("".join),
        st.builds(
            _nested, st.integers(1, 3000), st.sampled_from(["flow-list", "flow-map", "block-map", "block-list", "open"])
        ),
        _aliases(),
        _edited(_aliases()),
        st.sampled_from(_TAGGED),
        _edited(st.sampled_from(_TAGGED)),
    )


def json_texts() -> st.SearchStrategy[str]:
    spec_like = st.one_of(networks().map(_to_json), structures().map(_to_json))
    return st.one_of(
        spec_like,
        spec_like,
        _edited(spec_like),
        st.text(max_size=100),
        st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
        st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
        st.sampled_from(
            [
                '{"a": 1, "a": 2}',
                '{"archspec": 1, "name": "x", "name": "y"}',
                '{"a": NaN, "b": Infinity, "c": -Infinity}',
                '{"a": 1e999, "b": 123456789012345678901234567890}',
                '{"a": "\\ud800"}',
                '{"a": "\\u0000"}',
                "[1, 2,]",
                '{"a": 1,}',
                "\ufeff{}",
                '{"archspec": 1, "name": "n", "input": ["N", 3], "network": "relu"}\n{"x": 1}',
            ]
        ),
    )


def nasty_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda t, junk: t.encode("utf-8", "surrogatepass") + junk, st.text(max_size=40), st.binary(max_size=4)
        ),
        st.sampled_from([b"\xff\xfe a: 1", b"\xef\xbb\xbfa: 1", b"a: \xc3\x28", b"\x00" * 20, b"\xed\xa0\x80"]),
        st.builds(lambda t: t.encode("utf-16"), st.text(max_size=30)),
    )
