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

import bisect
import contextlib
import json
import os
import re
import stat
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
# libyaml's composer is ~10x faster than PyYAML's pure-Python one and gives the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# But libyaml composes recursively in C: a text nested some 30,000 levels deep ('[[[[...')
# overflows the C stack and kills the process. Each level of nesting costs an opening
# bracket or one more column of indent (or a '-'/'?' indicator) at the start of a line, so
# a text with fewer than _C_SAFE_NESTING of either is safe to compose. For the others the
# parser's event stream (iterative, in C too) measures the real depth first, and one over
# MAX_DEPTH is refused at the collection that crosses it. Both gates run at C speed:
# a Python loop over the characters of a deep 8 MB text took seconds. (PyYAML's
# pure-Python composer is no way out either: on such a text it runs for minutes.)
_C_SAFE_NESTING = 2_000
_DEEP_INDENT = re.compile(rf"^[ \t?:-]{{{_C_SAFE_NESTING // 2}}}", re.MULTILINE)


def _maybe_deep(text: str) -> bool:
    """Whether ``text`` might nest deeper than libyaml's composer can take (cheap, conservative)."""
    brackets = text.count("[") + text.count("{")
    return brackets >= _C_SAFE_NESTING or _DEEP_INDENT.search(text) is not None


#: Python's own bound on converting digits to an int (sys.get_int_max_str_digits()); a spec's
#: numbers are sizes and counts, far below it.
MAX_INT_DIGITS = 4300


def _too_many_digits(digits: int, loc: Location) -> SpecError:
    return SpecError(
        f"an integer of {digits:,} digits is too large", loc, expected=f"at most {MAX_INT_DIGITS:,} digits"
    )


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


def read_spec_text(path: str | Path, limit: int | None = None) -> str:
    """A spec file's text, refused (SpecError) when it is missing, not a regular file (a folder,
    a FIFO, a device: nothing is opened that could block or never end), over ``limit`` bytes
    (:data:`MAX_FILE_BYTES`) or not UTF-8; newlines read as Python's text mode reads them.

    The file is opened without blocking and checked again through its descriptor, so a path
    swapped for a FIFO after the first look is refused too, and at most ``limit + 1`` bytes are
    read whatever size the file system reports."""
    file = str(path)
    limit = MAX_FILE_BYTES if limit is None else limit
    _check_regular_file(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            _require_regular(os.fstat(handle.fileno()), file)
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror or exc}", Location(file)) from None
    if len(data) > limit:
        raise SpecError(
            f"spec file is over the limit of {limit:,} bytes",
            Location(file),
            hint="spec files describe networks, not weights; keep data out of them",
        )
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is no part of the text, in YAML or JSON
    except UnicodeDecodeError as exc:
        raise SpecError(f"spec file is not UTF-8 text ({exc.reason})", Location(file)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode's universal newlines


def _check_regular_file(path: str | Path) -> None:
    """Refuse ``path`` (SpecError) unless it names a regular file, following symlinks."""
    file = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror or exc}", Location(file)) from None
    except ValueError as exc:  # a NUL byte in the path
        raise SpecError(f"cannot read spec file: {exc}", Location(file)) from None
    _require_regular(info, file)


def _require_regular(info: os.stat_result, file: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = (
        "a directory"
        if stat.S_ISDIR(info.st_mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(info.st_mode)
        else "a device"
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
        else "a socket"
        if stat.S_ISSOCK(info.st_mode)
        else "not a regular file"
    )
    raise SpecError(
        f"expected a spec file, found {kind}", Location(file), hint="give the path of a .yaml or .json file"
    )


def load_file(path: str | Path, limit: int | None = None) -> Document:
    """Load a ``.yaml``/``.yml``/``.json`` spec file of at most ``limit`` bytes
    (:data:`MAX_FILE_BYTES`); raise :class:`SpecError` on any problem."""
    file = str(path)
    p = Path(path)
    _check_regular_file(path)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise SpecError(
            f"unknown spec file type '{suffix or p.name}'",
            Location(file),
            expected=".yaml, .yml or .json",
            found=suffix or "no suffix",
        )
    text = read_spec_text(path, limit)
    doc = load_json_text(text, file) if suffix == ".json" else load_yaml_text(text, file)
    return doc


def load_yaml_text(text: str, file: str = "<string>") -> Document:
    """Parse YAML text; see the module docstring for what is refused."""
    try:
        root = _compose(text, file)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, file, text) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", Location(file)) from None
    except RecursionError:
        raise SpecError(f"YAML nested deeper than {MAX_DEPTH} levels", Location(file)) from None
    doc = Document(file, None)
    if root is None:
        raise SpecError("spec file is empty", Location(file), expected="a mapping with 'archspec: 1'")
    _check_expansion(root, file, {}, 0)
    doc.data = _Builder(doc, text).build(root, (), 0)
    return doc


def _compose(text: str, file: str) -> Node | None:
    """``text`` composed by libyaml, with the nesting bound checked first where libyaml's
    recursion could overflow the C stack, and always before one of YAML's own errors: some
    PyYAML versions (6.0.4) refuse deep nesting themselves, with their own limit and words,
    and a text nested past :data:`MAX_DEPTH` is refused by archspec's rule, whatever the
    library's version."""
    if _maybe_deep(text):
        _check_nesting(text, file)
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        _check_nesting(text, file)
        raise


def _check_nesting(text: str, file: str) -> None:
    """Refuse ``text`` at the first collection nested deeper than :data:`MAX_DEPTH`.

    A YAML error the library raises before that depth is reached in its event stream (its own
    nesting limit: its scanner reads a run of opening brackets ahead of the events) is looked
    behind: the text up to where the library stopped is measured, and the library's error is
    raised only if the bound is not crossed there.
    """
    try:
        _measure_nesting(text, file)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and 0 < mark.index < len(text):
            # The cut text ends mid-document: only a crossing of the bound counts there.
            with contextlib.suppress(yaml.YAMLError):
                _measure_nesting(text[: mark.index], file)
        raise


def _measure_nesting(text: str, file: str) -> None:
    """Read the parser's events (no recursion, so no depth can overflow a stack) and refuse
    the first collection nested deeper than :data:`MAX_DEPTH`."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise SpecError(
                    f"YAML nested deeper than {MAX_DEPTH} levels",
                    Location(file, mark.line + 1, mark.column + 1) if mark else Location(file),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(node: Node, file: str, sizes: dict[int, int], depth: int) -> int:
    """The node count of ``node`` once aliases are copied out; an alias bomb is refused at
    the first (innermost) collection over :data:`MAX_NODES`, before anything is built.

    Aliases share composed nodes, so each is sized once (a recursive alias counts once;
    the builder reports its depth)."""
    key = id(node)
    if sizes.get(key) == 0:
        raise SpecError(
            f"recursive YAML alias: this {'list' if isinstance(node, SequenceNode) else 'mapping'} contains itself",
            _mark(node, file),
            hint="an alias (*name) must refer to an anchor (&name) outside the collection it is in",
        )
    if key in sizes or depth > MAX_DEPTH or isinstance(node, ScalarNode):
        return sizes.get(key, 1)
    sizes[key] = 0  # in progress
    children = node.value if isinstance(node, SequenceNode) else [part for pair in node.value for part in pair]
    total = 1 + sum(_check_expansion(child, file, sizes, depth + 1) for child in children)
    if total > MAX_NODES:
        raise SpecError(
            f"this {'list' if isinstance(node, SequenceNode) else 'mapping'} expands to {total:,} YAML nodes, "
            f"over the limit of {MAX_NODES:,}",
            _mark(node, file),
            hint="YAML aliases (*name) copy whole subtrees; an alias bomb is refused here",
        )
    sizes[key] = total
    return total


def load_json_text(text: str, file: str = "<string>") -> Document:
    """Parse JSON text (values from :mod:`json`, locations from the YAML composer, or from a scan
    of the text where YAML 1.1 cannot read it: a key of over 1,024 characters, say)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise _DuplicateKey(key)
            out[key] = value
        return out

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise _TooManyDigits(len(digits.lstrip("-")))
        return int(digits)

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates, parse_int=bounded_int)
    except json.JSONDecodeError as exc:
        before = text[: exc.pos].rstrip()
        trailing = before.endswith(",") and text[exc.pos : exc.pos + 1] in ("}", "]")
        raise SpecError(
            f"invalid JSON: {exc.msg}",
            Location(file, exc.lineno, exc.colno),
            hint="JSON allows no comma after the last item" if trailing else None,
        ) from None
    except _TooManyDigits as exc:
        # The YAML pass locates it (an integer scalar of that many digits is refused there).
        with contextlib.suppress(RecursionError):
            load_yaml_text(_yaml_readable(text), file)
        raise _too_many_digits(exc.digits, Location(file)) from None
    except _DuplicateKey as exc:
        # Point at the second occurrence: the YAML pass says where, or else the scan of the text.
        for locate in (load_yaml_text, _json_locations):
            try:
                locate(_yaml_readable(text) if locate is load_yaml_text else text, file)
            except SpecError as found:
                if found.message.startswith("duplicate key"):
                    raise found from None
            except RecursionError:
                pass
        raise SpecError(f"duplicate key '{exc.key}'", Location(file)) from None
    except RecursionError:
        raise SpecError(f"JSON nested deeper than {MAX_DEPTH} levels", Location(file)) from None
    _check_depth(data, file)
    doc = Document(file, data)
    try:
        located = load_yaml_text(_yaml_readable(text), file)
    except SpecError:  # valid JSON that YAML 1.1 cannot read
        doc.locs, doc.key_locs = _json_locations(text, file)
        return doc
    doc.locs, doc.key_locs = located.locs, located.key_locs
    return doc


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


def _json_locations(text: str, file: str) -> tuple[dict[Path_, Location], dict[Path_, Location]]:
    """Where each value and key of ``text``, JSON that :func:`json.loads` read (its depth
    checked), is: the YAML composer's locations, found by scanning the text. A duplicate
    key is refused at its second occurrence."""
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    locs: dict[Path_, Location] = {}
    key_locs: dict[Path_, Location] = {}

    def at(pos: int, width: int = 0) -> Location:
        line = bisect.bisect_right(starts, pos)
        column = pos - starts[line - 1] + 1
        return Location(file, line, column, column + width if width else 0)

    def skip(pos: int) -> int:
        match = _JSON_SPACE.match(text, pos)
        return match.end() if match else pos

    def value(pos: int, path: Path_) -> int:
        pos = skip(pos)
        opener = text[pos]
        if opener == '"':
            locs[path] = at(pos + 1)  # a quoted scalar's content, as YAML locates it
            return int(json.decoder.scanstring(text, pos + 1)[1])  # type: ignore[attr-defined]
        locs[path] = at(pos)
        if opener not in "[{":
            match = _JSON_SCALAR.match(text, pos)
            return match.end() if match else pos + 1
        closer, index = ("]" if opener == "[" else "}"), 0
        seen: dict[str, Location] = {}
        pos = skip(pos + 1)
        while text[pos] != closer:
            if opener == "[":
                pos = skip(value(pos, (*path, index)))
                index += 1
            else:
                key, end = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
                if key in seen:
                    raise SpecError(
                        f"duplicate key '{key}'",
                        at(pos),
                        notes=(f"first defined at {seen[key]}",),
                        hint="JSON readers keep only one of them; rename or remove one",
                    )
                seen[key] = key_locs[(*path, key)] = at(pos, len(key))
                pos = skip(value(skip(end) + 1, (*path, key)))  # past the ':'
            if text[pos] == ",":
                pos = skip(pos + 1)
        return pos + 1

    value(0, ())
    return locs, key_locs


_NOT_YAML_PLAIN = re.compile("[^\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPE = re.compile(r"\\.", re.S)


def _yaml_readable(text: str) -> str:
    """JSON text made readable by YAML 1.1, line for line and column for column, for the location
    pass: the characters YAML refuses (tabs, C0/C1 controls; JSON allows them in strings) or
    reads as line breaks (NEL, U+2028, U+2029) become spaces, and the JSON escape ``\\/``
    (unknown to YAML) becomes ``\\\\``."""
    text = _NOT_YAML_PLAIN.sub(" ", text)
    return _ESCAPE.sub(lambda m: "\\\\" if m.group() == "\\/" else m.group(), text)


class _TooManyDigits(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def check_data_bounds(data: Any, file: str = "<dict>") -> None:
    """Hold an in-memory spec to the bounds a spec file is held to: nesting (:data:`MAX_DEPTH`),
    nodes (:data:`MAX_NODES`) and text (:data:`MAX_FILE_BYTES` of strings and keys together),
    before anything walks it recursively or validates it (2 million items took 29 s to refuse).
    Shared containers are counted at each use, as a file's aliases are."""
    nodes = chars = 0
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise SpecError(f"spec nested deeper than {MAX_DEPTH} levels", Location(file))
        if nodes > MAX_NODES:
            raise SpecError(
                f"spec has more than {MAX_NODES:,} values", Location(file), hint="the same bound as a spec file's"
            )
        if isinstance(value, str):
            chars += len(value)
        elif isinstance(value, dict):
            chars += sum(len(key) for key in value if isinstance(key, str))
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list | tuple):
            pending.extend((item, depth + 1) for item in value)
        if chars > MAX_FILE_BYTES:
            raise SpecError(
                f"spec holds more than {MAX_FILE_BYTES:,} characters of text",
                Location(file),
                hint="the same bound as a spec file's; keep data out of specs",
            )


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
            if node.tag == _YAML + "int" and len(node.value) > MAX_INT_DIGITS:
                raise _too_many_digits(len(node.value), self.doc.locs[path])
            return self._scalar(node)
        self.doc.locs[path] = _mark(node, self.doc.file)
        if isinstance(node, SequenceNode):
            if node.flow_style and _has_split_call(node):
                return self.text[node.start_mark.index : node.end_mark.index]
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        out: dict[str, Any] = {}
        pairs = _rejoin_split_calls(node, self.text) if node.flow_style else node.value
        for key_node, value_node in pairs:
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
        if tag.startswith(_YAML) and tag[len(_YAML) :] in (
            "str",
            "int",
            "float",
            "bool",
            "null",
            "seq",
            "map",
            "merge",
        ):
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
        if kind in ("int", "float"):
            construct = yaml.SafeLoader.construct_yaml_int if kind == "int" else yaml.SafeLoader.construct_yaml_float
            try:
                return construct(_NO_LOADER, node)
            except (ValueError, IndexError):  # '!!float ;', '!!int': the text, which validation reports
                return value
        if not node.style and _FLOAT.match(value):
            return float(value)  # YAML 1.1 reads 1e-5 as a string; every user means a number
        return value


_NO_LOADER: Any = yaml.SafeLoader("")


def _has_split_call(node: Node, seen: dict[int, bool] | None = None, depth: int = 0) -> bool:
    """Whether YAML split a call like ``conv(c1, 1)`` at its comma in this flow collection.

    Aliases make the composed tree a graph: each node is visited once (an alias bomb
    costs no more than its text), and cycles and over-deep nesting stop the walk
    (the builder reports them).
    """
    if isinstance(node, ScalarNode):
        if node.style:  # quoted: the user kept the call whole
            return False
        return node.value.count("(") != node.value.count(")")
    seen = {} if seen is None else seen
    if id(node) in seen or depth > MAX_DEPTH:
        return seen.get(id(node), False)
    seen[id(node)] = False
    items = node.value if isinstance(node, SequenceNode) else [v for _, v in node.value]
    seen[id(node)] = found = any(_has_split_call(item, seen, depth + 1) for item in items)
    return found


def _rejoin_split_calls(node: MappingNode, text: str) -> list[tuple[Node, Node]]:
    """Undo YAML's split of ``{do: conv(4, 1)}`` into ``{do: 'conv(4', 1): null}``.

    A plain value with an unclosed ``(`` takes the following key-only entries up to
    the closing ``)``, as the source text they came from.
    """
    pairs: list[tuple[Node, Node]] = []
    items = list(node.value)
    i = 0
    while i < len(items):
        key, value = items[i]
        i += 1
        if isinstance(value, ScalarNode) and not value.style and value.tag == _YAML + "str":
            open_ = value.value.count("(") - value.value.count(")")
            end = value
            while open_ > 0 and i < len(items):
                piece, empty = items[i]
                if not isinstance(piece, ScalarNode) or piece.style or empty.tag != _YAML + "null" or empty.value:
                    break
                open_ += piece.value.count("(") - piece.value.count(")")
                end = piece
                i += 1
            if end is not value:
                joined = text[value.start_mark.index : end.end_mark.index]
                value = ScalarNode(_YAML + "str", joined, value.start_mark, end.end_mark)
        pairs.append((key, value))
    return pairs


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
    notes: tuple[str, ...] = ()
    opened = exc.context_mark
    context = exc.context or ""
    if exc.problem and ("flow sequence" in context or "flow mapping" in context) and opened and opened is not mark:
        # The parser notices an unclosed '[' or '{' only where the next thing fails to fit.
        notes = (f"{context} that starts at {file}:{opened.line + 1}:{opened.column + 1}",)
        bracket = "]" if "sequence" in context else "}"
        hint = hint or f"is a '{bracket}' missing? the collection opened at line {opened.line + 1} is not closed"
    return SpecError(f"invalid YAML: {problem}", loc, hint=hint, notes=notes)
