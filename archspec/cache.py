"""The build cache: a network's generated source, kept on disk by everything it came from.

Going from a spec to a framework module has a fixed cost before the framework constructs
anything: read and validate the spec, expand it, infer its shapes, generate the source (5 to 25
ms for the networks in ``specs/``). For a small network that is more than constructing it. As
Python keeps compiled modules in ``__pycache__``, archspec keeps the generated source, so a later
build of the same spec, in this process or another, runs the source straight away.

An entry's key covers the spec file's resolved path and text (or an in-memory spec's data), the
network params and input shape asked for, the backend, and the code of archspec and of the
backend package (each ``.py`` file's path, size and modification time: editing a checkout
invalidates its entries), and which ops are registered and which rules lower them (a rule
replaced at run time is a miss). The entry itself lists every library the spec ``use``-s with the
digest of its text, checked on each hit, and the network's parameter count and largest
activation, so ``max_params`` and ``max_activation`` are enforced as a fresh build would enforce
them (a network over a bound is built afresh, which raises the usual located error).

The cache never changes what a build returns, only how fast: an entry that cannot be read, is
corrupt, or is of another format is a miss, and a cache that cannot be written is skipped.
Nothing is cached for a spec that fails.

Where: ``$ARCHSPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/archspec``, else ``~/.cache/archspec``.
``ARCHSPEC_CACHE=0`` (or ``off``, ``false``, ``no``) or ``archspec.build(..., cache=False)``
turns it off; ``archspec cache`` shows it and ``archspec cache --clear`` empties it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec._version import __version__
from archspec.errors import SpecError
from archspec.io import atomic_write_text

if TYPE_CHECKING:
    from archspec.backends import EmittedSource
    from archspec.infer import ShapeReport
    from archspec.spec.expand import Program

#: Bumped whenever an entry's layout changes; entries of another format are misses.
FORMAT = 1
#: Entries kept; the least recently used beyond this are removed when one is added.
MAX_ENTRIES = 256
_SUFFIX = ".json"
#: An entry used again is marked as recently used at most this often (seconds): a hit writes nothing.
_TOUCH_AFTER = 60
_OFF = frozenset({"0", "off", "false", "no"})


def cache_dir() -> Path | None:
    """Where entries live, or None when ``ARCHSPEC_CACHE`` turns the cache off."""
    if os.environ.get("ARCHSPEC_CACHE", "").strip().lower() in _OFF:
        return None
    explicit = os.environ.get("ARCHSPEC_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "archspec"


@functools.cache
def code_fingerprint(package_dir: str) -> str:
    """A digest of the names, sizes and modification times of the ``.py`` files under
    ``package_dir`` (once per process: the code a process runs does not change under it)."""
    digest = hashlib.sha256()
    root = Path(package_dir)
    for path in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


_CODE_TOKENS: dict[object, str] = {}


def _code_token(backend: object) -> str:
    """A digest of the code a build runs: archspec's and the backend package's files, which ops
    are registered, and which rules lower them (memoised on the registry and the rule table as
    they are now, so a change at run time is seen)."""
    from archspec.backends import Lowerings
    from archspec.ops import REGISTRY

    lowerings = getattr(backend, "lowerings", None)
    rules = lowerings.fingerprint() if isinstance(lowerings, Lowerings) else None
    memo = (type(backend), getattr(backend, "name", "?"), tuple(REGISTRY.items()), rules)
    token = _CODE_TOKENS.get(memo)
    if token is None:
        module = type(backend).__module__
        parts = [
            __version__,
            code_fingerprint(_package_dir(__name__)),
            sorted((name, op.__module__, op.__qualname__) for name, op in REGISTRY.items()),
            memo[1],
            module,
            code_fingerprint(_package_dir(module)),
            rules,
        ]
        token = _CODE_TOKENS[memo] = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return token


def _package_dir(module_name: str) -> str:
    top = sys.modules[module_name.partition(".")[0]]
    return str(Path(top.__file__ or ".").parent)


@dataclass(frozen=True)
class Key:
    """An entry's key, and the spec file's text digest it was computed from (None for data)."""

    value: str
    file: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Entry:
    """What a hit gives back: the source, and the sizes the bounds are checked against."""

    emitted: EmittedSource
    total_params: int
    largest_activation: int


class BuildCache:
    """The entries under one folder (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ------------------------------------------------------------------ keys
    def key(
        self,
        spec: object,
        backend: object,
        params: Mapping[str, Any] | None,
        input_shape: list[int | str] | None,
    ) -> Key | None:
        """The key of building ``spec`` with ``backend``; None where the spec cannot be keyed
        (a loaded Program, a file that cannot be read, values that are not JSON)."""
        from archspec.spec.loader import read_spec_text, text_digest

        file = digest = None
        if isinstance(spec, str | Path):
            try:
                file = os.path.realpath(spec)
                digest = text_digest(read_spec_text(file))
            except (OSError, ValueError, SpecError):
                return None  # the build itself reports the problem
            origin: list[str] = ["file", file, digest]
        elif isinstance(spec, Mapping):
            origin = ["data", _json(spec) or ""]
        else:
            return None
        text = _json([FORMAT, _code_token(backend), *origin, dict(params or {}), input_shape])
        if text is None or origin[-1] == "":
            return None
        return Key(hashlib.sha256(text.encode()).hexdigest(), file, digest)

    def _path(self, key: str) -> Path:
        return self.root / "emitted" / f"{key}{_SUFFIX}"

    # ------------------------------------------------------------------ lookups
    def get(self, key: Key) -> Entry | None:
        """The entry for ``key`` if there is a sound one whose library files are unchanged."""
        from archspec.backends import EmittedSource
        from archspec.spec.loader import read_spec_text, text_digest

        path = self._path(key.value)
        try:
            with path.open(encoding="utf-8") as file:
                stat = os.fstat(file.fileno())
                if not _trusted(stat):
                    return None
                data = json.loads(file.read())
            if data["format"] != FORMAT or data["key"] != key.value:
                return None
            for source, digest in data["sources"].items():
                if source == key.file and digest == key.digest:
                    continue  # read for the key a moment ago
                if text_digest(read_spec_text(source)) != digest:
                    return None
            e = data["emitted"]
            emitted = EmittedSource(
                str(e["source"]), str(e["filename"]), str(e["entry"]), tuple(e["imports"]), dict(e["classes"])
            )
            entry = Entry(emitted, int(data["total_params"]), int(data["largest_activation"]))
        except (OSError, SpecError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if time.time() - stat.st_mtime > _TOUCH_AFTER:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: kept longest
        return entry

    def put(self, key: Key, program: Program, report: ShapeReport, emitted: EmittedSource) -> None:
        """Keep ``emitted`` under ``key``; quietly does nothing where the folder cannot be written,
        or where the spec file changed between computing the key and reading the spec."""
        if key.file is not None and program.sources.get(key.file) != key.digest:
            return
        data = {
            "format": FORMAT,
            "key": key.value,
            "archspec": __version__,
            "sources": dict(program.sources),
            "total_params": report.total_params,
            "largest_activation": report.largest_activation,
            "emitted": asdict(emitted),
        }
        text = _json(data)
        if text is None:
            return
        path = self._path(key.value)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write_text(path, text, mode=0o600)  # private to this user, whatever the umask: see _trusted
        except (OSError, SpecError):
            return
        self._prune()

    # ------------------------------------------------------------------ housekeeping
    def entries(self) -> list[Path]:
        """The entry files, least recently used first."""
        folder = self.root / "emitted"
        try:
            found = [(p.stat().st_mtime_ns, p) for p in folder.iterdir() if p.suffix == _SUFFIX]
        except OSError:
            return []
        return [p for _, p in sorted(found)]

    def _prune(self) -> None:
        entries = self.entries()
        for stale in entries[: max(0, len(entries) - MAX_ENTRIES)]:
            with contextlib.suppress(OSError):
                stale.unlink()

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        removed = 0
        for path in self.entries():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed


def default_cache() -> BuildCache | None:
    """The cache the environment asks for (see :func:`cache_dir`), or None when it is off."""
    root = cache_dir()
    return None if root is None else BuildCache(root)


def _trusted(stat: os.stat_result) -> bool:
    """Whether an entry file is one only this user could have written: an entry is code the
    build runs, so one that another user owns or may change is ignored."""
    if not hasattr(os, "getuid"):
        return True  # no POSIX ownership to check (Windows): the folder's ACL decides
    return stat.st_uid == os.getuid() and not stat.st_mode & 0o022


def _json(value: object) -> str | None:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
