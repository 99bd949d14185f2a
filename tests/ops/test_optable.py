"""Every op x every installed backend, against a torch.nn.functional reference, through one helper.

Each case of ``optable_cases.py`` becomes a one-op spec (an in-memory dict). Its canonical
weights are drawn once, seeded (:func:`archspec.parity.draw_weights`), and loaded into every
backend through :func:`archspec.build`; the same weights, in the same PyTorch layouts, feed the
reference of ``optable_reference.py``. For each backend the helper then compares, in this order:

* the output shape with :func:`archspec.shapes` and with the reference;
* the output dtype with the input's (float32, or float64 where the case says so; ids for an op
  that gives ids, compared exactly);
* the values, within ``rtol = atol = 1e-5`` in float32 (1e-9 in float64);
* the running statistics after the pass (updated in train mode, untouched in eval mode);
* the gradients of ``sum(output * cotangent)`` w.r.t. the input and every parameter, from the
  backend's ``run(..., cotangent=...)``, against ``torch.autograd`` through the reference.

A backend that cannot do something by design (onnxruntime: no gradients, eval mode and float32
only) is not asked to. Meta-tests hold the table to the op registry: a registered op without
cases, or a backend without a lowering for a registered op, fails a test that names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

from optable_cases import CASES, CHANNELS_LAST, MERGES, Case, Network, parse_call  # noqa: E402
from optable_reference import REFERENCES, Site  # noqa: E402

import archspec  # noqa: E402
from archspec.backends import Backend, backend_entry_points, get_backend  # noqa: E402
from archspec.errors import SpecError  # noqa: E402
from archspec.infer import ShapeReport  # noqa: E402
from archspec.ir import tensor_name  # noqa: E402
from archspec.ops import REGISTRY  # noqa: E402
from archspec.parity import draw_input, draw_weights  # noqa: E402

SEED = 0

#: float32: rounding of the few dozen products and sums behind each value (frameworks sum in
#: different orders) is ~1e-7 relative, well inside 1e-5; a lowering bug is O(1). The inputs and
#: weights are float32 values in both dtypes, so float64 differences are rounding alone (~1e-15).
TOLERANCES = {"float32": 1e-5, "float64": 1e-9}

#: What a backend's run() refuses by design (a SpecError); the table does not ask for it.
NO_GRADIENTS = {"onnx": "onnxruntime computes no gradients"}
EVAL_ONLY = {"onnx": "an onnx model runs in eval mode only"}
FLOAT32_ONLY = {"onnx": "an onnx model is float32"}

BACKENDS = sorted(backend_entry_points())


# ------------------------------------------------------------------ the reference
@dataclass(frozen=True)
class Expected:
    """One case's spec (batch ``N``), its shapes at the case's batch, weights file, input and
    cotangent, and the reference's results."""

    spec: dict[str, Any]
    report: ShapeReport
    weights: Path
    x: np.ndarray
    cotangent: np.ndarray | None
    output: np.ndarray
    state: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]


def evaluate(network: Network, x: Any, weights: dict[str, Any], train: bool) -> Any:
    """The reference output of a one-op network: the call, or the merge of its single-call branches.

    ``weights`` are canonical names (``conv.weight``, ``branch1.weight``) to tensors; each node
    sees its own by local name.
    """
    if isinstance(network, str):
        return _call(network, [x], weights, parse_call(network)[0], train)
    merge = next(key for key in network if key in MERGES)
    branches = [_call(branch, [x], weights, f"branch{i}", train) for i, branch in enumerate(network[merge], 1)]
    options = {key: value for key, value in network.items() if key != merge}
    return REFERENCES[merge](Site(branches, train=train), **options)


def _call(text: str, inputs: list[Any], weights: dict[str, Any], node: str, train: bool) -> Any:
    op, args, kwargs = parse_call(text)
    own = {  # a param's own tensor is the node's name itself: local name ""
        name.removeprefix(node).removeprefix("."): value
        for name, value in weights.items()
        if name == node or name.startswith(f"{node}.")
    }
    return REFERENCES[op](Site(inputs, own, train), *args, **kwargs)


_EXPECTED: dict[str, Expected] = {}


def expected(case: Case, folders: pytest.TempPathFactory) -> Expected:
    """``case``'s weights, inputs and reference results, made once and shared by every backend."""
    if case.id in _EXPECTED:
        return _EXPECTED[case.id]
    spec = case.spec()
    report = archspec.shapes(spec, input_shape=list(case.shape))  # the shapes of this run's tensors
    weights = draw_weights(report, SEED)
    path = folders.mktemp(case.op) / "weights.safetensors"
    safetensors_numpy.save_file(weights, str(path))
    rng = np.random.default_rng(SEED)
    if case.ids:
        x = draw_input(report.graph, case.shape, rng)
    else:
        x = (rng.standard_normal(case.shape) * case.scale + case.shift).astype(np.float32).astype(case.dtype)
    # ids out (positions) have no gradient: a None cotangent asks for none
    integer_output = report.output.is_integer
    cotangent = rng.standard_normal(tuple(report.output.shape)).astype(np.float32).astype(case.dtype)

    params = {tensor_name(node.name, name) for node in report.graph.nodes for name in report.info[node.name].params}
    tensors = {name: torch.tensor(value, dtype=getattr(torch, case.dtype)) for name, value in weights.items()}
    for name in params:
        tensors[name].requires_grad_(True)
    x_tensor = torch.tensor(x, requires_grad=not case.ids)
    reaching = evaluate(CHANNELS_LAST, x_tensor, {}, case.train) if case.features_last else x_tensor
    output = evaluate(case.network, reaching, tensors, case.train)
    if not integer_output:
        (output * torch.from_numpy(cotangent)).sum().backward()
    grads = {"input": x_tensor.grad, **{name: tensors[name].grad for name in params}}
    made = Expected(
        spec,
        report,
        path,
        x,
        None if integer_output else cotangent,
        output.detach().numpy(),
        {name: tensors[name].numpy() for name in weights if name not in params},
        {name: grad.numpy() for name, grad in grads.items() if grad is not None},
    )
    _EXPECTED[case.id] = made
    return made


# ------------------------------------------------------------------ the runner
def _loaded(name: str) -> Backend:
    try:
        return get_backend(name)
    except SpecError as exc:
        pytest.skip(f"backend '{name}' is not installed here: {exc.message}")


def _refusal(case: Case, backend: str) -> str | None:
    """Why ``backend`` cannot run ``case`` by design, or None."""
    if case.train and backend in EVAL_ONLY:
        return EVAL_ONLY[backend]
    if case.dtype != "float32" and backend in FLOAT32_ONLY:
        return FLOAT32_ONLY[backend]
    return None


def _marks(case: Case, backend: str) -> list[pytest.MarkDecorator]:
    refusal = _refusal(case, backend)
    if refusal is not None:
        return [pytest.mark.skip(reason=refusal)]
    if backend in case.bugs:
        return [pytest.mark.xfail(reason=case.bugs[backend], strict=True)]
    if backend in case.pending:
        return [pytest.mark.xfail(reason=case.pending[backend], strict=False)]
    return []


def assert_close(got: Any, want: np.ndarray, tolerance: float, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    if want.dtype.kind == "i":  # ids: exact; jax without x64 holds int64 as int32
        assert got.dtype.kind == "i", f"{what}: dtype {got.dtype}, expected integers"
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, err_msg=what)


@pytest.mark.parametrize(
    ("case", "backend"),
    [pytest.param(c, b, id=f"{c.id}-{b}", marks=_marks(c, b)) for c in CASES for b in BACKENDS],
)
def test_op_matches_the_reference(case: Case, backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    chosen = _loaded(backend)
    want = expected(case, tmp_path_factory)
    where = f"{case.network!r} on {list(case.shape)}, {backend}"
    tolerance = TOLERANCES[case.dtype]
    model = archspec.build(want.spec, backend=backend, weights=want.weights)
    gradients = backend not in NO_GRADIENTS and want.cotangent is not None
    x = want.x.copy()
    run = chosen.run(model, x, train=case.train, cotangent=want.cotangent if gradients else None)
    np.testing.assert_array_equal(x, want.x, err_msg=f"{where}: run() wrote into its input")

    output = np.asarray(run.output)
    assert output.shape == tuple(want.report.output.shape), f"{where}: archspec.shapes says {want.report.output}"
    assert_close(output, want.output, tolerance, f"{where}: output")
    assert sorted(run.state) == sorted(want.state), f"{where}: running statistics"
    for name, value in want.state.items():
        assert_close(np.asarray(run.state[name]), value, tolerance, f"{where}: {name} after the pass")
    if gradients:
        assert sorted(run.grads) == sorted(want.grads), f"{where}: gradients"
        for name, value in want.grads.items():
            assert_close(np.asarray(run.grads[name]), value, tolerance, f"{where}: gradient w.r.t. {name}")


# ------------------------------------------------------------------ the table against the registry
@pytest.mark.parametrize("op", sorted(REGISTRY))
def test_every_registered_op_has_cases_and_a_reference(op: str) -> None:
    assert op in {case.op for case in CASES}, f"op '{op}' is registered but has no case in tests/ops/optable_cases.py"
    assert op in REFERENCES, f"op '{op}' is registered but has no reference in tests/ops/optable_reference.py"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", sorted(REGISTRY))
def test_every_backend_lowers_every_registered_op(op: str, backend: str) -> None:
    assert _loaded(backend).supports(REGISTRY[op]), f"the {backend} backend has no lowering for op '{op}'"


def test_every_case_calls_a_registered_op_and_has_its_own_id() -> None:
    assert {case.op for case in CASES} <= set(REGISTRY)
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
