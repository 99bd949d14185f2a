"""Random YAML and JSON text, and raw bytes, through the loader and the whole pipeline (file to shapes).

Classes: spec-like documents and random structures dumped as YAML/JSON (as they are and with
random edits), arbitrary unicode, nasty characters (NUL, BOM, tabs, CR, U+2028, control
characters), nesting 1-3,000 deep in every YAML style, alias bombs and recursive aliases,
merge keys, tags and directives, JSON with duplicate keys / NaN / huge numbers, and
non-UTF-8 bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from archspec import api
from archspec.spec.loader import load_json_text, load_yaml_text

from .fuzz_strategies import json_texts, nasty_bytes, yaml_texts
from .fuzzlib import PROFILES, Profile, guarded


def _kind(text: str) -> str:
    if "!!" in text or "!<" in text or "%TAG" in text or "!custom" in text or "!x" in text:
        return "tags"
    if "&" in text and "*" in text:
        return "anchors+aliases"
    if text.count("[") + text.count("{") > 60 or text.count("\n  ") > 60:
        return "deep nesting"
    if "archspec" in text or "network" in text:
        return "spec-like"
    return "other text"


@pytest.mark.parametrize("profile", PROFILES)
def test_yaml_text_loads_or_is_a_located_error(profile: Profile) -> None:
    @profile.settings(weight=1.5)
    @given(yaml_texts())
    def run(text: str) -> None:
        guarded("loader: yaml text", _kind(text), lambda: load_yaml_text(text, "t.yaml"), files={"t.yaml"}, lines=True)

    run()


@pytest.mark.parametrize("profile", PROFILES)
def test_json_text_loads_or_is_a_located_error(profile: Profile) -> None:
    @profile.settings(weight=1.0)
    @given(json_texts())
    def run(text: str) -> None:
        kind = "deep nesting" if text.count("[") + text.count("{") > 60 else "json"
        guarded("loader: json text", kind, lambda: load_json_text(text, "t.json"), files={"t.json"}, lines=True)

    run()


@pytest.mark.parametrize("profile", PROFILES)
def test_spec_files_go_through_the_whole_pipeline(profile: Profile, tmp_path: Path) -> None:
    """Text written to a .yaml/.json file, then load, desugar, validate, expand, infer."""

    @profile.settings(weight=1.5)
    @given(yaml_texts() | json_texts(), nasty_bytes())
    def run(text: str, junk: bytes) -> None:
        suffix = ".json" if text.lstrip().startswith(("{", "[")) else ".yaml"
        path = tmp_path / f"spec{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        guarded("pipeline: spec file", _kind(text), lambda: api.shapes(path), files={str(path)}, lines=True)
        raw = tmp_path / "raw.yaml"
        raw.write_bytes(junk)
        guarded("pipeline: spec file", "raw bytes", lambda: api.shapes(raw), files={str(raw)}, lines=True)

    run()
