"""Every spec in specs/ builds; the real forward pass agrees with archspec's shapes and counts."""

from __future__ import annotations

import pytest
from torch_support import example_input

import archspec
from archspec import api
from archspec.ir import tensor_name

torch = pytest.importorskip("torch")


def _forward_shapes(model, report, x):
    """Output shape of every IR node that is a submodule (merges: the composite module)."""
    seen: dict[str, tuple[int, ...]] = {}
    modules = dict(model.named_modules())
    hooks = []
    for name in report.info:
        module = modules.get(name)
        if module is None:
            continue

        def record(_m, _inputs, output, name=name):
            seen[name] = tuple(output.shape)

        hooks.append(module.register_forward_hook(record))
    with torch.no_grad():
        out = model(x)
    for hook in hooks:
        hook.remove()
    return seen, out


def _static(shape, batch):
    return tuple(batch if isinstance(d, str) else d for d in shape)


def test_every_node_shape_matches_the_report(spec_path):
    torch.manual_seed(0)
    report = api.shapes(spec_path)
    model = archspec.build(spec_path).eval()
    x = example_input(report, batch=2)
    seen, out = _forward_shapes(model, report, x)
    modules = dict(model.named_modules())
    checked = 0
    for name, info in report.info.items():
        if name in modules:
            assert seen[name] == _static(info.output.shape, 2), name
            checked += 1
    # A param step is a parameter of the class around it, shaped as the report says.
    parameters = dict(model.named_parameters())
    held = [name for name in report.info if type(report.graph.node(name).op).arity == 0]
    assert all(tuple(parameters[name].shape) == report.info[name].output.shape for name in held), held
    checked += len(held)
    # Every other node is a merge of a DAG node (`add: {in: [bn2, downsample], do: add}`), or a
    # resize to another input's size, written as an expression in forward (`bn2 + downsample`,
    # `F.interpolate(x, size=input.shape[-2:])`): the modules before and after it are checked.
    inline = [name for name in report.info if name not in modules and name not in held]
    nodes = [report.graph.node(name) for name in inline]
    assert all(type(n.op).arity is None or len(n.inputs) > (type(n.op).arity or 0) for n in nodes), inline
    assert checked >= len(report.info) * 0.75
    outputs = out if report.graph.named_outputs else {name: out for name in report.outputs}  # {name: tensor}
    assert {name: tuple(t.shape) for name, t in outputs.items()} == {
        name: _static(t.shape, 2) for name, t in report.outputs.items()
    }


def test_parameter_count_matches_the_report(spec_path):
    report = api.shapes(spec_path)
    model = archspec.build(spec_path)
    assert sum(p.numel() for p in model.parameters()) == report.total_params


def test_state_dict_keys_are_the_canonical_names(spec_path):
    report = api.shapes(spec_path)
    model = archspec.build(spec_path)
    from archspec_torch import canonical_state

    expected = {
        tensor_name(node, name): tuple(shape)
        for node, info in report.info.items()
        for name, shape in (*info.params.items(), *info.buffers.items())
    }
    got = {k: tuple(v.shape) for k, v in canonical_state(model).items()}
    assert got == expected


def test_params_override_like_set():
    model = archspec.build("specs/googlenet.yaml", classes=7)
    assert model.head[1].out_features == 7


def test_batchnorm_update_rate_is_torch_momentum_and_train_mode_updates_unbiased():
    spec = {
        "archspec": 1,
        "name": "bn",
        "input": [4, 3, 5, 5],
        "network": ["batchnorm(update_rate=0.25)"],
    }
    model = archspec.build(spec)
    assert model[0].momentum == 0.25
    x = torch.randn(4, 3, 5, 5)
    model.train()
    model(x)
    unbiased = x.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True)
    assert torch.allclose(model[0].running_var, 0.75 + 0.25 * unbiased)


def test_dropout_is_identity_in_eval_mode():
    spec = {"archspec": 1, "name": "d", "input": ["N", 8], "network": ["dropout(0.5)"]}
    model = archspec.build(spec).eval()
    x = torch.randn(3, 8)
    assert torch.equal(model(x), x)


def test_asymmetric_padding_uses_f_pad():
    spec = {"archspec": 1, "name": "p", "input": ["N", 2, 8, 8], "network": ["conv(4, 2, padding='same')"]}
    emitted = archspec.emit(spec)
    assert "PaddedConv2d" in emitted.source and "F.pad" in emitted.source
    report = api.shapes(spec)
    model = archspec.build(spec).eval()
    x = torch.randn(1, 2, 8, 8)
    conv = model[0]
    reference = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 1, 0, 1)), conv.weight, conv.bias)
    assert torch.equal(model(x), reference)
    assert tuple(model(x).shape) == _static(report.output.shape, 1)


def test_maxpool_pads_with_minus_infinity():
    spec = {"archspec": 1, "name": "m", "input": ["N", 1, 4, 4], "network": ["maxpool(3, stride=1, padding=1)"]}
    model = archspec.build(spec).eval()
    x = -torch.ones(1, 1, 4, 4)
    assert torch.equal(model(x), x)  # zero padding would give 0 at the borders


def test_lowering_failure_is_a_bug_naming_the_node_not_a_spec_error(monkeypatch):
    from archspec_torch._lowering import LOWERINGS

    from archspec.backends import LoweringBug
    from archspec.ops.activation import Relu

    def broken(op, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(LOWERINGS._rules, Relu, broken)
    with pytest.raises(LoweringBug, match=r"torch backend failed to lower 'b1\.1' \(relu\): RuntimeError: boom"):
        archspec.build("specs/googlenet.yaml")


def test_missing_lowering_names_the_op_and_other_backends(monkeypatch):
    from archspec_torch._lowering import LOWERINGS

    from archspec.ops.activation import Relu

    monkeypatch.delitem(LOWERINGS._rules, Relu)
    with pytest.raises(archspec.SpecError, match=r"torch backend has no lowering for op 'relu' \(at b1\.1\)"):
        archspec.build("specs/googlenet.yaml")
