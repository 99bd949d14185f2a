"""Networks the long fuzz profile (``python -m pytest -m fuzz tests/fuzz``) found the code generator
writing wrongly, each kept as a case: the emitted torch and flax source passes ruff and builds a
module that runs, and where the bug was in the text, the text is checked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from ruff_check import ruff_check

import archspec

ROOT = Path(__file__).resolve().parents[2]
HEAD = "archspec: 1\nname: t\ninput: [N, 4, 8, 8]\n"

CASES = {
    # a loop whose copies add nothing (its body a loop of none) wrote an empty 'for' (IndentationError)
    "loop_of_empty_loops": """params: {n: 2, m: 0}
network:
  - conv(4, 1)
  - repeat: n
    do:
      repeat: m
      do: conv(4, 1)
  - relu
""",
    # a network that is an if between two ops was no class at all (InternalError)
    "network_is_an_if": """params: {wide: true}
network: 'conv(8, 1) if wide else conv(4, 1)'
""",
    # an if whose branches are written alike was 'A if n > 1 else A' (ruff RUF034)
    "if_with_branches_alike": """params: {n: 2}
blocks:
  widen(c): 'conv(c, 1) if n > 1 else conv(c, 1)'
network:
  - conv(4, 1)
  - widen(8)
  - if: n > 1
    then: relu
    else: relu
""",
    # an if nested in an if's branch, assigned through a variable of its own (ruff SIM108)
    "if_in_an_if": """params: {n: 2, m: 2}
blocks:
  unit(c): [conv(c, 1), relu]
network:
  - conv(4, 1)
  - body:
      if: m > 1
      then: conv(4, 1)
      else:
        if: n > 1
        then: 'conv(4, 2, padding=[[0, 1], [0, 1]]) -> dropout(0.1)'
        else: unit(8)
  - relu
""",
    # a network whose whole body is a for with named copies: the flax class iterated its data_format
    "network_is_a_named_loop": """params: {n: 2}
network:
  for: i in range(n)
  name: block{i}
  do: conv(4, 1)
""",
    # a block whose untaken branch calls it again among two more of it: the branches the writer
    # expands to write them multiplied (7,000 expansions, seconds per file, past the fuzz deadline)
    "branches_that_multiply": """params: {c: 4, n: 1}
blocks:
  unit(c):
    if: n > 1
    then: conv(4, 3, padding='same') -> conv(4, 3, padding='same') -> tanh
    else: unit(c) -> stage(2, 4) -> silu
  stage(n, c):
    repeat: n
    do: unit(c)
network:
  body:
    repeat: n
    do:
      if: n > 1
      then: unit(c) -> stage(2, 4) -> silu
      else: maxpool(3, stride=1, padding=1)
  head: flatten -> linear(3)
""",
    # a block that is an if between two lists, an item of a list: the if statement choosing it
    # was measured one level deeper than it is written, where the one-line form does not fit, so
    # ruff (SIM108) asked for the ternary it did not write
    "choice_in_a_list": """params: {n: 2}
blocks:
  pick:
    if: n > 1
    then: [dropout(0.1), silu]
    else: [dropout(0.1), dropout(0.1)]
network:
  in_channels: sigmoid
  b: [pick, dropout(0.1)]
""",
}


def _ruff(source: str, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(source)
    result = ruff_check(path)
    if result is None:
        pytest.skip("ruff is not installed")
    assert result.returncode == 0, result.stdout + source


@pytest.mark.parametrize("backend", ["torch", "flax"])
@pytest.mark.parametrize("case", CASES)
def test_the_source_is_clean_and_runs(case: str, backend: str, tmp_path: Path) -> None:
    pytest.importorskip("torch" if backend == "torch" else "flax")
    from archspec.parity import parity

    spec = tmp_path / "net.yaml"
    spec.write_text(HEAD + CASES[case])
    _ruff(archspec.emit(spec, backend=backend).source, tmp_path)
    if backend == "flax":
        assert parity(spec, ("torch", "flax")).ok


def test_an_if_with_branches_alike_is_written_once(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(HEAD + CASES["if_with_branches_alike"])
    source = archspec.emit(spec).source
    assert " if n > 1" not in source and "if n > 1:" not in source
    assert "nn.Conv2d(4, 8, 1)," in source


def test_an_if_in_an_if_assigns_the_attribute_in_every_branch(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(HEAD + CASES["if_in_an_if"])
    source = archspec.emit(spec).source
    assert "            if n > 1:\n                self.body = nn.Sequential(" in source
    assert "                self.body = Unit(in_channels, 8)" in source


def test_the_branches_written_from_scratch_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archspec.codegen import _emitter

    written: dict[int, int] = {}
    scratch = _emitter.ClassEmitter._scratch

    def counted(self: _emitter.ClassEmitter, *args: object, **kwargs: object) -> object:
        result = scratch(self, *args, **kwargs)  # type: ignore[arg-type]
        written[id(self)] = self.scratches
        return result

    monkeypatch.setattr(_emitter.ClassEmitter, "_scratch", counted)
    spec = tmp_path / "net.yaml"
    spec.write_text(HEAD + CASES["branches_that_multiply"])
    archspec.emit(spec)
    assert 0 < max(written.values()) <= _emitter._SCRATCH_BUDGET


def test_a_choice_that_fits_one_line_once_joined_is_written_as_a_ternary() -> None:
    # The long profile: a list item chosen between a Sequential written one layer per line and an
    # empty one was an if statement assigning it, which ruff (SIM108) joins into one line of 111.
    from archspec.codegen._emitter import Built, _assigned
    from archspec.codegen._terms import Term

    lrn = " " * 20 + "nn.LocalResponseNorm(3),\n"
    two = f"nn.Sequential(\n{lrn}{lrn}" + " " * 16 + ")"
    then, otherwise = Built(two, Term(4), "a"), Built("nn.Sequential()", Term(4), "a")
    chosen = Built("layer", Term(4), "a", ["(the if statement)"], choice=("n > 1", then, otherwise))
    assert _assigned("layer", chosen, " " * 12) == [
        " " * 12
        + "layer = nn.Sequential(nn.LocalResponseNorm(3), nn.LocalResponseNorm(3)) if n > 1 else nn.Sequential()"
    ]
    wide = Built(two.replace("(3)", "(300000)"), Term(4), "a")  # 123 characters on one line: an if statement
    assert _assigned("layer", replace(chosen, choice=("n > 1", wide, otherwise)), " " * 12)[0] == " " * 12 + "if n > 1:"


def test_a_dunder_step_name_gives_a_free_local_name(tmp_path: Path) -> None:
    # The long profile: a step named __dict__ made the namespace try __dict___2, __dict___3, ...
    # forever (no suffix frees a name that starts with two underscores); now a located error.
    from archspec.codegen._namespace import Namespace, is_free_identifier

    names = Namespace()
    assert [names.new("__dict__"), names.new("__dict__"), names.new("__")] == ["dict__", "dict___2", "value"]
    assert all(is_free_identifier(name) for name in ("dict__", "dict___2"))
    spec = tmp_path / "net.yaml"
    spec.write_text(HEAD + "params: {n: 2}\nnetwork:\n  if: n > 1\n  then:\n    __dict__: conv(8, 1)\n  else: relu\n")
    with pytest.raises(archspec.SpecError, match=r"'__dict__'.*cannot be a torch submodule name"):
        archspec.emit(spec)


NESTED_REPEATS_IN_IFS = """archspec: 1
name: net
input: [N, 1, 6, 6]
params: {c: 2, k: 1, n: 0, classes: 3}
blocks:
  unit(c):
    if: n > 1
    then:
      concat:
      - stage(n, c)
    else: conv(4, 3, padding=1)
  stage(n, c):
    repeat: n
    do: unit(c)
network:
  if: n > 1
  then:
  - dropout(0.1)
  else:
    concat:
    - stage(n, c)
"""


def test_a_loop_is_tried_the_second_way_only_where_an_if_in_it_writes_sizes_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The long profile: repeats of a block whose if holds a repeat of it, in an if. Trying every
    # loop a second way (each if's size as the if chooses it, which only a loop whose copies take
    # different branches needs) doubled the attempts at every level of nesting: 20 s under the
    # fuzzer's tracemalloc, where the network class check writes the file a dozen times.
    from archspec.codegen import _emitter

    tries: list[int] = []
    copies_alike = _emitter.ClassEmitter._copies_alike

    def counted(self: _emitter.ClassEmitter, *args: object, **kwargs: object) -> object:
        tries.append(1)
        return copies_alike(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_emitter.ClassEmitter, "_copies_alike", counted)
    spec = tmp_path / "net.yaml"
    spec.write_text(NESTED_REPEATS_IN_IFS)
    archspec.emit(spec)
    assert 0 < len(tries) <= 320  # 160 (as at f46cedb); 1,248 with the second way tried everywhere
