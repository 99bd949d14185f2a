"""A catalogue of broken specs: every user mistake is a located error, never a traceback.

Each file in ``cases/`` is one mistake; ``CASES`` below says what archspec must report for
it: the message, the file, line and column it points at (columns point at the offending
token inside a call string, e.g. at ``strides`` in ``conv(16, 3, strides=2)``), the block
stack (``b3 › inception#2 › branch 3 › conv#3``) and the hint. ``cases/lib/`` holds the
block libraries some cases ``use:``; it is not a case.

The whole catalogue is checked through one ``archspec check --format json`` process (plus
one per case that needs its own command line), through the plain output of one process
(exit code exactly 1, no traceback, every ``file:line:col: error:`` header), a few cases
one file per process, and the Python API.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import archspec

CASES_DIR = Path(__file__).resolve().parent / "cases"


@dataclass(frozen=True)
class Case:
    """What ``archspec check`` must say about one broken spec (its first error)."""

    message: str  # regex, searched in the message
    line: int | None  # 1-based; None for a file-level error with no line
    column: int | None
    trace: str = ""  # fragment of the block stack joined with ' › '; "" means no stack
    hint: str | None = None  # regex, searched in the hint; None means no hint is required
    file: str | None = None  # the file the error points into, relative to cases/ (default: the case)
    args: tuple[str, ...] = ()  # extra command-line arguments
    params: dict[str, Any] = field(default_factory=dict)  # the same, through the Python API


CASES: dict[str, Case] = {
    # ---- file and YAML/JSON level
    "empty.yaml": Case(r"spec file is empty", None, None),
    "not_a_mapping.yaml": Case(r"a spec file must be a mapping", 1, 1),
    "unclosed_bracket.yaml": Case(r"invalid YAML: .*(',' or '\]')", 4, 8, hint=r"']' missing\? .* line 3"),
    "tab_indentation.yaml": Case(r"invalid YAML: .*(tab|'\\t')", 6, 1, hint=r"tabs"),
    "duplicate_key.yaml": Case(r"duplicate key 'stem'", 7, 3, hint=r"only one"),
    "duplicate_key.json": Case(r"duplicate key 'name'", 9, 3, hint=r"only one"),
    "invalid_json.json": Case(r"invalid JSON: Expecting property name", 8, 3, hint=r"no comma after the last item"),
    "python_tag.yaml": Case(r"refused YAML tag '!!python/object/apply:os.system'", 5, 10, hint=r"plain data"),
    "alias_bomb.yaml": Case(r"expands to [\d,]+ YAML nodes, over the limit", 10, 6, hint=r"alias bomb"),
    "recursive_alias.yaml": Case(r"recursive YAML alias: this list contains itself", 5, 11, hint=r"anchor"),
    # ---- top-level keys
    "unknown_top_level_key.yaml": Case(r"unknown key 'parms'", 4, 1, hint=r"did you mean 'params'\?"),
    "missing_network.yaml": Case(r"missing required key 'network'", 1, 1),
    "wrong_version.yaml": Case(r"unsupported spec format version", 1, 11),
    "bad_input_dim.yaml": Case(r"input sizes must be positive", 3, 15),
    "use_missing_library.yaml": Case(r"cannot find block library 'lib/no_such_blocks.yaml'", 6, 5),
    "use_cycle.yaml": Case(r"'use' cycle: cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml", 2, 7, file="lib/cycle_b.yaml"),
    "set_unknown_param.yaml": Case(
        r"unknown param 'clases' in --set",
        4,
        1,
        hint=r"did you mean 'classes'\?",
        args=("--set", "clases=100"),
        params={"clases": 100},
    ),
    # ---- the expression language
    "bad_expression_syntax.yaml": Case(r"invalid expression", 6, 22, trace="stem"),
    "forbidden_attribute.yaml": Case(r"attribute access \('\.'\) is not allowed", 6, 14, trace="stem"),
    "forbidden_lambda.yaml": Case(r"lambda is not allowed", 5, 20, trace="stem"),
    "forbidden_comprehension.yaml": Case(r"list comprehension is not allowed", 5, 18, trace="stem"),
    "repeated_keyword.yaml": Case(r"argument 'stride' is given twice", 5, 31, trace="stem"),
    "undefined_name.yaml": Case(
        r"undefined name 'widht'", 8, 12, trace="body › unit#1 › seq#2 › conv#1", hint=r"did you mean 'width'\?"
    ),
    "unbound_size.yaml": Case(
        r"undefined name 'channels'", 5, 14, trace="stem › conv#1", hint=r"'out_channels' of conv takes an int > 0"
    ),
    # ---- ops and their arguments
    "unknown_op.yaml": Case(r"unknown op or block 'maxpol'", 5, 43, trace="stem › maxpol#3", hint=r"'maxpool'"),
    "misspelt_argument.yaml": Case(
        r"unknown argument 'strides' for conv", 5, 21, trace="stem › conv#1", hint=r"did you mean 'stride'\?"
    ),
    "structured_misspelt_argument.yaml": Case(
        r"unknown argument 'dilatoin' for conv", 8, 28, trace="stem › conv#1", hint=r"did you mean 'dilation'\?"
    ),
    "batchnorm_momentum.yaml": Case(
        r"unknown argument 'momentum' for batchnorm", 5, 45, trace="stem › batchnorm#2", hint=r"update_rate"
    ),
    "missing_argument.yaml": Case(r"conv is missing argument 'kernel'", 5, 9, trace="stem › conv#1"),
    "too_many_positional.yaml": Case(r"linear takes at most 2 arguments, got 3", 6, 55, trace="head › linear#3"),
    "string_for_int.yaml": Case(
        r"invalid 'stride' of conv: expected an int > 0.*found the string '2'", 5, 28, trace="stem › conv#1"
    ),
    "list_for_bool.yaml": Case(
        r"invalid 'bias' of linear: expected true or false, found the list", 6, 54, trace="head › linear#3"
    ),
    "zero_channels.yaml": Case(r"invalid 'out_channels' of conv: .*greater than 0", 5, 14, trace="stem › conv#1"),
    "negative_channels.yaml": Case(r"invalid 'out_channels' of conv: .*greater than 0", 5, 14, trace="stem › conv#1"),
    "same_padding_stride2.yaml": Case(r"padding='same' needs stride 1", 5, 39, trace="stem › conv#1"),
    # ---- shapes
    "concat_spatial_mismatch.yaml": Case(
        r"concat inputs differ outside axis 1: input 2 is \[N, 8, 30, 30\], input 1 is \[N, 8, 32, 32\]",
        7,
        5,
        trace="mixed",
    ),
    "concat_axis_out_of_range.yaml": Case(r"concat axis 4 is out of range for 4-D inputs", 7, 11, trace="mixed"),
    "add_channel_mismatch.yaml": Case(
        r"add inputs do not broadcast: input 2 is \[N, 16, 32, 32\], input 1 is \[N, 32, 32, 32\]",
        7,
        5,
        trace="residual",
        hint=r"projection shortcut",
    ),
    "mul_gate_channels.yaml": Case(
        r"mul inputs do not broadcast: input 2 is \[N, 8, 1, 1\], input 1 is \[N, 16, 32, 32\]",
        6,
        5,
        trace="stem › se",
        hint=r"keeps the batch and channel axes",
    ),
    "linear_on_4d.yaml": Case(
        r"linear acts on the last axis, here the width of a feature map",
        6,
        27,
        trace="head › linear#2",
        hint=r"insert 'flatten' before 'linear'.*permute\(\[0, 2, 3, 1\]\)",
    ),
    "conv_on_sequence.yaml": Case(r"conv expects a 4-D input", 5, 9, trace="stem › conv#1", hint=r"takes 'conv1d'"),
    "conv_after_linear.yaml": Case(r"conv expects a 4-D input", 6, 9, trace="tail", hint=r"before them"),
    "kernel_too_large.yaml": Case(
        r"conv kernel \(7 wide.*larger than its padded input", 5, 9, trace="stem › conv#1", hint=r"too small"
    ),
    "input_too_small.yaml": Case(
        r"maxpool window \(2\) is larger than its padded input",
        10,
        41,
        trace="features › seq#5 › maxpool#3",
        hint=r"input is too small",
    ),
    "groups_not_dividing.yaml": Case(r"groups=6 must divide the input channels \(16\)", 6, 44, trace="depthwise"),
    "softmax_axis.yaml": Case(r"softmax axis 2 is out of range for a 2-D input", 6, 65, trace="head › softmax#4"),
    # ---- blocks
    "unknown_block.yaml": Case(r"unknown op or block 'unti'", 8, 9, trace="body › unti#1", hint=r"'unit'"),
    "block_unknown_keyword.yaml": Case(r"unknown argument 'kernel' for block unit", 7, 18, trace="stem › unit"),
    "block_missing_argument.yaml": Case(r"unit is missing argument 'k'", 7, 9, trace="stem › unit"),
    "block_too_many_args.yaml": Case(r"unit takes 2 arguments, got 3", 7, 21, trace="stem › unit"),
    "recursive_block.yaml": Case(
        r"block 'tower' is recursive: tower -> tower", 5, 46, trace="stem › tower", hint=r"cannot call itself"
    ),
    "mutually_recursive.yaml": Case(
        r"block 'a' is recursive: a -> b -> a", 6, 17, trace="stem › a › b#2", hint=r"cannot call itself"
    ),
    "block_error_in_library.yaml": Case(
        r"index 1 is out of range for 'c3'",
        8,
        40,
        trace="b3 › inception#2 › branch 3 › conv#3",
        file="lib/inception.yaml",
    ),
    # ---- composition: keywords, DAGs, repeat, for
    "misread_keyword.yaml": Case(
        r"'cat' looks like the keyword 'concat', but as a step name it would run its 2 layers one after another",
        7,
        5,
        trace="mixed",
        hint=r"to name a sequence 'cat', write 'cat: \{seq: \[\.\.\.\]\}'",
    ),
    "gate_as_multiply.yaml": Case(
        r"'multiply' looks like the keyword 'mul', but as a step name it would run its 2 layers one after another",
        6,
        5,
        trace="se",
        hint=r"'mul:' is branches on one input, multiplied element-wise",
    ),
    "dag_unknown_node.yaml": Case(r"DAG node 'c' reads unknown node 'bb'", 9, 19, trace="body › c", hint=r"'b'"),
    "dag_later_node.yaml": Case(
        r"DAG node 'b' reads 'c', which is defined after it", 8, 16, trace="body › b", hint=r"after the nodes"
    ),
    "repeat_negative.yaml": Case(r"a repeat count must be a whole number", 6, 44, trace="body"),
    "repeat_not_int.yaml": Case(r"a repeat count must be a whole number", 8, 15, trace="body"),
    "for_not_list.yaml": Case(r"'for' needs a list to loop over", 7, 17, trace="body"),
    "for_unpack_mismatch.yaml": Case(r"cannot unpack \[2\] into n, c", 8, 20, trace="body"),
    "tie_unknown_step.yaml": Case(
        r"ties its weight to 'transformer.wet', which is no step",
        8,
        39,
        trace="lm_head › linear",
        hint=r"'transformer.wte'",
    ),
    "tie_later_step.yaml": Case(
        r"ties its weight to 'tail', which is a later step", 5, 35, trace="head › linear", hint="swap"
    ),
    "tie_shape_mismatch.yaml": Case(
        r"needs its weight as \[10, 8\], but 'wte.weight' is \[20, 8\]", 6, 39, trace="lm_head › linear", hint="rows"
    ),
}

# Cases checked one process each with the plain (human) output, one per stage of the compiler.
PLAIN = [
    "alias_bomb.yaml",  # loader
    "forbidden_attribute.yaml",  # expression parser
    "misspelt_argument.yaml",  # expander, inside a call string
    "add_channel_mismatch.yaml",  # shape inference
    "invalid_json.json",  # JSON
    "set_unknown_param.yaml",  # command line
]


def _case_files() -> set[str]:
    return {p.name for p in CASES_DIR.iterdir() if p.is_file()}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archspec", *args], capture_output=True, text=True, timeout=120, cwd=CASES_DIR
    )


def _joined(trace: list[str] | tuple[str, ...]) -> str:
    return " › ".join(trace)


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """``archspec check --format json`` over the catalogue: one process for every case without
    its own command line, one for each case with one; the report of each file by name."""
    batch = [name for name in sorted(CASES) if not CASES[name].args]
    out: dict[str, dict[str, Any]] = {}
    runs = [(batch, ())] + [([name], CASES[name].args) for name in sorted(CASES) if CASES[name].args]
    for names, extra in runs:
        result = _run("check", "--format", "json", *extra, *(str(CASES_DIR / n) for n in names))
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        listed = json.loads(result.stdout)
        assert isinstance(listed, list) and [Path(r["file"]).name for r in listed] == names
        out.update((Path(r["file"]).name, r) for r in listed)
    return out


def test_table_and_files_agree() -> None:
    files = _case_files()
    assert files - set(CASES) == set(), "case files missing from CASES"
    assert set(CASES) - files == set(), "CASES entries without a file"
    assert len(CASES) >= 30


def _check(
    case: Case, name: str, message: str, file: str | None, line: Any, column: Any, trace: Any, hint: Any
) -> None:
    assert re.search(case.message, message), f"{name}: message {message!r} does not match {case.message!r}"
    expected_file = (CASES_DIR / (case.file or name)).resolve()
    assert file is not None and Path(file).resolve() == expected_file, f"{name}: points into {file}"
    assert (line, column) == (case.line, case.column), f"{name}: at {line}:{column}, expected {case.line}:{case.column}"
    if case.trace:
        assert case.trace in _joined(trace), f"{name}: trace {_joined(trace)!r} lacks {case.trace!r}"
    else:
        assert not trace, f"{name}: unexpected trace {_joined(trace)!r}"
    if case.hint is not None:
        assert hint and re.search(case.hint, hint), f"{name}: hint {hint!r} does not match {case.hint!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_report(name: str, reports: dict[str, dict[str, Any]]) -> None:
    case, report = CASES[name], reports[name]
    assert report["ok"] is False
    assert len(report["errors"]) == 1, report["errors"]
    err = report["errors"][0]
    _check(case, name, err["message"], err["file"], err["line"], err["column"], err["trace"], err["hint"])


def test_plain_output_of_the_whole_catalogue() -> None:
    """People's output: exit code exactly 1, no traceback, a located header for every case."""
    names = [name for name in sorted(CASES) if not CASES[name].args]
    result = _run("check", *names)
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output
    for name in names:
        case = CASES[name]
        where = case.file or name
        if case.line is not None:
            assert re.search(rf"(^|/){re.escape(where)}:{case.line}:{case.column}: error: ", output, re.M), name
        else:
            assert re.search(rf"^{re.escape(where)}: error: ", output, re.M), name


@pytest.mark.parametrize("name", PLAIN)
def test_plain_output_one_file(name: str) -> None:
    case = CASES[name]
    result = _run("check", *case.args, name)
    assert result.returncode == 1
    assert result.stdout == ""
    err = result.stderr
    assert "Traceback" not in err
    header = err.splitlines()[0]
    assert header.startswith(f"{case.file or name}:{case.line}:{case.column}: error: "), header
    assert re.search(case.message, header)
    if case.trace:
        assert f"  in: {case.trace}" in err
    if case.hint:
        assert re.search(rf"^  hint: .*{case.hint}", err, re.M)
    # the source excerpt: the offending line, and a caret under the column
    gutter = f"{case.line:>5} | "
    lines = err.splitlines()
    at = next(i for i, text in enumerate(lines) if text.startswith(gutter))
    caret = lines[at + 1]
    assert case.column is not None and caret[len(gutter) + case.column - 1] == "^", caret


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_api(name: str) -> None:
    """``archspec.shapes(path)`` raises SpecError/SpecErrors located as on the command line."""
    case = CASES[name]
    started = time.perf_counter()
    with pytest.raises((archspec.SpecError, archspec.SpecErrors)) as info:
        archspec.shapes(CASES_DIR / name, params=case.params or None)
    assert time.perf_counter() - started < 5, "refused too slowly"
    errors = info.value.errors if isinstance(info.value, archspec.SpecErrors) else [info.value]
    err = errors[0]
    loc = err.loc
    assert loc is not None
    line, column = (loc.line, loc.column) if loc.line > 0 else (None, None)
    _check(case, name, err.message, loc.file, line, column, err.trace, err.hint)


@pytest.mark.parametrize(
    ("spec", "notes"),
    [
        (  # an expression error while the block is expanded, in a library
            CASES_DIR / "block_error_in_library.yaml",
            [r"inception\(c1=128, c2=\[128, 192\], c3=\[32\], c4=64\) is called at .*block_error_in_library.yaml:10:7"],
        ),
        (  # a shape error found after expansion, two calls deep: innermost first
            Path(__file__).resolve().parent / "calls" / "shape_error_in_block.yaml",
            [r"unit\(c=32\) is called at .*shape_error_in_block.yaml:10:7$", r"stage\(c=32\) is called at .*:13:9$"],
        ),
        (  # a block whose body is just another block's call (the same path): both calls
            Path(__file__).resolve().parent / "calls" / "shape_error_in_renamed_block.yaml",
            [r"unit\(c=32\) is called at .*:9:15$", r"wrapper\(c=32\) is called at .*:12:9$"],
        ),
    ],
)
def test_an_error_inside_a_block_says_where_the_block_is_called_and_with_what(spec: Path, notes: list[str]) -> None:
    with pytest.raises(archspec.SpecError) as info:
        archspec.shapes(spec)
    calls = [note for note in info.value.notes if " is called at " in note]
    assert len(calls) == len(notes), info.value.notes
    for note, pattern in zip(calls, notes, strict=True):
        assert re.search(pattern, note), note
    assert "  note: " + calls[0] in _run("check", str(spec)).stderr
