"""``upsample``: its canonical attributes, and every mistake reported where the spec wrote it.

Values on every backend are the op table's (``optable_cases.py``); shapes against PyTorch are
``test_shape_rules.py``'s, and a hypothesis test here draws random configurations and requires
archspec to accept exactly what ``nn.Upsample`` accepts, with the same output shape.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import archspec
from archspec import api
from archspec.errors import SpecError
from archspec.ops import REGISTRY

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def shapes_of(network: str, shape: list[int]) -> Any:
    return api.shapes({"archspec": 1, "name": "t", "input": shape, "network": network})


# ------------------------------------------------------------------ canonical attributes
@pytest.mark.parametrize(
    ("attrs", "scale", "size"),
    [
        ({"scale": 2}, (2.0, 2.0), None),
        ({"scale": [1.5, 3]}, (1.5, 3.0), None),
        ({"size": 7}, None, (7, 7)),
        ({"size": [7, 9]}, None, (7, 9)),
        ({"scale": 3, "op": "upsample1d"}, (3.0,), None),
        ({"size": 5, "op": "upsample1d"}, None, (5,)),
    ],
)
def test_scale_and_size_are_stored_one_per_axis(attrs: dict[str, Any], scale: Any, size: Any) -> None:
    given = dict(attrs)
    op = REGISTRY[given.pop("op", "upsample")].model_validate(given)
    assert (op.scale, op.size) == (scale, size)


def test_a_scale_maps_by_the_scale_and_sizes_are_floored_as_pytorch_does() -> None:
    assert shapes_of("upsample(1.5)", [1, 2, 5, 7]).output.shape == (1, 2, 7, 10)
    assert shapes_of("upsample([0.5, 2.5])", [1, 2, 9, 3]).output.shape == (1, 2, 4, 7)
    assert shapes_of("upsample(size=[3, 11], mode=bilinear)", ["N", 2, 9, 3]).output.shape == ("N", 2, 3, 11)


def test_upsample_counts_no_macs_and_has_no_parameters() -> None:
    report = shapes_of("upsample(2, mode=bilinear)", [2, 3, 4, 4])
    assert report.total_macs == 0 and report.total_params == 0


# ------------------------------------------------------------------ mistakes, located
SPEC = """\
archspec: 1
name: t
input: [1, 3, 8, 8]
network:
  up: {call}
"""


def located_error(tmp_path: Path, call: str) -> SpecError:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.format(call=call))
    with pytest.raises(SpecError) as info:
        api.shapes(str(path))
    return info.value


@pytest.mark.parametrize(
    ("call", "message", "column"),
    [
        ("upsample(2, size=4)", r"invalid upsample: scale and size are both given; give one of them", 16),
        ("upsample", r"upsample needs a scale \(upsample\(2\)\) or a size \(upsample\(size=\[h, w\]\)\)", 7),
        (
            "upsample(2, align_corners=true)",
            r"invalid upsample: align_corners=true needs mode='bilinear' \(PyTorch refuses it with 'nearest'\)",
            33,
        ),
        ("upsample([2, 2, 2])", r"scale needs 2 values \(one per spatial axis\), got 3", 16),
        ("upsample(size=[4, 0])", r"invalid 'size' of upsample: input should be greater than 0", 21),
        ("upsample(-2)", r"invalid 'scale' of upsample", 16),
        ("upsample(2, mode=bicubic)", r"'mode' of upsample: expected 'nearest' or 'bilinear', found the string", 24),
        ("upsample(0.1)", r"upsample leaves no cells along axis 2: floor\(8 \* scale\) is 0", 16),
        ("upsample([2, 1e308])", r"upsample scale 1e\+308 along axis 3 gives no finite size", 16),
    ],
)
def test_mistakes_are_located_where_the_spec_wrote_them(tmp_path: Path, call: str, message: str, column: int) -> None:
    error = located_error(tmp_path, call)
    assert error.loc is not None and (error.loc.line, error.loc.column) == (5, column), str(error)
    with pytest.raises(SpecError, match=message):
        raise error


def test_pytorchs_argument_names_get_archspecs() -> None:
    with pytest.raises(SpecError, match=r"unknown argument 'scale_factor'") as info:
        shapes_of("upsample(scale_factor=2)", [1, 3, 8, 8])
    assert info.value.hint is not None and "upsample(scale=2)" in info.value.hint


def test_each_upsample_takes_its_rank_and_names_the_other() -> None:
    with pytest.raises(SpecError, match=r"upsample expects a 4-D input") as info:
        shapes_of("upsample(2)", [1, 3, 8])
    assert info.value.expected == "[N, C, H, W]" and info.value.hint == "a 3-D input takes 'upsample1d'"
    with pytest.raises(SpecError, match=r"upsample1d expects a 3-D input") as info:
        shapes_of("upsample1d(2)", [1, 3, 8, 8])
    assert info.value.expected == "[N, C, L]" and info.value.hint == "a 4-D input takes 'upsample'"


def test_upsample1d_interpolates_linearly_and_says_so() -> None:
    assert shapes_of("upsample1d(1.5, mode=linear)", ["N", 3, 7]).output.shape == ("N", 3, 10)
    with pytest.raises(SpecError, match=r"'mode' of upsample1d: expected 'nearest' or 'linear', found"):
        shapes_of("upsample1d(2, mode=bilinear)", [1, 3, 8])
    with pytest.raises(SpecError, match=r"align_corners=true needs mode='linear'"):
        shapes_of("upsample1d(2, align_corners=true)", [1, 3, 8])
    with pytest.raises(
        SpecError, match=r"upsample1d needs a scale \(upsample1d\(2\)\) or a size \(upsample1d\(size=n\)\)"
    ):
        shapes_of("upsample1d", [1, 3, 8])
    with pytest.raises(SpecError, match=r"size needs 1 value \(one per spatial axis\), got 2"):
        shapes_of("upsample1d(size=[4, 4])", [1, 3, 8])


# ------------------------------------------------------------------ PyTorch's 1-D nearest forward
@pytest.mark.parametrize("scale", [1.1, 2.1])
@pytest.mark.parametrize("backend", ["torch", "flax", "onnx"])
def test_upsample1d_nearest_maps_kept_and_doubled_sizes_by_the_scale(scale: float, backend: str) -> None:
    """torch's 1-D nearest forward maps an axis the scale keeps (1.1 on 5) or doubles (2.1 on 5)
    by the scale, where its 2-D kernel copies or halves; every backend gives its values. The op
    table leaves these out because torch's 1-D backward takes the 2-D shortcuts, so it is not
    the gradient of its own forward there, and the table compares gradients with torch's."""
    from archspec.backends import get_backend

    pytest.importorskip({"torch": "torch", "flax": "flax", "onnx": "onnxruntime"}[backend])
    x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(np.float32)
    want = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=scale).numpy()
    network = {"archspec": 1, "name": "t", "input": ["N", 3, 5], "network": f"upsample1d({scale})"}
    got = get_backend(backend).run(archspec.build(network, backend=backend), x, train=False).output
    np.testing.assert_array_equal(np.asarray(got), want)


# ------------------------------------------------------------------ accept and refuse as PyTorch does
@st.composite
def upsample_configs(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
    attrs: dict[str, Any] = {}
    given_ = draw(st.sampled_from(["scale", "size", "both", "neither"]))
    scales = st.sampled_from([0.1, 0.5, 0.75, 1, 1.1, 1.5, 2, 2.5, 3])
    if given_ in ("scale", "both"):
        attrs["scale"] = draw(scales | st.lists(scales, min_size=2, max_size=2))
    if given_ in ("size", "both"):
        sizes = st.integers(1, 12)
        attrs["size"] = draw(sizes | st.lists(sizes, min_size=2, max_size=2))
    attrs["mode"] = draw(st.sampled_from(["nearest", "bilinear"]))
    if draw(st.booleans()):
        attrs["align_corners"] = draw(st.booleans())
    return attrs, (1, 2, *draw(st.lists(st.integers(1, 9), min_size=2, max_size=2)))


@settings(deadline=None)
@given(upsample_configs())
def test_random_upsamples_match_torch(config: tuple[dict[str, Any], tuple[int, ...]]) -> None:
    attrs, shape = config
    if attrs.get("align_corners") is False and attrs["mode"] == "nearest":
        del attrs["align_corners"]  # torch refuses any align_corners with nearest, even false: the default here
    call = f"upsample({', '.join(f'{k}={v!r}' for k, v in attrs.items())})"
    size, scale = (tuple(v) if isinstance(v, list) else v for v in (attrs.get("size"), attrs.get("scale")))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.nn.Upsample(size, scale, attrs["mode"], attrs.get("align_corners"))(torch.zeros(shape)).shape
    except (RuntimeError, ValueError):
        with pytest.raises(SpecError):
            shapes_of(call, list(shape))
        return
    assert shapes_of(call, list(shape)).output.shape == tuple(want), call
