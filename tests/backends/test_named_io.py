"""Networks of several named inputs and outputs, and of integer inputs, on every backend: the
emitted forward takes the inputs by name and returns ``{name: tensor}``; the ONNX graph has
those inputs and outputs; parity feeds each input its own data and compares every output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import archspec
from archspec.backends import get_backend
from archspec.parity import parity

TWO_HEADS = {
    "archspec": 1,
    "name": "two_heads",
    "inputs": {"image": ["N", 3, 8, 8], "mask": {"shape": ["N", 1, 8, 8]}},
    "outputs": ["out", "aux"],
    "network": {
        "dag": {
            "joined": {"in": ["image", "mask"], "do": "concat"},
            "stem": "conv(8, 3, padding=1) -> batchnorm -> relu",
            "aux": "global_avgpool -> flatten -> linear(3)",
            "out": {"in": ["stem"], "do": "conv(2, 1) -> upsample(scale=2, mode=bilinear)"},
        }
    },
}
#: Token ids beside a float input: the ids pass through (no op here reads them as indices).
IDS = {
    "archspec": 1,
    "name": "ids",
    "inputs": {"ids": {"shape": ["N", 6], "dtype": "int64"}, "x": ["N", 6]},
    "outputs": ["tokens", "y"],
    "network": {"dag": {"tokens": {"in": ["ids"], "do": "reshape([0, 2, 3])"}, "y": {"in": ["x"], "do": "linear(4)"}}},
}


def _inputs(batch: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "image": rng.standard_normal((batch, 3, 8, 8)).astype(np.float32),
        "mask": rng.standard_normal((batch, 1, 8, 8)).astype(np.float32),
    }


def test_the_torch_forward_takes_the_inputs_by_name_and_returns_the_outputs_as_a_dict() -> None:
    torch = pytest.importorskip("torch")
    source = archspec.emit(TWO_HEADS, backend="torch").source
    assert "def forward(self, image: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:" in source
    assert 'return {"out": out, "aux": aux}' in source
    model = archspec.build(TWO_HEADS, backend="torch").eval()
    xs = {k: torch.from_numpy(v) for k, v in _inputs().items()}
    with torch.no_grad():
        outputs = model(**xs)
    assert list(outputs) == ["out", "aux"]
    assert outputs["out"].shape == (2, 2, 16, 16) and outputs["aux"].shape == (2, 3)


def test_the_flax_call_takes_nchw_inputs_and_returns_nchw_outputs_by_name() -> None:
    pytest.importorskip("flax")
    source = archspec.emit(TWO_HEADS, backend="flax").source
    assert "def __call__(self, image: jax.Array, mask: jax.Array) -> dict[str, jax.Array]:" in source
    model = archspec.build(TWO_HEADS, backend="flax")
    model.eval()
    outputs = model(*_inputs().values())
    assert outputs["out"].shape == (2, 2, 16, 16) and outputs["aux"].shape == (2, 3)


def test_the_onnx_graph_has_the_named_inputs_and_outputs() -> None:
    pytest.importorskip("onnxruntime")
    import onnx

    model = archspec.build(TWO_HEADS, backend="onnx")
    graph = model.model.graph
    assert [i.name for i in graph.input] == ["image", "mask"]
    assert [o.name for o in graph.output] == ["out", "aux"]
    onnx.checker.check_model(model.model, full_check=True)
    xs = _inputs()
    by_position, by_name = model(xs["image"], xs["mask"]), model(mask=xs["mask"], image=xs["image"])
    assert list(by_position) == ["out", "aux"]
    assert all(np.array_equal(by_position[k], by_name[k]) for k in by_position)


def test_the_onnx_model_refuses_a_missing_input() -> None:
    pytest.importorskip("onnxruntime")
    from archspec.errors import SpecError

    with pytest.raises(SpecError, match="takes 2 input"):
        archspec.build(TWO_HEADS, backend="onnx")(_inputs()["image"])


@pytest.mark.parametrize("backend", ["torch", "flax", "onnx"])
def test_every_backend_runs_and_returns_each_output(backend: str) -> None:
    pytest.importorskip({"torch": "torch", "flax": "flax", "onnx": "onnxruntime"}[backend])
    run = get_backend(backend).run(archspec.build(TWO_HEADS, backend=backend), _inputs())
    assert list(run.outputs) == ["out", "aux"]
    with pytest.raises(ValueError, match="2 outputs"):
        run.output  # noqa: B018  (no one output to give)


def test_parity_compares_every_output_in_eval_mode() -> None:
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    report = parity(TWO_HEADS, ("torch", "flax", "onnx"))
    assert report.ok, report.to_dict()
    assert report.input_shapes == {"image": (2, 3, 8, 8), "mask": (2, 1, 8, 8)}
    outputs = {(r.backend, r.name) for r in report.rows if r.kind == "output"}
    assert outputs == {(b, o) for b in ("flax", "onnx") for o in ("out", "aux")}


def test_parity_compares_the_gradients_of_every_input_in_train_mode() -> None:
    pytest.importorskip("flax")
    report = parity(TWO_HEADS, ("torch", "flax"), mode="train", grad=True)
    assert report.ok, report.to_dict()
    assert {"image", "mask"} <= {r.name for r in report.rows if r.kind == "grad"}


def test_integer_inputs_get_integer_data_and_no_gradient() -> None:
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    import onnx

    model = archspec.build(IDS, backend="onnx").model
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert parity(IDS, ("torch", "flax", "onnx")).ok
    report = parity(IDS, ("torch", "flax"), mode="train", grad=True)
    assert report.ok, report.to_dict()
    grads = {r.name for r in report.rows if r.kind == "grad"}
    assert "x" in grads and "ids" not in grads  # token ids have no gradient


def test_parity_draws_integer_inputs_below_the_bound_of_the_ops_that_index_with_them(monkeypatch) -> None:
    from archspec import parity as parity_module
    from archspec.ops.tensor import Reshape

    monkeypatch.setattr(Reshape, "index_bound", lambda self: 3)  # as an embedding of 3 rows would
    drawn = parity_module.draw_input(archspec.to_graph(IDS), (64, 6), np.random.default_rng(0), name="ids")
    assert drawn.dtype == np.int64 and drawn.min() == 0 and drawn.max() == 2


def test_the_cli_takes_each_named_input(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from archspec.cli.main import app

    spec = tmp_path / "two_heads.yaml"
    spec.write_text(yaml.safe_dump(TWO_HEADS, sort_keys=False))
    result = CliRunner().invoke(app, ["shapes", str(spec), "--input", "image=1x3x4x4", "--input", "mask=1x1x4x4"])
    assert result.exit_code == 0, result.output
    assert "two_heads  inputs image [1, 3, 4, 4], mask [1, 1, 4, 4]" in result.output
    assert "-> output 'aux'" in result.output and "-> output 'out'" in result.output
    unnamed = CliRunner().invoke(app, ["shapes", str(spec), "--input", "1x3x4x4", "--input", "mask=1x1x4x4"])
    assert unnamed.exit_code == 2 and "each is NAME=SHAPE" in unnamed.output
