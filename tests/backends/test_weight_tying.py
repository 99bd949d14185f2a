"""Weight tying (``linear(..., tie=step)``): one parameter used by two steps, counted and saved
once under its owner's name, one tensor in every backend, so gradients from both uses meet in it;
and the located errors of a tie that cannot hold."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import archspec
from archspec.backends import get_backend
from archspec.errors import SpecError
from archspec.parity import draw_weights

#: Token ids → embedding → layer norm → logits by the embedding's own table (GPT-2's head).
TIED: dict[str, Any] = {
    "archspec": 1,
    "name": "tied",
    "input": {"shape": ["N", 6], "dtype": "int64"},
    "network": {
        "transformer": {"wte": "embedding(20, 8)", "ln_f": "layernorm"},
        "lm_head": 'linear(20, bias=false, tie="transformer.wte")',
    },
}


def _with_head(head: str) -> dict[str, Any]:
    return {**TIED, "network": {**TIED["network"], "lm_head": head}}


def _ids() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 20, (3, 6))


def test_a_tied_weight_is_counted_once_under_its_owners_name() -> None:
    report = archspec.shapes(TIED)
    assert report.total_params == 20 * 8 + 2 * 8
    assert report.info["lm_head"].params == {}
    assert report.info["lm_head"].tied["weight"].canonical == "transformer.wte.weight"
    assert report.info["lm_head"].macs == 6 * 20 * 8  # it still multiplies by the table
    assert "lm_head.weight" not in draw_weights(report)


@pytest.mark.parametrize(
    ("head", "message", "hint"),
    [
        ('linear(20, bias=false, tie="transformer.wt")', "which is no step of this network", "transformer.wte"),
        ('linear(20, bias=false, tie="transformer")', "which is a group of layers", "the one layer inside it"),
        ('linear(8, bias=false, tie="transformer.wte")', r"needs its weight as \[8, 8\].*is \[20, 8\]", "rows"),
        ('linear(20, bias=false, tie="lm_head")', "which is itself", "the step that owns the weight"),
    ],
)
def test_a_tie_that_cannot_hold_is_a_located_error(head: str, message: str, hint: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        archspec.shapes(_with_head(head))
    assert hint in (caught.value.hint or "")


def test_a_tie_to_a_later_step_is_refused() -> None:
    spec = {
        **TIED,
        "input": ["N", 6, 8],
        "network": {"lm_head": 'linear(20, bias=false, tie="later")', "later": "linear(8)"},
    }
    with pytest.raises(SpecError, match="which is a later step") as caught:
        archspec.shapes(spec)
    assert "swap them" in (caught.value.hint or "")


def test_torch_holds_one_parameter_and_both_uses_reach_its_gradient() -> None:
    torch = pytest.importorskip("torch")
    model = archspec.build(TIED, backend="torch")
    assert model.lm_head.weight is model.transformer.wte.weight
    assert sum(p.numel() for p in model.parameters()) == archspec.shapes(TIED).total_params
    ids = torch.as_tensor(_ids())
    model(ids).square().sum().backward()
    table = model.transformer.wte.weight
    # the same loss with the two uses as separate tensors: the tied gradient is their sum
    lookup, head = table.detach().clone().requires_grad_(), table.detach().clone().requires_grad_()
    logits = torch.nn.functional.linear(model.transformer.ln_f(torch.nn.functional.embedding(ids, lookup)), head)
    logits.square().sum().backward()
    assert lookup.grad.abs().sum() > 0 and head.grad.abs().sum() > 0
    torch.testing.assert_close(table.grad, lookup.grad + head.grad)


def test_flax_holds_one_variable_and_both_uses_reach_its_gradient(tmp_path: Path) -> None:
    pytest.importorskip("archspec_flax")
    torch = pytest.importorskip("torch")
    import jax.numpy as jnp
    from flax import nnx

    torch_model = archspec.build(TIED, backend="torch")
    get_backend("torch").save_weights(torch_model, tmp_path / "w.safetensors")
    flax_model = archspec.build(TIED, backend="flax", weights=tmp_path / "w.safetensors")
    assert flax_model.lm_head.weight is flax_model.transformer.wte.embedding
    ids = _ids()
    grads = nnx.grad(lambda model: jnp.square(model(jnp.asarray(ids))).sum())(flax_model)
    torch_model(torch.as_tensor(ids)).square().sum().backward()
    # NNX lists a shared variable once, under the first path it meets (here lm_head.weight)
    shared = grads["lm_head"]["weight"][...]
    np.testing.assert_allclose(
        np.asarray(shared), torch_model.transformer.wte.weight.grad.numpy(), rtol=1e-4, atol=1e-4
    )


def test_onnx_has_one_initializer_for_the_tied_table(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("archspec_onnx")
    graph_report = archspec.shapes(TIED)
    get_backend("onnx").export(graph_report.graph, graph_report, tmp_path / "tied.onnx")
    names = [i.name for i in onnx.load(str(tmp_path / "tied.onnx")).graph.initializer]
    assert "transformer.wte.weight" in names and not any(n.startswith("lm_head") for n in names)


def test_compiled_source_loads_canonical_weights_into_a_tied_model(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from archspec_torch import backend

    report = archspec.shapes(TIED)
    model = archspec.build(TIED, backend="torch")
    backend.save_weights(model, tmp_path / "w.safetensors")
    backend.export(report.graph, report, tmp_path / "tied_model.py", weights=tmp_path / "w.safetensors")
    spec = importlib.util.spec_from_file_location("tied_model", tmp_path / "tied_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tied_model"] = module
    try:
        spec.loader.exec_module(module)
        loaded = module.load_weights(module.Tied())
    finally:
        del sys.modules["tied_model"]
    assert loaded.lm_head.weight is loaded.transformer.wte.weight
    torch.testing.assert_close(loaded.lm_head.weight, model.transformer.wte.weight, rtol=0, atol=0)


def test_tie_is_given_by_keyword_only() -> None:
    with pytest.raises(SpecError, match="unknown argument 'tei'") as caught:
        archspec.shapes(_with_head('linear(20, bias=false, tei="transformer.wte")'))
    assert caught.value.hint == "did you mean 'tie'?"
    assert caught.value.expected == "linear(out_features, bias, *, tie)"


#: The owner inside a list: torch finds it with get_submodule, flax through nnx.Sequential's layers.
TIED_IN_A_LIST: dict[str, Any] = {
    **TIED,
    "name": "tied_in_a_list",
    "network": {"embed": ["embedding(20, 8)", "layernorm"], "lm_head": 'linear(20, bias=false, tie="embed.0")'},
}


#: A network that is one list: the ties follow its ``super().__init__(...)``.
TIED_LIST: dict[str, Any] = {
    **TIED,
    "name": "tied_list",
    "network": ["embedding(20, 8)", "layernorm", 'linear(20, bias=false, tie="0")'],
}


@pytest.mark.parametrize("spec", [TIED, TIED_IN_A_LIST, TIED_LIST], ids=lambda spec: spec["name"])
def test_every_backend_agrees_on_a_tied_network(spec: dict[str, Any]) -> None:
    from archspec.parity import parity

    pytest.importorskip("archspec_flax")
    pytest.importorskip("onnxruntime")
    report = parity(spec, ("torch", "flax", "onnx"), grad=True, batch=3)
    failed = [row for row in report.rows if not row.ok]
    assert report.ok and not failed, failed


def test_the_owner_inside_a_list_is_the_one_tensor() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("archspec_flax")
    torch_model = archspec.build(TIED_IN_A_LIST, backend="torch")
    assert torch_model.lm_head.weight is torch_model.embed[0].weight
    flax_model = archspec.build(TIED_IN_A_LIST, backend="flax")
    assert flax_model.lm_head.weight is flax_model.embed.layers[0].embedding
    listed = archspec.build(TIED_LIST, backend="torch")
    assert listed[2].weight is listed[0].weight


def test_a_tie_to_a_step_without_that_parameter_says_what_it_has() -> None:
    spec = {
        **TIED,
        "network": {"wte": "embedding(20, 8)", "act": "gelu", "lm_head": 'linear(20, bias=false, tie="act")'},
    }
    with pytest.raises(SpecError, match="'act' has no parameter 'weight'") as caught:
        archspec.shapes(spec)
    assert caught.value.found == "gelu with no parameters"


def test_the_shape_table_and_its_json_name_each_tie() -> None:
    from archspec.cli.render import shape_table_text

    report = archspec.shapes(TIED)
    assert "tied:          lm_head.weight is transformer.wte.weight (one tensor, counted once)" in str(
        shape_table_text(report, None)
    )
    assert report.to_dict()["tied"] == {"lm_head.weight": "transformer.wte.weight"}
    any_length = archspec.shapes(TIED, input_shape=["N", "T"])
    assert any_length.total_macs == 20 * 8 + 2 * 8  # the length T counts as 1, as the batch does
    assert "(176, per sample, T = 1;" in str(shape_table_text(any_length, None))
