"""Loading YAML and JSON spec files (archspec.spec.loader): values, locations and refusals."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from archspec import api
from archspec.errors import Location, SpecError
from archspec.spec import loader
from archspec.spec.loader import load_file, load_json_text, load_yaml_text

SPEC = """\
archspec: 1
name: tiny
input: [N, 3, 8, 8]
network:
  b1: conv(4, 3, padding=1) -> relu
  b2: 'maxpool(2)'
"""


def refused(text: str, file: str = "f.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        (load_json_text if file.endswith(".json") else load_yaml_text)(text, file)
    return info.value


def at(err: SpecError) -> tuple[int, int]:
    assert err.loc is not None
    return err.loc.line, err.loc.column


# ------------------------------------------------------------------ values and locations
def test_values_and_their_locations() -> None:
    doc = load_yaml_text(SPEC, "tiny.yaml")
    assert doc.data["network"] == {"b1": "conv(4, 3, padding=1) -> relu", "b2": "maxpool(2)"}
    assert doc.data["input"] == ["N", 3, 8, 8]
    assert doc.locs[("name",)] == Location("tiny.yaml", 2, 7)
    assert doc.locs[("input", 1)] == Location("tiny.yaml", 3, 12)
    assert doc.locs[("network", "b1")] == Location("tiny.yaml", 5, 7)
    assert doc.locs[("network", "b2")] == Location("tiny.yaml", 6, 8)  # inside the quote
    assert doc.loc(("network", "b1", "deeper", 3)) == doc.locs[("network", "b1")]  # nearest ancestor


def test_key_locations_span_the_key() -> None:
    doc = load_yaml_text(SPEC, "tiny.yaml")
    assert doc.key_locs[("network",)] == Location("tiny.yaml", 4, 1, 8)
    assert doc.key_locs[("network", "b2")] == Location("tiny.yaml", 6, 3, 5)


def test_json_values_with_yaml_locations(tmp_path: Path) -> None:
    text = '{\n  "archspec": 1,\n  "name": "tiny",\n  "input": ["N", 3, 8, 8],\n  "network": "relu"\n}\n'
    path = tmp_path / "tiny.json"
    path.write_text(text)
    doc = load_file(path)
    assert doc.data == json.loads(text)
    assert doc.locs[("network",)] == Location(str(path), 5, 15)
    assert doc.key_locs[("input",)].line == 4


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("eps: 1e-5", 1e-5),
        ("eps: 1E5", 1e5),
        ("eps: -2.5e+3", -2500.0),
        ("eps: 1.0e-5", 1e-5),
        ("eps: .5", 0.5),
        ("eps: '1e-5'", "1e-5"),  # quoted: the user asked for a string
        ("eps: 0x10", 16),
        ("eps: ~", None),
        ("eps: true", True),
    ],
)
def test_scalars(text: str, value: object) -> None:
    got = load_yaml_text(text).data["eps"]
    assert got == value
    assert type(got) is type(value)


def test_flow_list_with_calls_is_kept_whole_and_becomes_a_layer_list(tmp_path: Path) -> None:
    text = "x: [conv(c1, 1), relu]\ny: [1, 2]\nz: [conv(4, 1) -> relu, 'maxpool(3, stride=1, padding=1)']\n"
    doc = load_yaml_text(text, "f.yaml")
    assert doc.data == {"x": "[conv(c1, 1), relu]", "y": [1, 2], "z": text.splitlines()[2][3:]}
    spec = tmp_path / "net.yaml"
    line = "network: [conv(8, 3, padding=1), relu, 'maxpool(2)']"
    spec.write_text(f"archspec: 1\nname: t\ninput: [N, 3, 8, 8]\n{line}\n")
    graph = api.to_graph(spec)
    assert [(n.name, n.op_name) for n in graph.nodes] == [("0", "conv"), ("1", "relu"), ("2", "maxpool")]
    locs = [n.loc for n in graph.nodes]
    assert all(loc is not None and loc.line == 4 for loc in locs)
    assert [loc.column for loc in locs if loc] == [line.find(w) + 1 for w in ("conv", "relu", "maxpool")]
    assert api.shapes(graph).output.shape == ("N", 8, 4, 4)


def test_flow_mapping_with_a_split_call_is_rejoined() -> None:
    doc = load_yaml_text("d: {in: [a, b], do: conv(4, 1, stride=2) -> relu, n: 3}\n")
    assert doc.data == {"d": {"in": ["a", "b"], "do": "conv(4, 1, stride=2) -> relu", "n": 3}}


# ------------------------------------------------------------------ refusals
def test_duplicate_keys_in_yaml() -> None:
    err = refused("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert err.message == "duplicate key 'c'"
    assert at(err) == (4, 3)
    assert err.notes == ("first defined at f.yaml:3:3",)


def test_duplicate_keys_in_json() -> None:
    err = refused('{"a": 1,\n "b": {"c": 1,\n        "c": 2}}', "f.json")
    assert err.message == "duplicate key 'c'"
    assert at(err) == (3, 9)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/name:os.system ''\n",
        "a: !!python/tuple [1, 2]\n",
    ],
)
def test_python_tags_are_refused(text: str) -> None:
    err = refused(text)
    assert err.message.startswith("refused YAML tag '!!python/")
    assert "could run code" in err.message
    assert at(err) == (1, 4)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a: !custom 3\n", "!custom"),
        ("a: !!binary aGVsbG8=\n", "!!binary"),
        ("a: !!set {x, y}\n", "!!set"),
        ("a: !!omap [x: 1]\n", "!!omap"),
        ("a: [1, !!timestamp 2001-12-14]\n", "!!timestamp"),
    ],
)
def test_other_tags_are_refused(text: str, shown: str) -> None:
    err = refused(text)
    assert err.message == f"unsupported YAML tag '{shown}'"
    assert err.loc is not None and err.loc.line == 1


def test_merge_keys_are_refused() -> None:
    err = refused("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    assert "merge keys" in err.message
    assert at(err) == (3, 3)
    assert err.hint is not None and "blocks" in err.hint


def _bomb(levels: int, flow_root: bool) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    refs = []
    for prev, name in zip("abcdefghijkl", "bcdefghijklm"[: levels - 1], strict=False):
        refs.append(f"&{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    if flow_root:  # every level defined inside one flow list: nothing is built before the whole walk
        return lines[0] + "\nz: [" + ", ".join(refs) + "]\n"
    return "\n".join([*lines, *(f"{r[1]}: {r}" for r in refs)]) + "\n"


@pytest.mark.parametrize("flow_root", [False, True])
def test_alias_bomb_is_refused_quickly(flow_root: bool) -> None:
    text = _bomb(12, flow_root)  # 9**12 strings if expanded
    assert len(text) < 1000
    start = time.perf_counter()
    err = refused(text)
    assert time.perf_counter() - start < 10
    assert "YAML nodes" in err.message
    assert err.loc is not None and err.loc.line in (1, 2, 3, 4, 5, 6, 7)
    assert err.hint is not None and "alias" in err.hint


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a [x, *a]\n", "a: &a\n  - *a\n", "a: &a {x: *a}\n"])
def test_recursive_alias_is_an_error(text: str) -> None:
    err = refused(text)
    assert "recursive YAML alias" in err.message
    assert at(err) == (1, 4)


def test_depth_limit_yaml() -> None:
    ok = "a: " + "[" * loader.MAX_DEPTH + "]" * loader.MAX_DEPTH
    load_yaml_text(ok)
    assert "nested deeper" in refused("a: " + "[" * (loader.MAX_DEPTH + 1) + "]" * (loader.MAX_DEPTH + 1)).message
    # libyaml would overflow the C stack on this (a crash); it must be a located error instead
    assert "nested deeper" in refused("a: " + "[" * 50_000 + "]" * 50_000).message
    assert "nested deeper" in refused("- " * 5_000 + "x").message


def _strict_yaml_library(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Make PyYAML behave as a version with its own nesting limit: it refuses a text nested
    deeper than ``limit`` before producing any event, as PyYAML 6.0.4's scanner does."""
    import yaml

    real_parse, real_compose = yaml.parse, yaml.compose

    def refuse_deep(text: str) -> None:
        depth = 0
        for index, char in enumerate(text):
            depth += (char in "[{") - (char in "]}")
            if depth > limit:
                mark = yaml.Mark("<text>", index, 0, index, None, None)
                raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth", mark)

    def parse(text: str, Loader: type) -> object:
        refuse_deep(text)
        return real_parse(text, Loader=Loader)

    def compose(text: str, Loader: type) -> object:
        refuse_deep(text)
        return real_compose(text, Loader=Loader)

    monkeypatch.setattr(yaml, "parse", parse)
    monkeypatch.setattr(yaml, "compose", compose)


@pytest.mark.parametrize("depth", [loader.MAX_DEPTH + 40, 50_000])
def test_depth_limit_is_archspecs_whatever_the_yaml_library_refuses_itself(
    monkeypatch: pytest.MonkeyPatch, depth: int
) -> None:
    _strict_yaml_library(monkeypatch, limit=loader.MAX_DEPTH + 20)
    err = refused("a: " + "[" * depth + "]" * depth)
    assert err.message == f"YAML nested deeper than {loader.MAX_DEPTH} levels"
    assert at(err) == (1, 3 + loader.MAX_DEPTH)  # the bracket that crosses the bound (the mapping is level 1)
    # below the bound, the library's own refusal of broken text still comes through as invalid YAML
    assert refused("a: [[[x]").message.startswith("invalid YAML")


def test_depth_limit_json() -> None:
    deep = '{"a": ' + "[" * (loader.MAX_DEPTH + 5) + "]" * (loader.MAX_DEPTH + 5) + "}"
    assert "nested deeper" in refused(deep, "f.json").message
    assert "nested deeper" in refused("[" * 100_000 + "]" * 100_000, "f.json").message


def test_node_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_NODES", 10)
    load_yaml_text("[1, 2, 3, 4, 5, 6, 7, 8]")
    err = refused("a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]")
    assert "YAML nodes" in err.message and "limit of 10" in err.message


def test_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("doc: " + "x" * 200 + "\n")
    with pytest.raises(SpecError, match="over the limit of 100") as info:
        load_file(path)
    assert info.value.loc == Location(str(path))
    assert info.value.hint is not None


def test_empty_file(tmp_path: Path) -> None:
    for text in ("", "# only a comment\n", "\n\n"):
        path = tmp_path / "empty.yaml"
        path.write_text(text)
        with pytest.raises(SpecError, match="spec file is empty"):
            load_file(path)
    path = tmp_path / "empty.json"
    path.write_text("")
    with pytest.raises(SpecError, match="invalid JSON"):
        load_file(path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("doc: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8") as info:
        load_file(path)
    assert info.value.loc == Location(str(path))


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read spec file"):
        load_file(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="found a directory"):
        load_file(tmp_path)
    (tmp_path / "net.toml").write_text("a = 1\n")
    with pytest.raises(SpecError, match=r"unknown spec file type '\.toml'") as info:
        load_file(tmp_path / "net.toml")
    assert info.value.expected == ".yaml, .yml or .json"
    (tmp_path / "net.yml").write_text("a: 1\n")
    assert load_file(tmp_path / "net.yml").data == {"a": 1}


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        ("a: [conv(c2[0], 1), relu]\n", (1, 12), "YAML splits at every comma"),
        ("a:\n\t- b\n", (2, 1), "tabs"),
        ("a: b: c\n", (1, 5), None),
    ],
)
def test_invalid_yaml_is_located(text: str, where: tuple[int, int], hint: str | None) -> None:
    err = refused(text)
    assert err.message.startswith("invalid YAML")
    assert at(err) == where
    assert (err.hint is None) if hint is None else (hint in (err.hint or ""))


def test_invalid_json_is_located() -> None:
    err = refused('{"a": 1,\n "b": }', "f.json")
    assert err.message.startswith("invalid JSON")
    assert at(err) == (2, 7)


def test_non_string_keys_are_refused() -> None:
    assert "plain names" in refused("? [a, b]\n: 1\n").message


def _device_node(tmp_path: Path) -> Path | None:
    """A character device like /dev/zero (major 1, minor 5), made in a temporary folder; None
    where this user may not make one."""
    import os
    import stat

    node = tmp_path / "zero.yaml"
    try:
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except (PermissionError, OSError):
        return None
    return node


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink to a fifo", "symlink to a device"])
def test_a_path_that_is_not_a_regular_file_is_refused_before_it_is_read(tmp_path: Path, kind: str) -> None:
    import os

    if "fifo" in kind:
        target = tmp_path / "pipe.yaml"
        os.mkfifo(target)  # opening it for reading would block until a writer comes: never here
        found = "FIFO"
    else:
        made = _device_node(tmp_path)
        if made is None:
            pytest.skip("this user cannot make a device node")
        target, found = made, "device"
    path = target
    if kind.startswith("symlink"):
        path = tmp_path / "link.yaml"
        path.symlink_to(target)
    with pytest.raises(SpecError, match=f"expected a spec file, found a {found}") as info:
        load_file(path)
    assert info.value.loc == Location(str(path))


def test_the_size_bound_holds_whatever_size_the_file_system_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    real_stat = os.stat
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("doc: " + "x" * 1000 + "\n")

    def reports_empty(p: object, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(p, *args, **kwargs)  # type: ignore[arg-type]
        return os.stat_result((info.st_mode, *info[1:6], 0, *info[7:]))  # st_size 0, as a device says

    monkeypatch.setattr(loader.os, "stat", reports_empty)
    with pytest.raises(SpecError, match="over the limit of 100 bytes"):
        load_file(path)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_byte_order_mark_is_accepted_in_yaml_and_json(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"net{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + (b'{"a": 1}' if suffix == ".json" else b"a: 1\n"))
    doc = load_file(path)
    assert doc.data == {"a": 1}
    assert doc.loc(("a",)).line == 1


@pytest.mark.parametrize(
    ("text", "file", "where"),
    [
        ("a: 1\nb: " + "9" * 100_000 + "\n", "f.yaml", (2, 4)),
        ('{"a": 1,\n "b": ' + "9" * 100_000 + "}", "f.json", (2, 7)),
        ('{"a": [-' + "9" * 5_000 + "]}", "f.json", (1, 8)),
    ],
    ids=["yaml", "json", "json negative"],
)
def test_an_integer_of_too_many_digits_is_a_located_error(text: str, file: str, where: tuple[int, int]) -> None:
    err = refused(text, file)  # was: JSON an internal error (Python's int conversion limit), YAML a string
    assert err.message.startswith("an integer of ") and err.message.endswith(" digits is too large")
    assert at(err) == where
    assert len(str(err)) < 200
