"""The ``archspec`` command line; see :mod:`archspec.cli.main`."""

from archspec.cli.main import app, main

__all__ = ["app", "main"]
