"""Drafts: classes written for one instance each, before they are merged and named.

The walk (:mod:`archspec.codegen._emitter`) writes a :class:`Draft` per block instance: the
class's lines, with a token for each class it calls (``\\x00<uid>\\x00``, whose name is not
known yet) and a marker for each ``if`` site whose branches the class chooses between at
construction (``\\x01<site>:init\\x01``, ``...:forward``). A branch the instance does not take,
and that could not be expanded with its values, is a hole (``None``).

:func:`unify` says whether two drafts are the same class up to holes, and fills each one's
holes from the other; :func:`resolve` does that for every pair of drafts of one label, writes
each ``if`` site (both branches: ``if self.condition: ... else: ...``; one: just that branch),
then names the classes bottom-up: drafts whose final text is the same share one class, and a
label with several different texts gets numbered variants.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from archspec.codegen._namespace import MODULE_NAMES, Namespace, camel_case
from archspec.codegen._terms import Term, literal
from archspec.codegen._text import INDENT, dedented, literal_lines

_TOKEN = re.compile(r"\x00[A-Za-z0-9_]*#(\d+)\x00")
_MARKER = re.compile(r"^\s*\x01([^\x01]+):(init|forward)\x01$")
_REQUIRED = object()


@dataclass(frozen=True)
class Parameter:
    """An ``__init__`` parameter: required, with a default value, or with a default the class
    computes from the parameters before it (``hidden_dim=None``, then ``inp * expand_ratio``)."""

    name: str
    default: Any = _REQUIRED
    computed: str | None = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.computed is None

    @property
    def declaration(self) -> str:
        if self.required:
            return self.name
        if self.computed is not None or isinstance(self.default, list | dict):
            return f"{self.name}=None"  # a mutable default would be shared by every instance
        return f"{self.name}={literal(self.default)}"

    def fill_lines(self, indent: str) -> list[str]:
        """The lines that give a ``None`` default its value."""
        if self.computed is None and not isinstance(self.default, list | dict):
            return []
        inner = indent + INDENT
        value = self.computed if self.computed is not None else literal_lines(self.default, inner)
        return [f"{indent}if {self.name} is None:", f"{inner}{self.name} = {value}"]


@dataclass
class Site:
    """An ``if`` a class decides at construction: its condition and each branch's ``__init__`` and
    forward lines (at the depth of the ``if``'s body), or None where not known."""

    cond: str
    branches: dict[bool, tuple[list[str], list[str]] | None]


@dataclass(eq=False)
class Draft:
    """One class as written for one instance (see the module docstring)."""

    uid: int
    label: str
    block: str | None
    base: str
    lines: list[str]
    params: tuple[Parameter, ...]
    in_param: str | None
    out_size: Term | None
    threaded: frozenset[str]
    sites: dict[str, Site] = field(default_factory=dict)
    entry: Any = None  # a list class whose first step merges several values: its caller computes it
    #: An output size in the parameters' terms too long to pass (:attr:`out_size` is then None),
    #: and the line that keeps it as ``self.out_channels`` for callers to read, written where
    #: ``__init__`` ends (``init_end``) once one does (``out_read``), as torchvision's DenseNet
    #: reads the ``num_features`` it kept.
    wide_out: Term | None = None
    out_line: str = ""
    init_end: int = 0
    out_read: bool = False

    @property
    def token(self) -> str:
        """Where the class's name goes, as long as the name or longer (lines are wrapped before
        classes are named)."""
        return f"\x00{camel_case(self.label)}#{self.uid:08d}\x00"  # one length for every uid


def _same_text(a: str, b: str, drafts: dict[int, Draft]) -> bool:
    """Texts equal but for tokens of classes that unify."""
    parts_a, parts_b = _TOKEN.split(a), _TOKEN.split(b)  # text, uid, text, uid, ..., text
    if len(parts_a) != len(parts_b):
        return False
    for i, (x, y) in enumerate(zip(parts_a, parts_b, strict=True)):
        if i % 2 == 0:
            if x != y:
                return False
        elif x != y and not unify(drafts[int(x)], drafts[int(y)], drafts):
            return False
    return True


def same_lines(a: list[str], b: list[str], drafts: dict[int, Draft]) -> bool:
    """Lines equal but for tokens of classes that unify (filling their holes from each other)."""
    return len(a) == len(b) and _same_text("\n".join(a), "\n".join(b), drafts)


def unify(a: Draft, b: Draft, drafts: dict[int, Draft]) -> bool:
    """Whether ``a`` and ``b`` are one class up to holes; if so each one's holes are filled from the other."""
    if a is b:
        return True
    if (a.label, a.base, a.params, a.in_param, a.threaded, a.sites.keys()) != (
        b.label,
        b.base,
        b.params,
        b.in_param,
        b.threaded,
        b.sites.keys(),
    ):
        return False
    if not same_lines(a.lines, b.lines, drafts):
        return False
    for key, site in a.sites.items():
        other = b.sites[key]
        if site.cond != other.cond:
            return False
        for branch in (True, False):
            mine, theirs = site.branches[branch], other.branches[branch]
            if mine is None or theirs is None:
                continue
            if not (same_lines(mine[0], theirs[0], drafts) and same_lines(mine[1], theirs[1], drafts)):
                return False
    for key, site in a.sites.items():  # compatible: each fills the other's holes
        other = b.sites[key]
        for branch in (True, False):
            if site.branches[branch] is None:
                site.branches[branch] = other.branches[branch]
            elif other.branches[branch] is None:
                other.branches[branch] = site.branches[branch]
    return True


@dataclass(frozen=True)
class NamedClass:
    """A class of the generated file: its name, its text, and the spec block it is written for."""

    name: str
    text: str
    block: str | None


def _reachable(root: Draft, drafts: dict[int, Draft]) -> list[Draft]:
    """Every draft ``root`` uses, callees before callers (the order classes are defined in)."""
    order: list[Draft] = []
    seen: set[int] = set()

    def texts(draft: Draft) -> Iterator[str]:
        yield from draft.lines
        for site in draft.sites.values():
            for branch in site.branches.values():
                if branch is not None:
                    yield from branch[0]
                    yield from branch[1]

    def visit(draft: Draft) -> None:
        seen.add(draft.uid)
        for text in texts(draft):
            for uid in _TOKEN.findall(text):
                if int(uid) not in seen:
                    visit(drafts[int(uid)])
        order.append(draft)

    visit(root)
    return order


def _with_sites(draft: Draft) -> list[str]:
    """The draft's lines with each ``if`` site written out (see the module docstring)."""
    lines: list[str] = []
    flag = _flag(draft)
    for line in draft.lines:
        match = _MARKER.match(line)
        if match is None:
            lines.append(line)
            continue
        site = draft.sites[match.group(1)]
        part = 0 if match.group(2) == "init" else 1
        indent = line[: len(line) - len(line.lstrip())]
        then, otherwise = site.branches[True], site.branches[False]
        if then is None or otherwise is None:  # one branch known: the class is that branch
            known = then if then is not None else otherwise
            assert known is not None
            lines.extend(dedented(known[part]))
        elif part == 0:
            lines += [f"{indent}self.{flag} = {site.cond}", f"{indent}if self.{flag}:", *then[0]]
            lines += [f"{indent}else:", *otherwise[0]]
        else:  # each branch returns
            lines += [f"{indent}if self.{flag}:", *then[1], *dedented(otherwise[1])]
    if any(_MARKER.match(line) for line in lines):  # an if inside a branch
        return _with_sites(Draft(**{**draft.__dict__, "lines": lines}))
    return lines


def _flag(draft: Draft) -> str:
    """The attribute that keeps an ``if`` site's condition, free among the class's attributes."""
    text = "\n".join(draft.lines) + "".join(
        "\n".join(b[0]) for s in draft.sites.values() for b in s.branches.values() if b is not None
    )
    name, n = "condition", 1
    while f"self.{name} " in text or f"self.{name}(" in text:
        n += 1
        name = f"condition_{n}"
    return name


def resolve(root: Draft, drafts: dict[int, Draft], reserved: set[str]) -> list[NamedClass]:
    """The classes of the file, callees first, the network's last (see the module docstring)."""
    order: list[Draft] = []
    while True:  # a branch filled from another draft may call classes not reached before
        reached = _reachable(root, drafts)
        done = {d.uid for d in reached} == {d.uid for d in order}
        order = reached
        if done:
            break
        by_label: dict[str, list[Draft]] = {}
        for draft in order:
            group = by_label.setdefault(draft.label, [])
            if draft.sites:
                for other in group:
                    unify(draft, other, drafts)
            group.append(draft)
    names = Namespace(MODULE_NAMES | reserved, class_style=True)
    named: dict[int, str] = {}
    known: dict[tuple[str, str], Draft] = {}  # each class, by label and text, as its first draft
    read: set[str] = set()  # the classes whose output size a caller reads from self.out_channels
    for draft in order:
        body = _TOKEN.sub(lambda m: named[int(m.group(1))], "\n".join(_with_sites(draft)))
        first = known.setdefault((draft.label, body), draft)
        if first is draft:
            named[draft.uid] = names.new(camel_case(draft.label))
        named[draft.uid] = named[first.uid]
        if draft.out_read:
            read.add(named[draft.uid])
    classes: list[NamedClass] = []
    for draft in known.values():
        name = named[draft.uid]
        if name in read:
            lines = [*draft.lines[: draft.init_end], draft.out_line, *draft.lines[draft.init_end :]]
            draft = Draft(**{**draft.__dict__, "lines": lines})
        body = _TOKEN.sub(lambda m: named[int(m.group(1))], "\n".join(_with_sites(draft)))
        classes.append(NamedClass(name, f"class {name}({draft.base}):\n{body}", draft.block))
    return classes
