"""Weights files from strangers: every broken file is one located SpecError, and the module is untouched.

Extends tests/backends/torch/test_torch_weights.py (which covers the round trip, one report of
missing/unexpected/misshapen/mistyped tensors, and torch.save output) with truncated files,
corrupt headers, pickles that would run code, a directory, and torch's own counters in the
file; and checks that saving is atomic.
"""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import pytest
from torch_support import randomise

import archspec

torch = pytest.importorskip("torch")
from archspec_torch import backend, canonical_state  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

SPEC = "specs/lenet_bn.yaml"


@pytest.fixture
def model():
    module = archspec.build(SPEC)
    randomise(module, seed=1)
    return module


@pytest.fixture
def good(tmp_path, model) -> Path:
    other = archspec.build(SPEC)
    randomise(other, seed=2)
    path = tmp_path / "good.safetensors"
    backend.save_weights(other, path)
    return path


def _refused(module, path: Path) -> archspec.SpecError:
    """Loading ``path`` into ``module`` is a SpecError located at the file, and changes nothing."""
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(archspec.SpecError) as info:
        backend.load_weights(module, path)
    after = module.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before), "the module was changed"
    assert info.value.loc is not None and info.value.loc.file == str(path)
    return info.value


def _header(tensors: dict, metadata: dict | None = None) -> bytes:
    header = dict(tensors)
    if metadata is not None:
        header["__metadata__"] = metadata
    return json.dumps(header).encode()


def _file(path: Path, header: bytes, data: bytes = b"") -> Path:
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


@pytest.mark.parametrize("keep", [0, 4, 8, 20, 0.5, -4])
def test_truncated_files(model, good, tmp_path, keep) -> None:
    data = good.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(data) + keep)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[:cut])
    assert "is not a readable safetensors file" in _refused(model, path).message


@pytest.mark.parametrize(
    "make",
    [
        lambda p: _file(p, b"", b""),  # empty header
        lambda p: p.write_bytes(struct.pack("<Q", 2**62) + b"{}"),  # header length far past the end
        lambda p: p.write_bytes(struct.pack("<Q", 10**8 - 1) + b"{" * 64),  # large header, truncated
        lambda p: _file(p, b"not json at all"),
        lambda p: _file(p, b'{"a": 1}'),  # a tensor entry that is not one
        lambda p: _file(p, _header({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}), bytes(4)),
        lambda p: _file(p, _header({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}), bytes(8)),
        lambda p: _file(p, _header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}), bytes(8)),
        lambda p: _file(p, _header({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}), bytes(4)),
        lambda p: _file(
            p,
            _header(
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},  # overlapping
                }
            ),
            bytes(12),
        ),
        lambda p: _file(p, b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {}}', bytes(4)),
        lambda p: _file(p, _header({}, metadata={"format": 3})),
        lambda p: _file(p, "\ufeff{}".encode()),
    ],
    ids=[
        "empty-header",
        "header-length-past-end",
        "huge-header",
        "header-not-json",
        "entry-not-a-tensor",
        "unknown-dtype",
        "data-past-end",
        "offsets-backwards",
        "negative-shape",
        "overlapping-tensors",
        "duplicate-names",
        "bad-metadata",
        "bom",
    ],
)
def test_corrupt_headers(model, tmp_path, make) -> None:
    path = tmp_path / "corrupt.safetensors"
    make(path)
    error = _refused(model, path)
    assert "is not a readable safetensors file" in error.message or "do not match the network" in error.message


class _Payload:
    """Unpickling this creates a file: the proof that a loader unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kind", ["pickle", "torch.save"])
def test_pickles_are_never_unpickled(model, tmp_path, kind) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / f"w.{kind}"
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"0.weight": _Payload(marker)}))
    else:
        torch.save({"0.weight": _Payload(marker)}, path)
    error = _refused(model, path)
    assert "torch.save (pickle) output" in (error.hint or "")
    assert not marker.exists()


def test_a_directory_and_a_missing_file(model, tmp_path) -> None:
    assert "is not a regular file" in _refused(model, tmp_path).message
    assert "does not exist" in _refused(model, tmp_path / "nope.safetensors").message


def test_every_problem_is_named_in_one_error(model, tmp_path) -> None:
    tensors = {k: v.clone() for k, v in canonical_state(model).items()}
    del tensors["0.bias"], tensors["1.running_var"]
    tensors["4.weight"] = torch.zeros(16, 6, 5, 4)
    tensors["1.weight"] = tensors["1.weight"].half()
    tensors["15.bias"] = tensors["15.bias"].to(torch.int64)
    tensors["stray"] = torch.zeros(1)
    path = tmp_path / "bad.safetensors"
    save_file(tensors, str(path))
    error = _refused(model, path)
    assert "6 problems, nothing loaded" in error.message
    assert len(error.notes) == 6
    text = "\n".join(error.notes)
    for fragment in ("missing: 0.bias", "missing: 1.running_var", "unexpected: stray", "wrong shape: 4.weight",
                     "wrong dtype: 1.weight is float16", "wrong dtype: 15.bias is int64"):  # fmt: skip
        assert fragment in text


def test_torch_counters_in_the_file_are_ignored_whatever_their_shape(model, tmp_path) -> None:
    tensors = {k: v.clone() for k, v in canonical_state(model).items()}
    tensors["1.num_batches_tracked"] = torch.zeros(3, 3)  # load_state_dict would fail half-way on it
    tensors["0.num_batches_tracked"] = torch.tensor(5)  # conv has no such buffer
    path = tmp_path / "counters.safetensors"
    save_file(tensors, str(path))
    fresh = archspec.build(SPEC)
    backend.load_weights(fresh, path)
    assert all(torch.equal(v, canonical_state(fresh)[k]) for k, v in canonical_state(model).items())


def test_the_cli_reports_a_broken_weights_file_and_writes_nothing(good, tmp_path, monkeypatch, capsys) -> None:
    from archspec.cli.main import main

    out = tmp_path / "model.py"
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(good.read_bytes()[:100])
    monkeypatch.setattr("sys.argv", ["archspec", "compile", SPEC, "-o", str(out), "--weights", str(broken)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code, err = exit_info.value.code, capsys.readouterr().err
    assert code == 1 and f"{broken}: error: {broken} is not a readable safetensors file" in err
    assert "Traceback" not in err and not out.exists()


def test_saving_is_atomic(model, good, tmp_path, monkeypatch) -> None:
    """A failure half-way through writing leaves the old file as it was and no temporary file."""
    import safetensors.torch

    original = good.read_bytes()

    def half_then_fail(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", half_then_fail)
    with pytest.raises(archspec.SpecError, match=r"cannot write .*No space left on device") as info:
        backend.save_weights(model, good)
    assert info.value.loc is not None and info.value.loc.file == str(good)
    assert good.read_bytes() == original
    assert sorted(p.name for p in good.parent.iterdir()) == ["good.safetensors"]
