"""Read YAML and JSON spec files into plain Python data plus a map of source locations.

Safety first: only the plain YAML data types are accepted (``!!python/object`` and
every other language tag is refused by name), duplicate keys are errors (PyYAML
silently keeps the last one), and bounds on file size, nesting depth and expanded
node count stop alias bombs ("billion laughs") before they cost memory.

YAML splits a flow list such as ``[conv(c1, 1), relu]`` at the comma inside the
call. When a flow collection holds such a split call, the loader hands the
collection's source text on as one string, which the shorthand parser reads as a
list of calls, so the user gets what they wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from archspec.errors import Location, SpecError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000

Path_ = tuple[str | int, ...]

_YAML = "tag:yaml.org,2002:"
_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)$")


@dataclass
class Document:
    """A loaded spec file: its data and where each value and key came from."""

    file: str
    data: Any
    locs: dict[Path_, Location] = field(default_factory=dict)
    key_locs: dict[Path_, Location] = field(default_factory=dict)

    def loc(self, path: Path_) -> Location:
        """The location of the value at ``path``, or of its nearest located ancestor."""
        for cut in range(len(path), -1, -1):
            found = self.locs.get(path[:cut])
            if found is not None:
                return found
        return Location(self.file)


def load_file(path: str | Path) -> Document:
    """Load a ``.yaml``/``.yml``/``.json`` spec file; raise :class:`SpecError` on any problem."""
    file = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror or exc}", Location(file)) from None
    if p.is_dir():
        raise SpecError("expected a spec file, found a directory", Location(file))
    if size > MAX_FILE_BYTES:
        raise SpecError(
            f"spec file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,}",
            Location(file),
            hint="spec files describe networks, not weights; keep data out of them",
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"spec file is not UTF-8 text ({exc.reason})", Location(file)) from None
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror or exc}", Location(file)) from None
    suffix = p.suffix.lower()
    if suffix == ".json":
        return load_json_text(text, file)
    if suffix in (".yaml", ".yml"):
        return load_yaml_text(text, file)
    raise SpecError(
        f"unknown spec file type '{suffix or p.name}'",
        Location(file),
        expected=".yaml, .yml or .json",
        found=suffix or "no suffix",
    )


def load_yaml_text(text: str, file: str = "<string>") -> Document:
    """Parse YAML text; see the module docstring for what is refused."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, file, text) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", Location(file)) from None
    except RecursionError:
        raise SpecError(f"YAML nested deeper than {MAX_DEPTH} levels", Location(file)) from None
    doc = Document(file, None)
    if root is None:
        raise SpecError("spec file is empty", Location(file), expected="a mapping with 'archspec: 1'")
    doc.data = _Builder(doc, text).build(root, (), 0)
    return doc


def load_json_text(text: str, file: str = "<string>") -> Document:
    """Parse JSON text (values from :mod:`json`, locations from the YAML composer)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise _DuplicateKey(key)
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise SpecError(f"invalid JSON: {exc.msg}", Location(file, exc.lineno, exc.colno)) from None
    except _DuplicateKey as exc:
        # Let the YAML pass below point at the second occurrence; fall back to no line.
        try:
            load_yaml_text(text, file)
        except SpecError as located:
            raise located from None
        raise SpecError(f"duplicate key '{exc.key}'", Location(file)) from None
    except RecursionError:
        raise SpecError(f"JSON nested deeper than {MAX_DEPTH} levels", Location(file)) from None
    doc = Document(file, data)
    try:
        located = load_yaml_text(text, file)
    except SpecError:
        return doc  # valid JSON that YAML 1.1 cannot read: values are right, locations coarse
    doc.locs, doc.key_locs = located.locs, located.key_locs
    _check_depth(data, file)
    return doc


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _check_depth(value: Any, file: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise SpecError(f"spec nested deeper than {MAX_DEPTH} levels", Location(file))
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, file, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, file, depth + 1)


def _mark(node: Node, file: str) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _content_loc(node: ScalarNode, file: str) -> Location:
    """Where a scalar's text starts, so offsets into it map to source columns."""
    loc = _mark(node, file)
    if node.style in ("'", '"'):
        return loc.shifted(1)
    return loc


class _Builder:
    """Turns composed YAML nodes into Python data, checking tags, keys and bounds."""

    def __init__(self, doc: Document, text: str) -> None:
        self.doc = doc
        self.text = text
        self.count = 0

    def build(self, node: Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError(
                f"spec expands to more than {MAX_NODES:,} YAML nodes",
                _mark(node, self.doc.file),
                hint="YAML aliases (*name) copy whole subtrees; an alias bomb is refused here",
            )
        if depth > MAX_DEPTH:
            raise SpecError(f"spec nested deeper than {MAX_DEPTH} levels", _mark(node, self.doc.file))
        self._check_tag(node)
        if isinstance(node, ScalarNode):
            self.doc.locs[path] = _content_loc(node, self.doc.file)
            return self._scalar(node)
        self.doc.locs[path] = _mark(node, self.doc.file)
        if isinstance(node, SequenceNode):
            if node.flow_style and _has_split_call(node):
                return self.text[node.start_mark.index : node.end_mark.index]
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            self._check_tag(key_node)
            if not isinstance(key_node, ScalarNode):
                raise SpecError(
                    "mapping keys must be plain names", _mark(key_node, self.doc.file), found="a nested structure"
                )
            if key_node.tag == _YAML + "merge":
                raise SpecError(
                    "YAML merge keys ('<<') are not supported",
                    _mark(key_node, self.doc.file),
                    hint="define a block under 'blocks:' and call it instead",
                )
            key = key_node.value
            if key in out:
                first = self.doc.key_locs[(*path, key)]
                raise SpecError(
                    f"duplicate key '{key}'",
                    _mark(key_node, self.doc.file),
                    notes=(f"first defined at {first}",),
                    hint="YAML keeps only one of them; rename or remove one",
                )
            self.doc.key_locs[(*path, key)] = _mark(key_node, self.doc.file).shifted(0, len(key))
            out[key] = self.build(value_node, (*path, key), depth + 1)
        return out

    def _check_tag(self, node: Node) -> None:
        tag = node.tag or ""
        if tag.startswith(_YAML) and tag[len(_YAML) :] in ("str", "int", "float", "bool", "null", "seq", "map", "merge"):
            return
        shown = "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag
        if "python" in tag:
            raise SpecError(
                f"refused YAML tag '{shown}': it would construct Python objects (and could run code)",
                _mark(node, self.doc.file),
                hint="spec files hold plain data only",
            )
        raise SpecError(
            f"unsupported YAML tag '{shown}'",
            _mark(node, self.doc.file),
            expected="plain strings, numbers, booleans, null, lists and mappings",
        )

    def _scalar(self, node: ScalarNode) -> Any:
        kind = node.tag[len(_YAML) :]
        value = node.value
        if kind == "null":
            return None
        if kind == "bool":
            return value.lower() in ("true", "yes", "on", "y")
        if kind == "int":
            try:
                return yaml.SafeLoader.construct_yaml_int(_NO_LOADER, node)
            except ValueError:
                return value
        if kind == "float":
            return yaml.SafeLoader.construct_yaml_float(_NO_LOADER, node)
        if node.style is None and _FLOAT.match(value):
            return float(value)  # YAML 1.1 reads 1e-5 as a string; every user means a number
        return value


_NO_LOADER: Any = yaml.SafeLoader("")


def _has_split_call(node: Node) -> bool:
    """Whether YAML split a call like ``conv(c1, 1)`` at its comma in this flow collection."""
    if isinstance(node, ScalarNode):
        if node.style is not None:
            return False
        return node.value.count("(") != node.value.count(")")
    items = node.value if isinstance(node, SequenceNode) else [v for _, v in node.value]
    return any(_has_split_call(item) for item in items)


def _yaml_error(exc: yaml.MarkedYAMLError, file: str, text: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
    problem = exc.problem or exc.context or "invalid YAML"
    hint = None
    if mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if "(" in line and "[" in line:
            hint = "inside [ ... ], YAML splits at every comma; write calls as 'a -> b' or quote them"
        elif "\t" in line:
            hint = "YAML does not allow tabs for indentation"
    return SpecError(f"invalid YAML: {problem}", loc, hint=hint)
