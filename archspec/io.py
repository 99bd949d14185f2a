"""Writing files safely: write to a temporary file beside the target, then rename.

A failure half-way never leaves a truncated file and never replaces a good one. A file
system's refusal (no such folder, permission denied, disk full, a folder where the file
should go) is a :class:`~archspec.errors.SpecError` naming the file; anything the writer
raises (a SpecError of its own, Ctrl-C) passes through, after the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from archspec.errors import Location, SpecError


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_output_path(path: str | Path) -> Path:
    """``path`` as a file archspec may write, or a SpecError saying why not: something there
    that is not a regular file (a folder, a FIFO, a device such as /dev/null, a socket) is never
    replaced, since the rename that makes a write atomic would put a file in its place (run as
    root, ``-o /dev/null`` once replaced the machine's /dev/null). A path that does not exist
    yet is fine. Commands call it before any work; :func:`atomic_write` calls it again."""
    target = Path(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a loop of symlinks
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(f"cannot write {_shown(target)}: {reason}", Location(_shown(target))) from None
    if stat.S_ISREG(info.st_mode):
        return target
    kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
    if stat.S_ISFIFO(info.st_mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        kind = "a device"
    elif stat.S_ISSOCK(info.st_mode):
        kind = "a socket"
    raise SpecError(
        f"cannot write {_shown(target)}: it is {kind}",
        Location(_shown(target)),
        hint="archspec writes regular files only, and never replaces anything else; nothing was written",
    )


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 200 else text[:197] + "..."


#: The files this process has written in full, in order: what a command interrupted by Ctrl-C
#: reports as done (any other target still holds its old content, or nothing).
WRITTEN: list[Path] = []


def atomic_write(path: str | Path, write: Callable[[Path], object], mode: int | None = None) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` only if it succeeds; the file
    gets ``mode`` if given, else the mode a plain open() would give it. Anything at ``path`` that
    is not a regular file is refused (:func:`check_output_path`)."""
    target = check_output_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        write(Path(tmp))
        # mkstemp makes the file private (0600); give it the mode a plain open() would have,
        # or keep the mode of the file it replaces.
        if mode is None:
            mode = target.stat().st_mode & 0o7777 if target.exists() else _default_mode()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        WRITTEN.append(target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _cannot_write(target, exc) from None
        raise


def _cannot_write(target: Path, exc: OSError) -> SpecError:
    return SpecError(
        f"cannot write {_shown(target)}: {exc.strerror or exc}",
        Location(_shown(target)),
        hint="nothing was written; a file already there is unchanged",
    )


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str, mode: int | None = None) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), mode)
