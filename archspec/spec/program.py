"""Load a spec file together with the block libraries it ``use``-s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archspec.errors import Location, SpecError, exception_attrs_settable
from archspec.spec.desugar import validate
from archspec.spec.expand import Program
from archspec.spec.loader import MAX_FILE_BYTES, Document, check_data_bounds, load_file
from archspec.spec.model import Block, Library, Spec


@exception_attrs_settable
@dataclass(frozen=True)
class IsLibrary(SpecError):
    """Raised by :func:`load_program` for a valid block library, which has no network to expand."""

    library: Library | None = None


#: Bounds on what the ``use:`` libraries of one program may read, all files together: each file
#: is read once however often it is used (a diamond of 30 libraries each using the next two reads
#: 30 files, not 2^30), and a program that lists many large files is refused before it costs minutes.
MAX_LIBRARY_FILES = 256
MAX_LIBRARY_BYTES = 32 * 1024 * 1024


def load_program(path: str | Path) -> Program:
    """Load and validate a spec and its libraries; raise SpecError/SpecErrors on problems."""
    doc = load_file(path)
    data = doc.data
    top = Path(doc.file).resolve()
    libraries = _Libraries(top)
    if isinstance(data, dict) and "blocks" in data and not {"network", "name", "input", "inputs"} & data.keys():
        library = validate(doc, library=True)
        assert isinstance(library, Library)
        libraries.add_used(library, doc, stack=[top], own=frozenset(library.blocks))
        raise IsLibrary(
            "this file is a block library (no 'network'): nothing to expand",
            doc.key_locs.get(("blocks",)) or doc.loc(("blocks",)),
            found="blocks " + ", ".join(library.blocks),
            hint="'use:' it from a spec that has name, input (or inputs) and network",
            library=library,
        )
    spec = validate(doc)
    assert isinstance(spec, Spec)
    libraries.add_used(spec, doc, stack=[top], own=frozenset(spec.blocks))
    blocks = dict(libraries.blocks)
    blocks.update(spec.blocks)  # the spec's own blocks shadow those it uses
    return Program(spec, blocks, doc.file, (top, *libraries.loaded))


def program_from_data(data: dict[str, Any], file: str = "<dict>") -> Program:
    """Build a program from an in-memory spec mapping (no 'use' of relative files), held to the
    bounds of a spec file."""
    check_data_bounds(data, file)
    spec = validate(Document(file, data))
    if not isinstance(spec, Spec):
        raise SpecError("a spec needs 'input' (or 'inputs') and 'network'", Location(file))
    return Program(spec, dict(spec.blocks), file)


class _Libraries:
    """The blocks of every library a program uses, each file read and validated once."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self.blocks: dict[str, Block] = {}
        self.origin: dict[str, str] = {}  # block name -> the library file it came from
        self.loaded: dict[Path, None] = {}  # the library files read, in order
        self.bytes_read = 0

    def add_used(self, lib: Library, doc: Document, stack: list[Path], own: frozenset[str]) -> None:
        """Add the blocks of the libraries ``lib`` uses, recursively; ``own`` are the names the
        program's spec defines itself (they shadow every library's)."""
        base = Path(doc.file).parent
        for i, rel in enumerate(lib.use):
            loc = doc.loc(("use", i))
            target = self._resolve(base, rel, loc)
            if target in stack:
                chain = " -> ".join(p.name for p in [*stack[stack.index(target) :], target])
                raise SpecError(f"'use' cycle: {chain}", loc)
            if target in self.loaded:
                continue  # its blocks (and its own libraries') are in already
            sub_doc, library = self._read(target, loc)
            self.add_used(library, sub_doc, [*stack, target], own)
            for name, block in library.blocks.items():
                if name in own:
                    continue
                if name in self.blocks and self.origin[name] != str(target):
                    raise SpecError(
                        f"block '{name}' is defined in both {self.origin[name]} and {target}",
                        loc,
                        hint="rename one, or define the one you want in this spec (its own blocks win)",
                    )
                self.blocks[name] = block
                self.origin[name] = str(target)
            self.loaded[target] = None

    def _resolve(self, base: Path, rel: str, loc: Location) -> Path:
        """The library file ``rel`` names, relative to ``base``, or a located SpecError."""
        shown = rel if len(rel) <= 80 else rel[:77] + "..."
        try:
            target = (base / rel).resolve()
            found = target.is_file()
        except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte, a name too long
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SpecError(f"cannot read block library '{shown}': {reason}", loc) from None
        if not found:
            raise SpecError(
                f"cannot find block library '{shown}'",
                loc,
                expected=f"a file relative to {base or '.'}",
                found=str(target),
            )
        return target

    def _read(self, target: Path, loc: Location) -> tuple[Document, Library]:
        if len(self.loaded) >= MAX_LIBRARY_FILES:
            raise SpecError(
                f"the spec uses more than {MAX_LIBRARY_FILES} block library files",
                loc,
                hint="libraries that use the same file share it; this many distinct files is not a network",
            )
        budget = MAX_LIBRARY_BYTES - self.bytes_read
        size = target.stat().st_size  # a regular file (the loader refuses others): its size is its length
        if size > budget:
            raise SpecError(
                f"the block libraries this spec uses add up to more than {MAX_LIBRARY_BYTES:,} bytes",
                loc,
                hint="block libraries hold block definitions; keep data out of them",
            )
        sub_doc = load_file(target, limit=min(budget, MAX_FILE_BYTES))
        self.bytes_read += size
        library = validate(sub_doc, library=True)
        assert isinstance(library, Library)
        return sub_doc, library
