"""archspec: a framework-agnostic compiler for neural-network architectures.

``import archspec`` is cheap and imports no framework; the API loads on first use::

    import archspec
    report = archspec.shapes("specs/googlenet.yaml", params={"classes": 100})
    graph = archspec.to_graph("specs/resnet18.yaml")
    model = archspec.build("specs/googlenet.yaml", backend="torch", classes=100)
    archspec.draw("specs/googlenet.yaml", "googlenet.svg", depth=2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archspec._version import __version__
from archspec.errors import Location, SpecError, SpecErrors

if TYPE_CHECKING:
    from archspec.api import load, shapes, to_graph
    from archspec.backends import build, emit
    from archspec.drawing import draw

__all__ = [
    "Location",
    "SpecError",
    "SpecErrors",
    "__version__",
    "build",
    "draw",
    "emit",
    "load",
    "shapes",
    "to_graph",
]

_LAZY = {
    "load": "archspec.api",
    "shapes": "archspec.api",
    "to_graph": "archspec.api",
    "build": "archspec.backends",
    "emit": "archspec.backends",
    "draw": "archspec.drawing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archspec' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)
