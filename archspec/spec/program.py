"""Load a spec file together with the block libraries it ``use``-s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archspec.errors import Location, SpecError, exception_attrs_settable
from archspec.spec.desugar import validate
from archspec.spec.expand import Program
from archspec.spec.loader import Document, load_file
from archspec.spec.model import Block, Library, Spec


@exception_attrs_settable
@dataclass(frozen=True)
class IsLibrary(SpecError):
    """Raised by :func:`load_program` for a valid block library, which has no network to expand."""

    library: Library | None = None


def load_program(path: str | Path) -> Program:
    """Load and validate a spec and its libraries; raise SpecError/SpecErrors on problems."""
    doc = load_file(path)
    data = doc.data
    if isinstance(data, dict) and "blocks" in data and not {"network", "name", "input"} & data.keys():
        library = validate(doc, library=True)
        assert isinstance(library, Library)
        _import(library, doc, {}, {}, stack=[Path(doc.file).resolve()], own=frozenset(library.blocks))
        raise IsLibrary(
            "this file is a block library (no 'network'): nothing to expand",
            Location(doc.file),
            found="blocks " + ", ".join(library.blocks),
            hint="'use:' it from a spec that has name, input and network",
            library=library,
        )
    spec = validate(doc)
    assert isinstance(spec, Spec)
    blocks: dict[str, Block] = {}
    origin: dict[str, str] = {}
    top = Path(doc.file).resolve()
    sources = {str(top): doc.digest}
    _import(spec, doc, blocks, origin, stack=[top], own=frozenset(spec.blocks), sources=sources)
    for name, block in spec.blocks.items():
        blocks[name] = block  # the spec's own blocks shadow those it uses
    return Program(spec, blocks, doc.file, sources)


def program_from_data(data: dict[str, Any], file: str = "<dict>") -> Program:
    """Build a program from an in-memory spec mapping (no 'use' of relative files)."""
    spec = validate(Document(file, data))
    if not isinstance(spec, Spec):
        raise SpecError("a spec needs 'input' and 'network'", Location(file))
    return Program(spec, dict(spec.blocks), file)


def _import(
    lib: Library,
    doc: Document,
    blocks: dict[str, Block],
    origin: dict[str, str],
    stack: list[Path],
    own: frozenset[str] = frozenset(),
    sources: dict[str, str] | None = None,
) -> None:
    """Add the blocks of the libraries ``lib`` uses (recursively) to ``blocks``, recording where
    each came from in ``origin`` and each file read, with its digest, in ``sources``."""
    sources = {} if sources is None else sources
    base = Path(doc.file).parent
    for i, rel in enumerate(lib.use):
        loc = doc.loc(("use", i))
        target = (base / rel).resolve()
        if target in stack:
            chain = " -> ".join(p.name for p in [*stack[stack.index(target) :], target])
            raise SpecError(f"'use' cycle: {chain}", loc)
        if not target.is_file():
            raise SpecError(
                f"cannot find block library '{rel}'",
                loc,
                expected=f"a file relative to {base or '.'}",
                found=str(target),
            )
        sub_doc = load_file(target)
        sources[str(target)] = sub_doc.digest
        library = validate(sub_doc, library=True)
        _import(library, sub_doc, blocks, origin, [*stack, target], own, sources)
        for name, block in library.blocks.items():
            if name in own:
                continue  # the spec's own block shadows every library's
            if name in blocks and origin[name] != str(target):
                raise SpecError(
                    f"block '{name}' is defined in both {origin[name]} and {target}",
                    loc,
                    hint="rename one, or define the one you want in this spec (its own blocks win)",
                )
            blocks[name] = block
            origin[name] = str(target)
