"""Random structures and well-formed-but-wrong networks through desugar, validation, the block
expander and shape inference, as in-memory mappings and as YAML and JSON files.

Classes: spec-shaped structures of random scalars (huge and negative ints, NaN/inf, unicode,
hostile strings); networks of random op and block calls with random, misspelt, missing or
extra arguments and expression arguments; random blocks with defaults (recursive and
mutually recursive ones among them); params; repeats and fors with bad counts; ifs; DAGs
with unknown, later and reserved node names; random input shapes; hostile names for the
network, blocks, parameters and steps; and plausible networks that mostly pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from archspec import api

from .fuzz_strategies import networks, plausible_networks, structures
from .fuzzlib import PROFILES, Profile, guarded


def _written(spec: Any, form: str, folder: Path) -> Path | None:
    """``spec`` as a YAML or JSON file (None if it cannot be written as one)."""
    try:
        if form == "yaml":
            text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
        else:
            text = json.dumps(spec, ensure_ascii=False, allow_nan=True)
    except (ValueError, TypeError, yaml.YAMLError):
        return None
    path = folder / f"spec.{form}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def _through_the_pipeline(test: str, kind: str, spec: Any, form: str, folder: Path) -> Any:
    if form == "dict":
        if not isinstance(spec, dict):
            return None
        return guarded(test, f"{kind} (mapping)", lambda: api.shapes(spec), files={"<dict>"}, lines=False)
    path = _written(spec, form, folder)
    if path is None:
        return None
    return guarded(test, f"{kind} ({form})", lambda: api.shapes(path), files={str(path)}, lines=True)


FORMS = st.sampled_from(["dict", "yaml", "json"])


@pytest.mark.parametrize("profile", PROFILES)
def test_random_structures(profile: Profile, tmp_path: Path) -> None:
    @profile.settings(weight=1.0)
    @given(structures(), FORMS)
    def run(spec: Any, form: str) -> None:
        _through_the_pipeline("networks: structures", "structure", spec, form, tmp_path)

    run()


@pytest.mark.parametrize("profile", PROFILES)
def test_wrong_networks(profile: Profile, tmp_path: Path) -> None:
    @profile.settings(weight=1.5)
    @given(networks(), FORMS)
    def run(spec: dict[str, Any], form: str) -> None:
        _through_the_pipeline("networks: wrong", "wrong network", spec, form, tmp_path)

    run()


@pytest.mark.parametrize("profile", PROFILES)
def test_plausible_networks(profile: Profile, tmp_path: Path) -> None:
    @profile.settings(weight=1.0)
    @given(plausible_networks(), FORMS)
    def run(spec: dict[str, Any], form: str) -> None:
        _through_the_pipeline("networks: plausible", "plausible network", spec, form, tmp_path)

    run()
