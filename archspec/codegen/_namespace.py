"""A namespace that hands out legal, unique Python identifiers.

Generated code never shadows a keyword, a builtin or a name the module itself
imports (``torch``, ``nn``, ``F``; ``jax``, ``jnp``, ``lax``, ``nnx``); every name asked for comes back as itself when
free, else with a numeric suffix (``conv``, ``conv_2``; ``Inception``, ``Inception2``).
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable

#: Names a generated module defines or imports at top level, for every backend that generates Python.
MODULE_NAMES = frozenset({"torch", "nn", "F", "jax", "jnp", "lax", "nnx", "rngs", "self", "super"})

_ILLEGAL = re.compile(r"[^0-9A-Za-z_]")


def is_free_identifier(name: str) -> bool:
    """A legal identifier that is no keyword, builtin or imported module name."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and not hasattr(builtins, name)
        and name not in MODULE_NAMES
        and not name.startswith("__")
    )


def camel_case(label: str) -> str:
    """``conv_bn_relu`` → ``ConvBnRelu``; ``mobilenet_v2`` → ``MobilenetV2``."""
    parts = [p for p in _ILLEGAL.sub("_", label).split("_") if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Module"
    return name if not name[0].isdigit() else "M" + name


class Namespace:
    """Unique identifiers for one scope of generated code (a module, a class, a function)."""

    def __init__(self, reserved: Iterable[str] = (), *, class_style: bool = False) -> None:
        self._taken: set[str] = set(reserved)
        self._class_style = class_style

    def __contains__(self, name: str) -> bool:
        return name in self._taken

    def new(self, candidate: str) -> str:
        """A fresh identifier close to ``candidate``."""
        # no suffix frees a dunder name (``__dict__``: ``__dict___2`` is one too), so it loses them
        base = _ILLEGAL.sub("_", candidate).lstrip("_") if candidate.startswith("__") else _ILLEGAL.sub("_", candidate)
        base = base or "value"
        if base[0].isdigit():
            base = ("M" if self._class_style else "v") + base
        name, n = base, 1
        while name in self._taken or not is_free_identifier(name):
            n += 1
            name = f"{base}{n}" if self._class_style else f"{base}_{n}"
        self._taken.add(name)
        return name

    def copy(self) -> Namespace:
        """An independent namespace with the same names taken (a branch's own locals)."""
        other = Namespace(class_style=self._class_style)
        other._taken = set(self._taken)
        return other

    def restore(self, saved: Namespace) -> None:
        """Take back every name given out since ``saved`` was copied from this namespace."""
        self._taken = set(saved._taken)
