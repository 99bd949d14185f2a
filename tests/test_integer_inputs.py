"""Networks over integer ids: the spec's ``input: {shape: [N, T], dtype: int64}``, the dtype in
the IR, the ops that take ids and those that refuse them, and the ids that parity, the op table
and the backends feed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import archspec
from archspec.api import to_graph
from archspec.errors import SpecError
from archspec.parity import INTEGER_INPUT_BOUND, draw_input, parity


def _spec(network: Any, shape: list[int | str] | None = None, dtype: str | None = "int64") -> dict[str, Any]:
    declared: Any = shape or ["N", 6]
    if dtype is not None:
        declared = {"shape": declared, "dtype": dtype}
    return {"archspec": 1, "name": "ids", "input": declared, "network": network}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ids.yaml"
    path.write_text(text)
    return path


def test_the_dtype_is_declared_beside_the_shape_and_the_shorthand_means_float32() -> None:
    assert to_graph(_spec("embedding(9, 4)")).input.dtype == "int64"
    assert to_graph(_spec("linear(4)", dtype=None)).input.dtype == "float32"
    assert to_graph(_spec("linear(4)", dtype="float32")).input.dtype == "float32"


def test_an_input_shape_override_keeps_the_declared_dtype() -> None:
    report = archspec.shapes(_spec("embedding(9, 4)"), input_shape=[3, 11])
    assert report.graph.input.dtype == "int64"
    assert str(report.output) == "[3, 11, 4]"


def test_an_unknown_dtype_is_located_at_its_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "archspec: 1\nname: ids\ninput: {shape: [N, 8], dtype: int32}\nnetwork: embedding(4, 3)\n")
    with pytest.raises(SpecError, match=r"input\.dtype") as caught:
        archspec.shapes(str(path))
    assert (caught.value.loc.line, caught.value.loc.column) == (3, 31)
    assert "'float32' or 'int64'" in caught.value.message


def test_an_op_on_real_values_refuses_ids_at_its_step_pointing_at_embedding(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "archspec: 1\nname: ids\ninput: {shape: [N, 8], dtype: int64}\nnetwork:\n  proj: linear(4)\n"
    )
    with pytest.raises(SpecError, match=r"linear computes on real values, but its input \[N, 8\] holds") as caught:
        archspec.shapes(str(path))
    assert (caught.value.loc.line, caught.value.loc.column) == (5, 9)
    assert caught.value.found == "int64 [N, 8]"
    assert "embedding(num, dim)" in (caught.value.hint or "")


def test_embedding_refuses_real_values_pointing_at_the_declaration_and_at_linear() -> None:
    with pytest.raises(SpecError, match="embedding looks vectors up by integer ids") as caught:
        archspec.shapes(_spec("embedding(9, 4)", dtype=None))
    assert "dtype: int64" in (caught.value.hint or "") and "linear(dim)" in (caught.value.hint or "")


@pytest.mark.parametrize("layer", ["identity", "select(1, 0)", "reshape([0, 3, 2])", "flatten", "permute([0, 1])"])
def test_ops_that_only_move_values_keep_ids(layer: str) -> None:
    assert archspec.shapes(_spec(layer)).output.dtype == "int64"


def test_positions_are_ids_too_so_they_feed_an_embedding_and_nothing_real() -> None:
    assert archspec.shapes(_spec("positions -> embedding(6, 3)")).output.dtype == "float32"
    with pytest.raises(SpecError, match="relu computes on real values"):
        archspec.shapes(_spec("embedding(9, 4) -> positions -> relu"))


def test_ids_are_drawn_below_every_embeddings_size() -> None:
    rng = np.random.default_rng(0)
    graph = to_graph(_spec({"dag": {"a": "embedding(50, 4)", "b": {"in": ["input"], "do": "embedding(7, 4)"}}}))
    ids = draw_input(graph, (64, 6), rng)
    assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() == 6
    free = draw_input(to_graph(_spec("positions")), (64, 6), rng)
    assert free.dtype == np.int64 and free.max() < INTEGER_INPUT_BOUND


def test_parity_over_ids_runs_in_float32_only() -> None:
    with pytest.raises(SpecError, match="a float64 run needs real-valued input; this network takes int64 ids"):
        parity(_spec("embedding(9, 4)"), ("torch", "flax"), dtype="float64")


def test_the_onnx_model_declares_int64_ids_and_refuses_real_input(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    spec = _spec({"embed": "embedding(9, 4)", "attn": "attention(4, 2, causal=true)"}, ["N", "T"])
    model = archspec.build(spec, backend="onnx")
    checked = onnx.shape_inference.infer_shapes(model.model, check_type=True, strict_mode=True)
    onnx.checker.check_model(checked, full_check=True)
    (declared,) = checked.graph.input
    assert declared.type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param for d in declared.type.tensor_type.shape.dim] == ["N", "T"]
    assert model(np.array([[1, 2, 3]])).shape == (1, 3, 4)  # a symbolic length stays symbolic
    with pytest.raises(SpecError, match="takes int64 input, not float32"):
        model(np.zeros((1, 3), np.float32))


def test_the_cli_says_the_input_holds_ids(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from archspec.cli.main import app

    path = _write(tmp_path, "archspec: 1\nname: ids\ninput: {shape: [N, 8], dtype: int64}\nnetwork: embedding(4, 3)\n")
    result = CliRunner().invoke(app, ["shapes", str(path)])
    assert result.exit_code == 0, result.output
    assert "input [N, 8] int64 ids" in result.output
    result = CliRunner().invoke(app, ["parity", str(path), "--backends", "torch,onnx"])
    assert result.exit_code == 0, result.output
