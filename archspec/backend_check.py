"""Whether each backend builds a network: what ``archspec check`` asks after the shape pass.

A spec that passes the shape pass may still be one a backend cannot build: an op it has no
lowering for, one of its own limitations. :func:`check_backends` asks each backend's
:meth:`~archspec.backends.Backend.check`, which runs every lowering rule and builds nothing, and
collects one :class:`BackendVerdict` per backend: it builds the network, it refuses it (the
refusal located at the node, and naming the backend), or it could not be asked (it cannot be
loaded: its framework is not installed, or importing it fails).

Only a refusal is a :class:`~archspec.errors.SpecError`. Any other exception a backend's check
raises is its own bug and is not caught here: the CLI reports it as an internal error.

Framework-free: backends are found through :mod:`archspec.backends`' registry, and each one
imports what its ``check`` needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from archspec import backends
from archspec.errors import SpecError, SpecErrors

if TYPE_CHECKING:
    from archspec.infer import ShapeReport


@dataclass(frozen=True)
class BackendVerdict:
    """One backend's answer for one network.

    ``errors`` are its refusals (empty: it builds the network); ``unavailable`` says why it could
    not be asked (None: it was). A refusal's message names the backend (``the flax backend ...``).
    """

    backend: str
    errors: tuple[SpecError, ...] = ()
    unavailable: str | None = None

    @property
    def ok(self) -> bool:
        """It was asked and builds the network."""
        return self.unavailable is None and not self.errors

    @property
    def status(self) -> Literal["ok", "refuses", "unavailable"]:
        """``ok``, ``refuses`` or ``unavailable``, for programs."""
        return "unavailable" if self.unavailable is not None else "refuses" if self.errors else "ok"


def installed_backends() -> list[str]:
    """The names of every backend registered under the entry-point group, sorted."""
    return sorted(backends.backend_entry_points())


def check_backends(report: ShapeReport, names: Iterable[str], *, required: bool = False) -> list[BackendVerdict]:
    """Ask each backend in ``names`` whether it builds ``report.graph`` (see the module docstring).

    A backend that cannot be loaded is ``unavailable``. Loading runs the backend package's own
    code, a third party's included, so whatever that raises only makes it unavailable, unless the
    backends are ``required`` (asked for by name): then a framework that is not installed is an
    error of its verdict, and any other failure is raised as the bug it is.
    """
    verdicts = []
    for name in names:
        try:
            backend = backends.get_backend(name)
        except SpecError as exc:  # not registered, or its framework is not installed
            verdicts.append(BackendVerdict(name, (exc,)) if required else BackendVerdict(name, unavailable=exc.message))
            continue
        except Exception as exc:
            if required:
                raise
            verdicts.append(BackendVerdict(name, unavailable=f"importing it fails: {type(exc).__name__}: {exc}"))
            continue
        try:
            backend.check(report.graph, report)
        except SpecError as exc:
            verdicts.append(BackendVerdict(name, (_naming(exc, name),)))
        except SpecErrors as exc:
            verdicts.append(BackendVerdict(name, tuple(_naming(e, name) for e in exc.errors)))
        else:
            verdicts.append(BackendVerdict(name))
    return verdicts


def _naming(error: SpecError, backend: str) -> SpecError:
    """``error`` with a message that says which backend refuses, if it does not already."""
    if f"the {backend} backend" in error.message:
        return error
    return dataclasses.replace(error, message=f"the {backend} backend cannot build this: {error.message}")
