"""A DAG node reading a numbered step of an earlier list (``in: [body.1]``) and nodes there only
when their ``if`` holds, on every backend: the generated forward runs the list once, in slices
(torch's ``self.body[:2](x)``, Flax's loops over ``self.body.layers``), ONNX reads the value the
flat graph has, and parity holds for every output, stage and gradient, eval and train."""

from __future__ import annotations

import pytest

import archspec
from archspec.parity import parity, stages

#: The step read (body.1) is also the input of an in-place ReLU (body.2), which must not
#: overwrite it: the auxiliary head reads it afterwards.
TAPPED = {
    "archspec": 1,
    "name": "tapped",
    "input": ["N", 3, 16, 16],
    "params": {"aux_loss": True},
    "outputs": ["out", "aux"],
    "network": {
        "dag": {
            "body": [
                "conv(8, 3, padding=1) -> batchnorm",
                "conv(8, 3, stride=2, padding=1)",
                "relu",
                "conv(16, 3, stride=2, padding=1)",
                "relu",
            ],
            "out": "global_avgpool -> flatten -> linear(4)",
            "aux_head": {"if": "aux_loss", "in": ["body.1"], "do": "conv(4, 1) -> batchnorm"},
            "aux": {"if": "aux_loss", "in": ["aux_head"], "do": "upsample(scale=2, mode=bilinear)"},
        }
    },
}


def test_the_torch_forward_runs_the_list_once_in_slices() -> None:
    torch = pytest.importorskip("torch")
    source = archspec.emit(TAPPED, backend="torch").source
    assert "body_1 = self.body[:2](x)\n        body = self.body[2:](body_1)\n" in source
    assert "aux_head = self.aux_head(body_1)" in source
    model = archspec.build(TAPPED, backend="torch").eval()
    calls: list[str] = []
    for name in ("body.0", "body.1", "body.3"):
        model.get_submodule(name).register_forward_hook(lambda *_, name=name: calls.append(name))
    with torch.no_grad():
        outputs = model(torch.randn(2, 3, 16, 16))
    assert calls == ["body.0", "body.1", "body.3"]  # each step once
    assert list(outputs) == ["out", "aux"] and outputs["aux"].shape == (2, 4, 16, 16)


def test_the_flax_call_runs_the_layers_in_slices() -> None:
    source = archspec.emit(TAPPED, backend="flax").source
    assert (
        "body_1 = x\n        for layer in self.body.layers[:2]:\n            body_1 = layer(body_1)\n"
        "        body = body_1\n        for layer in self.body.layers[2:]:\n            body = layer(body)\n"
    ) in source


def test_without_the_condition_the_head_and_its_output_are_not_written() -> None:
    source = archspec.emit(TAPPED, backend="torch", params={"aux_loss": False}).source
    assert "aux" not in source.replace("aux_loss", "") and "self.body(x)" in source
    assert 'return {"out": out}' in source


def test_parity_stages_capture_the_last_step_of_a_list_run_in_slices() -> None:
    assert stages(archspec.to_graph(TAPPED))[0] == "body.4"
    assert stages(archspec.to_graph(TAPPED, params={"aux_loss": False}))[0] == "body"


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_parity_on_every_backend(mode: str) -> None:
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    report = parity(TAPPED, ("torch", "flax", "onnx") if mode == "eval" else ("torch", "flax"), mode=mode, grad=True)
    assert report.ok, report.to_dict()
    outputs = {r.name for r in report.rows if r.kind == "output"}
    assert outputs == {"out", "aux"}


def test_a_list_that_starts_by_merging_its_inputs_is_sliced_after_the_merge() -> None:
    pytest.importorskip("flax")
    pytest.importorskip("onnxruntime")
    spec = {
        "archspec": 1,
        "name": "merged",
        "inputs": {"a": ["N", 3, 8, 8], "b": ["N", 2, 8, 8]},
        "outputs": ["y", "side"],
        "network": {
            "dag": {
                "body": {"in": ["a", "b"], "do": ["concat", "conv(8, 1)", "relu", "conv(4, 1)"]},
                "y": "global_avgpool",
                "side": {"in": ["body.1"], "do": "conv(2, 1)"},
            }
        },
    }
    source = archspec.emit(spec, backend="torch").source
    assert "body_1 = self.body[:2](torch.cat([a, b], dim=1))\n        body = self.body[2:](body_1)\n" in source
    report = parity(spec, ("torch", "flax", "onnx"))
    assert report.ok, report.to_dict()
