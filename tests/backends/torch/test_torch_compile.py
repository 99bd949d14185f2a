"""The compiled module is a plain nn.Module: dynamo sees no graph breaks, jit.trace works."""

from __future__ import annotations

import pytest
from torch_support import example_input

import archspec
from archspec import api

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("spec", ["specs/googlenet.yaml", "specs/resnet18.yaml"])
def test_dynamo_reports_no_graph_breaks(spec):
    report = api.shapes(spec)
    model = archspec.build(spec).eval()
    x = example_input(report, batch=1)
    explanation = torch._dynamo.explain(model)(x)
    assert explanation.graph_break_count == 0
    assert explanation.graph_count == 1


@pytest.mark.filterwarnings("ignore:`torch.jit.trace.*is deprecated:DeprecationWarning")
def test_jit_trace_matches_eager():
    report = api.shapes("specs/inception_small.yaml")
    model = archspec.build("specs/inception_small.yaml").eval()
    x = example_input(report, batch=1)
    with torch.no_grad():
        traced = torch.jit.trace(model, x)
        assert torch.equal(traced(x), model(x))
