"""archspec.weights: the framework-free reading and checking every backend's weights go through."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from archspec.errors import SpecError
from archspec.weights import MAX_HEADER_BYTES, WeightsFile, check_tensors, read_checked, read_safetensors


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


def _sparse_safetensors(path: Path, name: str, elements: int) -> None:
    """A valid safetensors file holding one float32 tensor of ``elements`` zeros, written sparse
    (the data is a hole the file system fills with zeros: gigabytes cost no disk)."""
    import json

    header = json.dumps({name: {"dtype": "F32", "shape": [elements], "data_offsets": [0, 4 * elements]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as handle:
        handle.write(len(header).to_bytes(8, "little") + header)
        handle.truncate(8 + len(header) + 4 * elements)


def test_a_huge_unrelated_tensor_is_refused_by_the_header_before_anything_is_read(tmp_path: Path) -> None:
    import time

    path = tmp_path / "huge.safetensors"
    _sparse_safetensors(path, "unrelated", 750_000_000)  # 3 GB: read whole, it took 5.9 GB and 18 s
    started = time.perf_counter()
    with pytest.raises(SpecError, match="nothing loaded") as info:
        read_checked(path, {"a.weight": ((4, 3), "float32")}, "numpy")
    assert time.perf_counter() - started < 2
    assert set(info.value.notes) == {"missing: a.weight (4, 3)", "unexpected: unrelated (750000000,)"}
    assert info.value.loc is not None and info.value.loc.file == str(path)


def test_a_header_over_the_bound_is_refused_before_the_library_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes((MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b"{}")
    for read in (lambda: read_checked(path, {}, "numpy"), lambda: WeightsFile(path, "numpy")):
        with pytest.raises(SpecError, match=r"its header says it is 16,777,217 bytes, over the limit"):
            read()


def test_a_panic_in_the_safetensors_library_is_a_spec_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy")
    import safetensors

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic: not an Exception
        pass

    def panics(*args: object, **kwargs: object) -> None:
        raise PanicException("called `Result::unwrap()` on an `Err` value: out of memory\nbacktrace ...")

    path = tmp_path / "w.safetensors"
    _sparse_safetensors(path, "a", 4)
    monkeypatch.setattr(safetensors, "safe_open", panics)
    with pytest.raises(SpecError, match=r"not a readable safetensors file: called `Result::unwrap\(\)`.*memory$"):
        read_checked(path, {"a": ((4,), "float32")}, "numpy")


def test_tensors_are_read_once_the_header_matches(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    from safetensors.numpy import save_file

    path = tmp_path / "w.safetensors"
    save_file({"a": np.arange(3, dtype=np.float32), "b": np.ones((2, 2), np.float16)}, str(path))
    with WeightsFile(path, "numpy") as file:
        assert file.described == {"a": ((3,), "float32"), "b": ((2, 2), "float16")}
    tensors = read_checked(path, {"a": ((3,), "float32"), "b": ((2, 2), "float16")}, "numpy")
    assert tensors["a"].tolist() == [0.0, 1.0, 2.0] and tensors["b"].dtype == np.float16
    with pytest.raises(SpecError, match="wrong dtype: b is float16, expected float32"):
        read_checked(path, {"a": ((3,), "float32"), "b": ((2, 2), "float32")}, "numpy")
