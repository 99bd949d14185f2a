"""archspec.weights: the framework-free reading and checking every backend's weights go through."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from archspec.errors import SpecError
from archspec.weights import check_tensors, read_safetensors


def test_every_problem_is_reported_at_once_and_torch_counters_are_ignored() -> None:
    expected = {"a.weight": ((4, 3), "float32"), "a.bias": ((4,), "float32"), "b.weight": ((2,), "float32")}
    found = {
        "a.weight": ((3, 4), "float32"),
        "a.bias": ((4,), "float64"),
        "c.weight": ((1,), "float32"),
        "bn.num_batches_tracked": ((), "int64"),
    }
    with pytest.raises(SpecError) as info:
        check_tensors(expected, found, source="weights in w.safetensors")
    assert info.value.message == "weights in w.safetensors do not match the network: 4 problems, nothing loaded"
    assert set(info.value.notes) == {
        "missing: b.weight (2,)",
        "unexpected: c.weight (1,)",
        "wrong shape: a.weight is (3, 4), expected (4, 3)",
        "wrong dtype: a.bias is float64, expected float32",
    }
    check_tensors(expected, {**expected, "x.num_batches_tracked": ((), "int64")})  # no error


def test_unreadable_files_are_spec_errors_and_pickles_get_a_hint(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    from safetensors.numpy import load_file, save_file

    with pytest.raises(SpecError, match="does not exist"):
        read_safetensors(tmp_path / "missing.safetensors", load_file)
    with pytest.raises(SpecError, match="is not a regular file"):
        read_safetensors(tmp_path, load_file)
    pickled = tmp_path / "w.pt"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(SpecError, match="not a readable safetensors file") as info:
        read_safetensors(pickled, load_file)
    assert info.value.hint and "never loads" in info.value.hint and info.value.loc is not None
    good = tmp_path / "w.safetensors"
    save_file({"a": np.zeros(2, np.float32)}, str(good))
    assert list(read_safetensors(good, load_file)) == ["a"]
