"""Every test run gets a build cache of its own (archspec.cache), so runs neither read nor fill
the user's; subprocesses (the CLI tests) inherit it through the environment."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_KEY = "ARCHSPEC_CACHE_DIR"
_saved = pytest.StashKey[tuple[str | None, str]]()  # the variable's value before, and the folder


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_saved] = (os.environ.get(_KEY), tempfile.mkdtemp(prefix="archspec-test-cache-"))
    os.environ[_KEY] = config.stash[_saved][1]
    os.environ.pop("ARCHSPEC_CACHE", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    before, folder = config.stash[_saved]
    shutil.rmtree(folder, ignore_errors=True)
    if before is None:
        os.environ.pop(_KEY, None)
    else:
        os.environ[_KEY] = before
