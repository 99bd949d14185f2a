"""archspec.build through the build cache with the flax backend: the build options still apply
on a hit, and a hit builds the module a fresh build does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.cache import BuildCache

ROOT = Path(__file__).resolve().parents[3]


def test_a_hit_keeps_the_build_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHSPEC_CACHE_DIR", str(tmp_path))
    spec = ROOT / "specs" / "lenet_bn.yaml"
    fresh = archspec.build(spec, backend="flax", options={"data_format": "NHWC", "seed": 3})
    assert len(BuildCache(tmp_path).entries()) == 1

    def refuse(*_args, **_kwargs):
        raise AssertionError("a cache hit read the spec")

    monkeypatch.setattr("archspec.api.load", refuse)
    hit = archspec.build(spec, backend="flax", options={"data_format": "NHWC", "seed": 3})
    x = np.random.default_rng(0).standard_normal((2, 28, 28, 1), dtype=np.float32)  # NHWC, as asked
    fresh.eval()
    hit.eval()
    np.testing.assert_array_equal(np.asarray(fresh(x)), np.asarray(hit(x)))  # same seed, same weights
    with pytest.raises(archspec.SpecError, match="data_format must be"):
        archspec.build(spec, backend="flax", options={"data_format": "NWHC"})
