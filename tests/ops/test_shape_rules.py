"""Every op's shape rules against PyTorch, through one helper.

For each case the op's attributes are given as a spec would give them; the helper builds the
PyTorch module a person would write for them, runs a random input of the case's shape, and
compares the output shape and dtype with ``op.infer``, the parameter names and shapes with
``op.params`` and the buffers with ``op.buffers`` (PyTorch's ``num_batches_tracked`` counter
aside). A hypothesis test draws random conv and pool configurations and requires archspec to
accept exactly what PyTorch accepts, with the same shapes.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from references import torchvision  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from archspec import api  # noqa: E402
from archspec.errors import SpecError  # noqa: E402
from archspec.ir import TensorType  # noqa: E402
from archspec.ops import REGISTRY, Op  # noqa: E402
from archspec.weights import is_canonical  # noqa: E402

Shape = tuple[int, ...]
Attrs = dict[str, Any]


# ------------------------------------------------------------------ op -> PyTorch
def _class_tokens_expanded(xs: tuple[Any, ...]) -> list[Any]:
    """torchvision's ViT joining its class token: ``class_token.expand(n, -1, -1)`` first."""
    batch = max(x.shape[0] for x in xs)
    return [x.expand(batch, *x.shape[1:]) for x in xs]


def _layernorm(a: Attrs, s: list[Shape]) -> Any:
    options = {"eps": a.get("eps", 1e-5), "elementwise_affine": a.get("affine", True)}
    if "axis" not in a:
        return nn.LayerNorm(s[0][-a.get("dims", 1) :], **options)
    axis = a["axis"]
    norm = nn.LayerNorm(s[0][axis], **options)  # torchvision's LayerNorm2d: channels moved last and back
    return norm, lambda x: norm(x.movedim(axis, -1)).movedim(-1, axis)


def _t(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _conv(cls: type[nn.Module], a: Attrs, s: list[Shape]) -> Any:
    padding = a.get("padding", 0)
    pairs = isinstance(padding, list) and all(isinstance(p, list) for p in padding)  # [[lo, hi], ...]
    conv = cls(
        s[0][1],
        a["out_channels"],
        _t(a["kernel"]),
        stride=_t(a.get("stride", 1)),
        padding=0 if pairs else _t(padding),
        dilation=_t(a.get("dilation", 1)),
        groups=a.get("groups", 1),
        bias=a.get("bias", True),
    )
    if not pairs:
        return conv
    pads = tuple(v for lo_hi in reversed(padding) for v in lo_hi)  # F.pad wants the last dim first
    return conv, lambda x: conv(F.pad(x, pads))


def _pool(cls: type[nn.Module]) -> Callable[[Attrs, list[Shape]], nn.Module]:
    keys = ("stride", "padding", "dilation", "ceil_mode", "count_include_pad")
    return lambda a, s: cls(_t(a["kernel"]), **{k: _t(a[k]) for k in keys if k in a})


def _upsample(a: Attrs) -> nn.Module:
    mode = a.get("mode", "nearest")
    corners = a.get("align_corners", None if mode == "nearest" else False)
    return nn.Upsample(_t(a.get("size")), _t(a.get("scale")), mode, corners)


def _kept(shape: list[int], sizes: Any) -> list[int]:
    """A reshape's sizes with each 0 replaced by the input's size there, as ONNX's Reshape reads it."""
    return [sizes[i] if n == 0 else n for i, n in enumerate(shape)]


def _by_rank(*classes: type[nn.Module]) -> Callable[[Attrs, list[Shape]], nn.Module]:
    return lambda a, s: classes[len(s[0]) - 3](1)  # for [N, C, L], [N, C, H, W], [N, C, D, H, W]


# Each op as a person would write it in PyTorch: a module (which holds the parameters), or
# (module or None, forward function) where the forward is not the module itself.
TORCH: dict[str, Callable[[Attrs, list[Shape]], Any]] = {
    "conv": lambda a, s: _conv(nn.Conv2d, a, s),
    "conv1d": lambda a, s: _conv(nn.Conv1d, a, s),
    "linear": lambda a, s: nn.Linear(s[0][-1], a["out_features"], bias=a.get("bias", True)),
    "batchnorm": lambda a, s: {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[len(s[0])](
        s[0][1], eps=a.get("eps", 1e-5), momentum=a.get("update_rate", 0.1), affine=a.get("affine", True)
    ),
    "layernorm": lambda a, s: _layernorm(a, s),
    "drop_path": lambda a, s: (None, lambda x: x),  # identity in eval mode
    "lrn": lambda a, s: nn.LocalResponseNorm(a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("k", 1.0)),
    "relu": lambda a, s: nn.ReLU(),
    "relu6": lambda a, s: nn.ReLU6(),
    "leaky_relu": lambda a, s: nn.LeakyReLU(a.get("negative_slope", 0.01)),
    "sigmoid": lambda a, s: nn.Sigmoid(),
    "tanh": lambda a, s: nn.Tanh(),
    "gelu": lambda a, s: nn.GELU(approximate=a.get("approximate", "none")),
    "silu": lambda a, s: nn.SiLU(),
    "softmax": lambda a, s: nn.Softmax(dim=a.get("axis", 1)),
    "maxpool": _pool(nn.MaxPool2d),
    "maxpool1d": _pool(nn.MaxPool1d),
    "avgpool": _pool(nn.AvgPool2d),
    "avgpool1d": _pool(nn.AvgPool1d),
    "global_avgpool": _by_rank(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d),
    "global_maxpool": _by_rank(nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d),
    "adaptive_avgpool": lambda a, s: nn.AdaptiveAvgPool2d(_t(a["output_size"])),
    "flatten": lambda a, s: nn.Flatten(a.get("start_dim", 1), a.get("end_dim", -1)),
    "permute": lambda a, s: (None, lambda x: torch.permute(x, a["dims"])),
    "reshape": lambda a, s: (None, lambda x: x.reshape(_kept(a["shape"], x.shape))),
    "select": lambda a, s: (None, lambda x: torch.select(x, a["axis"], a["index"])),
    "channel_shuffle": lambda a, s: nn.ChannelShuffle(a["groups"]),
    "chunk": lambda a, s: (None, lambda x: x.chunk(a["chunks"], dim=a.get("axis", 1))[a["index"]]),
    "dropout": lambda a, s: nn.Dropout(a.get("p", 0.5)),
    "identity": lambda a, s: nn.Identity(),
    "concat": lambda a, s: (None, lambda *xs: torch.cat(_class_tokens_expanded(xs), dim=a.get("axis", 1))),
    "add": lambda a, s: (None, lambda *xs: functools.reduce(operator.add, xs)),
    "hardsigmoid": lambda a, s: nn.Hardsigmoid(),
    "hardswish": lambda a, s: nn.Hardswish(),
    "mul": lambda a, s: (None, lambda *xs: functools.reduce(operator.mul, xs)),
    "conv_transpose": lambda a, s: nn.ConvTranspose2d(
        s[0][1],
        a["out_channels"],
        _t(a["kernel"]),
        **{k: _t(a[k]) for k in ("stride", "padding", "output_padding", "groups", "bias", "dilation") if k in a},
    ),
    "upsample": lambda a, s: _upsample(a),
    "upsample1d": lambda a, s: _upsample(a),
    "embedding": lambda a, s: nn.Embedding(a["num"], a["dim"]),
    "positions": lambda a, s: (None, lambda x: torch.arange(x.shape[1]).expand(x.shape[0], -1)),
    "attention": lambda a, s: _self_attention(a),
    "window_attention": lambda a, s: _window_attention(a),
    "patch_merge": lambda a, s: (None, torchvision().models.swin_transformer._patch_merging_pad),
}


class Ids(tuple[int, ...]):
    """The shape of an int64 input of token ids (``embedding``'s), where a plain tuple is float32's."""

    dtype = "int64"


class FeaturesLast(tuple[int, ...]):
    """The shape of a features-last map [N, H, W, C] (as ``permute`` makes one: Swin's), where a
    plain tuple of rank 4 is channels-first."""


def _dtype(shape: Shape) -> str:
    return shape.dtype if isinstance(shape, Ids) else "float32"


def _type(shape: Shape, batch: int | str | None = None) -> TensorType:
    dims = shape if batch is None else (batch, *shape[1:])
    return TensorType(tuple(dims), _dtype(shape), features_last=isinstance(shape, FeaturesLast))


def _window_attention(a: Attrs) -> Any:
    window, shift = (_t(a.get(k, 0)) for k in ("window", "shift"))
    pair = [window, window] if isinstance(window, int) else list(window)
    shifts = [shift, shift] if isinstance(shift, int) else list(shift)
    bias = a.get("bias", True)
    module = torchvision().models.swin_transformer.ShiftedWindowAttention(
        a["dim"], pair, shifts, a["heads"], qkv_bias=bias, proj_bias=bias
    )
    return module, module


def _self_attention(a: Attrs) -> Any:
    attention = nn.MultiheadAttention(a["dim"], a["heads"], bias=a.get("bias", True), batch_first=True)
    return attention, lambda x: attention(x, x, x, need_weights=False)[0]


def run_torch(name: str, attrs: dict[str, Any], shapes: list[Shape]) -> tuple[Any, nn.Module | None]:
    """The PyTorch output for random inputs, and the module holding the parameters (eval mode)."""
    made = TORCH[name](attrs, shapes)
    module, fn = made if isinstance(made, tuple) else (made, made)
    if isinstance(module, nn.Module):
        module.eval()
    torch.manual_seed(0)
    xs = [torch.randint(0, 2, s) if isinstance(s, Ids) else torch.randn(*s) for s in shapes]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. padding='same' with an even kernel
        return fn(*xs), module


def check_op(name: str, attrs: dict[str, Any], *shapes: Shape) -> Op:
    """Check one op against PyTorch: output shape and dtype, parameters, buffers, symbolic batch."""
    op = REGISTRY[name].model_validate(attrs)
    types = tuple(_type(s) for s in shapes)
    out = op.infer(types)
    y, module = run_torch(name, attrs, list(shapes))
    assert out.shape == tuple(y.shape), f"{name}{attrs}: archspec {out.shape}, torch {tuple(y.shape)}"
    assert out.dtype == str(y.dtype).removeprefix("torch.")
    params = {k: tuple(p.shape) for k, p in module.named_parameters()} if module is not None else {}
    assert op.params(types) == params
    buffers = {k: tuple(b.shape) for k, b in module.named_buffers()} if module is not None else {}
    # PyTorch's step counter, torchvision's Swin index: bookkeeping, not part of the spec's meaning
    buffers = {k: shape for k, shape in buffers.items() if is_canonical(f"module.{k}")}
    assert op.buffers(types) == buffers
    if not params:
        assert op.macs(types, out) == 0
    symbolic = tuple(_type(s, "N") for s in shapes)
    assert op.infer(symbolic).shape == ("N", *out.shape[1:])
    assert op.params(symbolic) == params
    return op


# ------------------------------------------------------------------ cases
X = (2, 4, 10, 10)
CASES: dict[str, list[tuple[dict[str, Any], list[Shape]]]] = {
    "conv": [
        ({"out_channels": 8, "kernel": 3}, [X]),
        ({"out_channels": 8, "kernel": [1, 3], "padding": [0, 1]}, [X]),
        ({"out_channels": 8, "kernel": [3, 1], "padding": [1, 0]}, [X]),
        ({"out_channels": 6, "kernel": 3, "stride": 2, "padding": 1}, [(2, 4, 11, 11)]),
        ({"out_channels": 6, "kernel": [3, 5], "stride": [2, 1], "padding": [1, 2]}, [(2, 4, 9, 7)]),
        ({"out_channels": 6, "kernel": 3, "padding": "same"}, [(2, 4, 7, 9)]),
        ({"out_channels": 6, "kernel": [4, 2], "padding": "same"}, [(2, 4, 7, 9)]),
        ({"out_channels": 6, "kernel": 3, "padding": "same", "dilation": 2}, [(2, 4, 7, 9)]),
        ({"out_channels": 6, "kernel": 3, "padding": "valid"}, [X]),
        ({"out_channels": 6, "kernel": 3, "padding": 2, "dilation": 2}, [X]),
        ({"out_channels": 6, "kernel": 3, "dilation": [1, 3]}, [X]),
        ({"out_channels": 6, "kernel": 3, "groups": 2}, [X]),
        ({"out_channels": 4, "kernel": 3, "groups": 4, "padding": 1}, [X]),  # depthwise
        ({"out_channels": 8, "kernel": 3, "groups": 4, "stride": 2}, [X]),  # depthwise, multiplier 2
        ({"out_channels": 5, "kernel": 1, "bias": False}, [X]),
        ({"out_channels": 5, "kernel": 2, "padding": [[1, 0], [0, 1]]}, [X]),
        ({"out_channels": 3, "kernel": 1}, [(1, 2, 1, 1)]),
    ],
    "conv1d": [
        ({"out_channels": 4, "kernel": 3}, [(2, 3, 16)]),
        ({"out_channels": 4, "kernel": 3, "stride": 2, "padding": 1}, [(2, 3, 15)]),
        ({"out_channels": 4, "kernel": 5, "padding": "same", "dilation": 2}, [(2, 3, 16)]),
        ({"out_channels": 6, "kernel": 3, "groups": 3, "bias": False}, [(2, 3, 8)]),
        ({"out_channels": 4, "kernel": 3, "padding": [[2, 0]]}, [(2, 3, 8)]),  # causal
        ({"out_channels": 4, "kernel": [3], "padding": "valid"}, [(2, 3, 8)]),
    ],
    "linear": [
        ({"out_features": 10}, [(4, 20)]),
        ({"out_features": 3, "bias": False}, [(1, 7)]),
        ({"out_features": 6}, [(2, 5, 7)]),  # tokens
    ],
    "batchnorm": [
        ({}, [X]),
        ({}, [(3, 6)]),
        ({"eps": 1e-3, "update_rate": 0.01}, [(2, 6, 7)]),
        ({"affine": False}, [(2, 3, 2, 3, 4)]),
    ],
    "layernorm": [
        ({}, [(2, 8)]),
        ({"dims": 2}, [(2, 3, 8)]),
        ({"dims": 3, "eps": 1e-6}, [(2, 3, 4, 4)]),
        ({"affine": False}, [(2, 5, 6)]),
        ({"dims": 1}, [X]),
        ({"axis": 1}, [X]),
        ({"axis": 1, "affine": False}, [(2, 6, 5)]),
        ({"axis": 2, "eps": 1e-6}, [(2, 3, 4, 5)]),
    ],
    "drop_path": [({"p": 0.1}, [X]), ({"p": 0.0}, [(3, 5)])],
    "lrn": [({"size": 5}, [(2, 8, 6, 6)]), ({"size": 2, "alpha": 1e-3, "beta": 0.5, "k": 2.0}, [(2, 8, 6)])],
    "relu": [({}, [X]), ({}, [(3, 5)])],
    "relu6": [({}, [X])],
    "leaky_relu": [({}, [X]), ({"negative_slope": 0.2}, [(3, 5)])],
    "sigmoid": [({}, [X])],
    "tanh": [({}, [X])],
    "gelu": [({}, [X]), ({"approximate": "tanh"}, [(3, 5)])],
    "silu": [({}, [X])],
    "softmax": [({}, [(2, 5)]), ({"axis": -1}, [X]), ({"axis": 2}, [X])],
    "maxpool": [
        ({"kernel": 2}, [X]),
        ({"kernel": 3, "stride": 2, "padding": 1}, [(2, 3, 9, 9)]),
        ({"kernel": 3, "stride": 1, "padding": 1}, [X]),
        ({"kernel": [1, 3], "stride": [1, 2], "padding": [0, 1]}, [X]),
        ({"kernel": 3, "stride": 2, "ceil_mode": True}, [(2, 3, 8, 8)]),
        ({"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, [(1, 1, 5, 5)]),  # last window in padding
        ({"kernel": 3, "stride": 2, "padding": 1, "dilation": 2}, [X]),
        ({"kernel": [2, 3], "stride": [3, 1], "ceil_mode": True}, [(1, 2, 7, 6)]),
    ],
    "avgpool": [
        ({"kernel": 2}, [X]),
        ({"kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False}, [(2, 3, 9, 9)]),
        ({"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [(2, 3, 10, 10)]),
        ({"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, [(1, 1, 5, 5)]),
        ({"kernel": [2, 4], "stride": [1, 2]}, [X]),
    ],
    "maxpool1d": [
        ({"kernel": 2}, [(2, 3, 9)]),
        ({"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, [(2, 3, 5)]),  # last window in padding
        ({"kernel": 3, "stride": 2, "dilation": 2, "ceil_mode": True}, [(2, 3, 10)]),
    ],
    "avgpool1d": [
        ({"kernel": 3}, [(2, 3, 10)]),
        ({"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, [(2, 3, 6)]),
        ({"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, [(2, 3, 5)]),
    ],
    "global_avgpool": [({}, [(2, 3, 5, 7)]), ({}, [(2, 3, 5)]), ({}, [(2, 3, 2, 3, 4)])],
    "global_maxpool": [({}, [(2, 3, 5, 7)]), ({}, [(2, 3, 5)])],
    "adaptive_avgpool": [
        ({"output_size": 1}, [(2, 3, 7, 7)]),
        ({"output_size": [3, 2]}, [(2, 3, 7, 5)]),  # sizes that do not divide the input
        ({"output_size": 4}, [(2, 3, 10, 10)]),
        ({"output_size": 5}, [(2, 3, 3, 3)]),  # larger than the input
    ],
    "flatten": [
        ({}, [X]),
        ({"start_dim": 2}, [X]),
        ({}, [(2, 5)]),
        ({"end_dim": 2}, [X]),
        ({"start_dim": -3, "end_dim": -2}, [(2, 3, 4, 5, 6)]),
        ({"start_dim": 2, "end_dim": 2}, [X]),
    ],
    "permute": [({"dims": [0, 2, 3, 1]}, [X]), ({"dims": [0, 2, 1]}, [(2, 3, 5)]), ({"dims": [0, -1, 1, 2]}, [X])],
    "reshape": [
        ({"shape": [0, 4, -1]}, [X]),
        ({"shape": [0, 2, 2, 10, 10]}, [X]),
        ({"shape": [0, 0, -1]}, [X]),
        ({"shape": [0, 400]}, [X]),
    ],
    "select": [
        ({"axis": 1, "index": 0}, [(2, 5, 7)]),
        ({"axis": -1, "index": -3}, [X]),
        ({"axis": 2, "index": 9}, [X]),
    ],
    "channel_shuffle": [({"groups": 2}, [(2, 6, 4, 4)]), ({"groups": 3}, [(2, 6, 5)]), ({"groups": 1}, [X])],
    "chunk": [
        ({"chunks": 2, "index": 1}, [X]),
        ({"chunks": 5, "index": 0, "axis": 2}, [X]),
        ({"chunks": 3, "index": 2, "axis": -1}, [(2, 3, 9)]),
        ({"chunks": 1, "index": 0}, [(3, 5)]),
    ],
    "dropout": [({}, [X]), ({"p": 0.0}, [(3, 5)])],
    "identity": [({}, [X])],
    "concat": [
        ({}, [(2, 3, 4, 4), (2, 5, 4, 4)]),
        ({}, [(2, 1, 4), (2, 2, 4), (2, 3, 4)]),
        ({"axis": -1}, [(2, 3, 4), (2, 3, 6)]),
        ({"axis": 2}, [(2, 3, 4, 4), (2, 3, 1, 4)]),
        ({}, [(2, 3, 4, 4)]),
        ({}, [(1, 1, 4), (2, 3, 4)]),  # a class token, expanded to the batch
        ({"axis": 1}, [(2, 3, 4), (1, 2, 4)]),
    ],
    "add": [({}, [X, X]), ({}, [(2, 5), (2, 5), (2, 5)]), ({}, [(2, 3, 5), (1, 3, 5)]), ({}, [X, (2, 1, 1, 10)])],
    "hardsigmoid": [({}, [X]), ({}, [(3, 5)])],
    "hardswish": [({}, [X]), ({}, [(3, 5)])],
    "mul": [
        ({}, [X, X]),
        ({}, [X, (2, 4, 1, 1)]),  # a gate
        ({}, [(2, 4, 1, 1), X]),  # the gate first
        ({}, [(2, 1, 4, 1), (2, 3, 1, 5)]),  # both stretch
        ({}, [(2, 5), (2, 5), (2, 1)]),
    ],
    "conv_transpose": [
        ({"out_channels": 5, "kernel": 3}, [X]),
        ({"out_channels": 4, "kernel": 2, "stride": 2}, [(2, 3, 5, 7)]),
        ({"out_channels": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}, [(2, 3, 5, 6)]),
        ({"out_channels": 3, "kernel": [3, 4], "stride": [3, 2], "padding": [2, 1], "output_padding": [2, 0]}, [X]),
        ({"out_channels": 3, "kernel": 2, "dilation": 3, "output_padding": 2}, [X]),
        ({"out_channels": 6, "kernel": 3, "stride": 2, "groups": 2, "bias": False}, [X]),
    ],
    "upsample": [
        ({"scale": 2}, [(2, 3, 5, 7)]),
        ({"scale": 1.5, "mode": "bilinear"}, [(2, 3, 5, 7)]),
        ({"scale": [0.5, 2.5], "mode": "bilinear", "align_corners": True}, [(2, 3, 9, 3)]),
        ({"size": [7, 2]}, [(2, 3, 5, 4)]),
        ({"size": 3, "mode": "bilinear"}, [(2, 3, 5, 4)]),
    ],
    "upsample1d": [
        ({"scale": 1.5}, [(2, 3, 7)]),
        ({"size": [9], "mode": "linear", "align_corners": True}, [(2, 3, 4)]),
    ],
    "embedding": [({"num": 5, "dim": 3}, [Ids((2, 7))]), ({"num": 2, "dim": 4}, [Ids((3,))])],
    "positions": [({}, [Ids((2, 7))]), ({}, [(2, 5, 3)])],
    "attention": [
        ({"dim": 8, "heads": 2}, [(2, 5, 8)]),
        ({"dim": 6, "heads": 3, "bias": False}, [(2, 4, 6)]),
        ({"dim": 4, "heads": 1, "causal": True}, [(2, 3, 4)]),
    ],
    "window_attention": [
        ({"dim": 8, "heads": 2, "window": 3, "shift": 1}, [FeaturesLast((2, 6, 6, 8))]),
        ({"dim": 6, "heads": 3, "window": [2, 3], "bias": False}, [FeaturesLast((2, 5, 7, 6))]),
    ],
    "patch_merge": [({}, [FeaturesLast((2, 4, 6, 3))]), ({}, [FeaturesLast((2, 5, 3, 2))])],
}


#: Ops that read no input, whose rules are not a module's (tests/ops/test_param.py).
SOURCES = {"param"}


def test_every_op_has_a_torch_reference_and_cases() -> None:
    assert set(TORCH) == set(REGISTRY) - SOURCES, "add the new op to TORCH and CASES"
    assert set(CASES) == set(REGISTRY) - SOURCES


@pytest.mark.parametrize(
    ("name", "attrs", "shapes"),
    [pytest.param(name, a, s, id=f"{name}-{i}") for name, cases in CASES.items() for i, (a, s) in enumerate(cases)],
)
def test_op_matches_torch(name: str, attrs: dict[str, Any], shapes: list[Shape]) -> None:
    check_op(name, attrs, *shapes)


def test_ceil_mode_drops_a_last_window_that_starts_in_the_padding() -> None:
    op = check_op("maxpool1d", {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (1, 1, 5))
    # ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th would start at 6, in the right padding
    assert op.infer((TensorType((1, 1, 5)),)).shape == (1, 1, 3)


# ------------------------------------------------------------------ MACs (torchinfo's mult-adds)
def test_conv_macs_by_hand() -> None:
    x = TensorType((2, 4, 10, 10))
    op = check_op("conv", {"out_channels": 8, "kernel": 3, "padding": 1}, x.shape)
    out = op.infer((x,))
    assert op.macs((x,), out) == (8 * 4 * 3 * 3 + 8) * (10 * 10) * 2
    depthwise = check_op("conv", {"out_channels": 4, "kernel": 3, "groups": 4, "stride": 2, "bias": False}, x.shape)
    assert depthwise.macs((x,), depthwise.infer((x,))) == (4 * 1 * 3 * 3) * (4 * 4) * 2
    conv1d = check_op("conv1d", {"out_channels": 5, "kernel": 3}, (3, 2, 9))
    assert conv1d.macs((TensorType((3, 2, 9)),), TensorType((3, 5, 7))) == (5 * 2 * 3 + 5) * 7 * 3
    symbolic = TensorType(("N", 4, 10, 10))
    assert op.macs((symbolic,), op.infer((symbolic,))) == (8 * 4 * 3 * 3 + 8) * (10 * 10)  # per sample


def test_conv_transpose_macs_count_output_positions_as_torchinfo_does() -> None:
    x = TensorType((2, 4, 5, 5))
    op = check_op("conv_transpose", {"out_channels": 6, "kernel": 2, "stride": 2, "groups": 2}, x.shape)
    out = op.infer((x,))
    assert out.shape == (2, 6, 10, 10)
    assert op.macs((x,), out) == (4 * 3 * 2 * 2 + 6) * (10 * 10) * 2


def test_linear_macs_by_hand() -> None:
    op = check_op("linear", {"out_features": 10}, (4, 20))
    assert op.macs((TensorType((4, 20)),), TensorType((4, 10))) == (10 * 20 + 10) * 4
    assert op.macs((TensorType(("N", 20)),), TensorType(("N", 10))) == 10 * 20 + 10
    no_bias = check_op("linear", {"out_features": 10, "bias": False}, (4, 20))
    assert no_bias.macs((TensorType((4, 20)),), TensorType((4, 10))) == 10 * 20 * 4
    # on tokens, once per token: the weights are used at every position, as a conv's are
    tokens = TensorType(("N", 7, 20))
    assert op.macs((tokens,), op.infer((tokens,))) == (10 * 20 + 10) * 7


def test_network_macs_add_up() -> None:
    spec = {
        "archspec": 1,
        "name": "t",
        "input": [2, 3, 8, 8],
        "network": "conv(4, 3, padding=1) -> relu -> flatten -> linear(5)",
    }
    report = api.shapes(spec)
    assert report.total_macs == (4 * 3 * 9 + 4) * 64 * 2 + (5 * 256 + 5) * 2
    assert report.total_params == (4 * 3 * 9 + 4) + (5 * 256 + 5)


# ------------------------------------------------------------------ random configs, accept/refuse as torch
def shorthand(name: str, attrs: dict[str, Any]) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in attrs.items())})"


def compare_with_torch(name: str, attrs: dict[str, Any], shape: Shape) -> None:
    """archspec (through a spec) accepts exactly when PyTorch does, with the same output shape."""
    spec = {"archspec": 1, "name": "t", "input": list(shape), "network": shorthand(name, attrs)}
    try:
        y, module = run_torch(name, attrs, [shape])
    except (RuntimeError, ValueError) as exc:
        try:
            report = api.shapes(spec)
        except SpecError:
            return
        pytest.fail(f"{spec['network']} on {shape}: torch refuses ({exc}), archspec gives {report.output}")
    try:
        report = api.shapes(spec)
    except SpecError as exc:
        pytest.fail(f"{spec['network']} on {shape}: torch gives {tuple(y.shape)}, archspec refuses: {exc}")
    assert report.output.shape == tuple(y.shape), f"{spec['network']} on {shape}"
    params = {k: tuple(p.shape) for k, p in module.named_parameters()} if module is not None else {}
    assert report.info[report.graph.output].params == params


def _sizes(n: int, lo: int, hi: int) -> st.SearchStrategy[Any]:
    one = st.integers(lo, hi)
    return one | st.lists(one, min_size=n, max_size=n)


@st.composite
def conv_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], Shape]:
    n = draw(st.sampled_from([1, 2]))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    channels = draw(st.integers(1, 3)) * groups if draw(st.booleans()) else draw(st.integers(1, 6))
    attrs: dict[str, Any] = {"out_channels": draw(st.integers(1, 3)) * groups, "kernel": draw(_sizes(n, 1, 5))}
    if draw(st.booleans()):
        attrs["stride"] = draw(_sizes(n, 1, 3))
    if draw(st.booleans()):
        attrs["dilation"] = draw(_sizes(n, 1, 3))
    pads = st.integers(0, 3)
    attrs["padding"] = draw(
        st.sampled_from(["same", "valid"])
        | _sizes(n, 0, 3)
        | st.lists(st.lists(pads, min_size=2, max_size=2), min_size=n, max_size=n)
    )
    if groups > 1:
        attrs["groups"] = groups
    shape = (1, channels, *draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)))
    return ("conv" if n == 2 else "conv1d"), attrs, shape


@st.composite
def pool_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], Shape]:
    n = draw(st.sampled_from([1, 2]))
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    attrs: dict[str, Any] = {"kernel": draw(_sizes(n, 1, 4))}
    if draw(st.booleans()):
        attrs["stride"] = draw(_sizes(n, 1, 3))
    if draw(st.booleans()):
        attrs["padding"] = draw(_sizes(n, 0, 2))
    if kind == "maxpool" and draw(st.booleans()):
        attrs["dilation"] = draw(_sizes(n, 1, 3))
    attrs["ceil_mode"] = draw(st.booleans())
    if kind == "avgpool":
        attrs["count_include_pad"] = draw(st.booleans())
    shape = (1, 2, *draw(st.lists(st.integers(1, 10), min_size=n, max_size=n)))
    return (kind if n == 2 else kind + "1d"), attrs, shape


@settings(deadline=None)
@given(conv_configs())
def test_random_convs_match_torch(config: tuple[str, dict[str, Any], Shape]) -> None:
    compare_with_torch(*config)


@settings(deadline=None)
@given(pool_configs())
def test_random_pools_match_torch(config: tuple[str, dict[str, Any], Shape]) -> None:
    compare_with_torch(*config)


@pytest.mark.parametrize(
    ("name", "attrs", "shape"),
    [
        ("conv", {"out_channels": 4, "kernel": 3, "groups": 2}, (1, 3, 8, 8)),
        ("conv", {"out_channels": 3, "kernel": 3, "groups": 2}, (1, 4, 8, 8)),
        ("conv", {"out_channels": 4, "kernel": 5}, (1, 3, 4, 8)),
        ("conv", {"out_channels": 4, "kernel": 3, "stride": 2, "padding": "same"}, (1, 3, 8, 8)),
        ("conv", {"out_channels": 4, "kernel": [1, 2, 3]}, (1, 3, 8, 8)),
        ("conv1d", {"out_channels": 4, "kernel": 3}, (1, 3, 8, 8)),
        ("maxpool", {"kernel": 2, "padding": 2}, (1, 3, 8, 8)),
        ("maxpool", {"kernel": 5}, (1, 3, 4, 8)),
        ("avgpool1d", {"kernel": 3, "padding": 2}, (1, 3, 8)),
        ("adaptive_avgpool", {"output_size": [1, 2, 3]}, (1, 3, 8, 8)),
        ("flatten", {"start_dim": 3, "end_dim": 2}, (2, 3, 4, 5)),
        ("flatten", {"end_dim": 4}, (2, 3, 4, 5)),
        ("permute", {"dims": [0, 1, 1, 2]}, (2, 3, 4, 5)),
        ("permute", {"dims": [0, 2, 1]}, (2, 3, 4, 5)),
        ("permute", {"dims": [0, 1, 4, 2]}, (2, 3, 4, 5)),
        ("reshape", {"shape": [0, 7, -1]}, (2, 3, 4, 5)),
        ("reshape", {"shape": [0, 3, 4, 6]}, (2, 3, 4, 5)),
        ("select", {"axis": 4, "index": 0}, (2, 3, 4, 5)),
        ("select", {"axis": 2, "index": 4}, (2, 3, 4, 5)),
        ("select", {"axis": 2, "index": -5}, (2, 3, 4, 5)),
        ("lrn", {"size": 3}, (2, 5)),
        ("softmax", {"axis": 2}, (2, 5)),
        ("flatten", {"start_dim": 2}, (2, 5)),
        ("chunk", {"chunks": 2, "index": 0, "axis": 4}, (1, 4, 8, 8)),
        ("chunk", {"chunks": 2, "index": 2}, (1, 4, 8, 8)),
        ("conv_transpose", {"out_channels": 4, "kernel": 3, "stride": 2, "output_padding": 2}, (1, 3, 8, 8)),
        ("conv_transpose", {"out_channels": 4, "kernel": 3, "padding": 6}, (1, 3, 4, 4)),
        ("conv_transpose", {"out_channels": 4, "kernel": 3, "groups": 2}, (1, 3, 4, 4)),
        ("conv_transpose", {"out_channels": 4, "kernel": 3}, (1, 3, 8)),
        ("upsample", {"scale": 2, "size": 4}, (1, 3, 8, 8)),
        ("upsample", {}, (1, 3, 8, 8)),
        ("upsample", {"scale": 2, "align_corners": True}, (1, 3, 8, 8)),
        ("upsample", {"scale": 0.1, "mode": "bilinear"}, (1, 3, 8, 8)),
        ("upsample1d", {"scale": 2, "mode": "bilinear"}, (1, 3, 8)),
        ("upsample1d", {"scale": 2, "align_corners": True}, (1, 3, 8)),
    ],
)
def test_refusals_match_torch(name: str, attrs: dict[str, Any], shape: Shape) -> None:
    with pytest.raises((RuntimeError, ValueError, IndexError)):  # softmax/flatten: dim out of range
        run_torch(name, attrs, [shape])
    with pytest.raises(SpecError):
        api.shapes({"archspec": 1, "name": "t", "input": list(shape), "network": shorthand(name, attrs)})


@pytest.mark.parametrize("name", ["add", "mul"])
@pytest.mark.parametrize(
    "shapes",
    [
        [X, (4, 1, 1)],  # ConvNeXt's layer scale
        [(10,), X],
        [(2, 5, 6), (1, 5, 6)],  # ViT's position embedding
        [(5, 1), (2, 3, 1, 7)],
        [(2, 4, 1, 1), (10, 10), X],
    ],
)
def test_inputs_of_lower_rank_broadcast_as_torch(name: str, shapes: list[Shape]) -> None:
    out = REGISTRY[name]().infer(tuple(TensorType(s) for s in shapes))
    y, _ = run_torch(name, {}, shapes)
    assert out.shape == tuple(y.shape)


@pytest.mark.parametrize("name", ["add", "mul"])
def test_shapes_torch_does_not_broadcast_are_refused_naming_both(name: str) -> None:
    shapes = [X, (3, 1, 1)]
    with pytest.raises(RuntimeError):
        run_torch(name, {}, shapes)
    with pytest.raises(
        SpecError, match=rf"{name} inputs do not broadcast: input 2 is \[3, 1, 1\], input 1 is \[2, 4, 10, 10\]"
    ):
        REGISTRY[name]().infer(tuple(TensorType(s) for s in shapes))


def test_multi_input_refusals() -> None:
    concat, add = REGISTRY["concat"](), REGISTRY["add"]()
    for op, shapes in ((concat, [(2, 3, 4, 4), (2, 3, 5, 4)]), (add, [(2, 3, 4, 4), (2, 4, 4, 4)])):
        with pytest.raises(RuntimeError):
            run_torch(op.op_name, {}, shapes)
        with pytest.raises(SpecError):
            op.infer(tuple(TensorType(s) for s in shapes))


# ---------------------------------------------------------------- canonical attributes
@pytest.mark.parametrize(
    ("name", "padding", "pairs"),
    [
        ("conv", 1, ((1, 1), (1, 1))),
        ("conv", [0, 2], ((0, 0), (2, 2))),
        ("conv", [[0, 1], [2, 3]], ((0, 1), (2, 3))),
        ("conv", "valid", ((0, 0), (0, 0))),
        ("conv", "same", ((1, 1), (1, 1))),
        ("conv1d", "same", ((1, 1),)),
        ("maxpool", 1, ((1, 1), (1, 1))),
        ("avgpool", [1, 0], ((1, 1), (0, 0))),
        ("maxpool1d", [1], ((1, 1),)),
    ],
)
def test_padding_is_stored_as_one_pair_per_axis_however_it_was_written(name: str, padding: Any, pairs: Any) -> None:
    channels = {"out_channels": 4} if name.startswith("conv") else {}
    assert REGISTRY[name].model_validate({**channels, "kernel": 3, "padding": padding}).padding == pairs


def test_padding_each_end_is_one_amount_per_axis_only_where_both_ends_agree() -> None:
    conv = REGISTRY["conv"]
    assert conv.model_validate({"out_channels": 4, "kernel": 3, "padding": [1, 2]}).padding_each_end == (1, 2)
    assert conv.model_validate({"out_channels": 4, "kernel": 2, "padding": "same"}).padding_each_end is None
    assert REGISTRY["maxpool"].model_validate({"kernel": 3, "padding": [1, 0]}).padding_each_end == (1, 0)


def test_same_padding_is_resolved_from_kernel_and_dilation_odd_cell_after() -> None:
    even = REGISTRY["conv"].model_validate({"out_channels": 4, "kernel": [4, 2], "padding": "same"})
    assert even.padding == ((1, 2), (0, 1))
    dilated = REGISTRY["conv"].model_validate({"out_channels": 4, "kernel": 3, "dilation": [2, 3], "padding": "same"})
    assert dilated.padding == ((2, 2), (3, 3))


def test_same_padding_reports_a_bad_dilation_as_the_dilation() -> None:
    with pytest.raises(SpecError, match=r"invalid 'dilation' of conv"):
        api.shapes(
            {"archspec": 1, "name": "t", "input": [1, 3, 8, 8], "network": "conv(4, 3, padding='same', dilation=0)"}
        )


def test_same_padding_with_a_stride_is_refused_at_validation() -> None:
    with pytest.raises(ValidationError, match=r"padding='same' needs stride 1"):
        REGISTRY["conv"].model_validate({"out_channels": 4, "kernel": 3, "stride": 2, "padding": "same"})


def test_pool_stride_defaults_to_the_kernel_at_validation() -> None:
    assert REGISTRY["maxpool"].model_validate({"kernel": [3, 2]}).stride == (3, 2)
    assert REGISTRY["avgpool1d"].model_validate({"kernel": 4, "stride": None}).stride == (4,)
    assert REGISTRY["maxpool"].model_validate({"kernel": 3, "stride": 1}).stride == (1, 1)


def test_average_pools_have_a_dilation_of_one_per_axis() -> None:
    assert REGISTRY["avgpool"].model_validate({"kernel": 3}).dilation == (1, 1)
    assert REGISTRY["avgpool1d"].model_validate({"kernel": 3}).dilation == (1,)


def test_pool_padding_differing_at_the_two_ends_is_refused() -> None:
    spec = {"archspec": 1, "name": "t", "input": [1, 3, 8, 8], "network": "maxpool(3, padding=[[0, 1], [1, 1]])"}
    with pytest.raises(SpecError, match=r"padding \[0, 1\] differs at the two ends; pools pad both ends alike"):
        api.shapes(spec)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ("conv(4, [3, 3, 3], padding='same')", r"invalid conv: kernel needs 2 values \(one per spatial dim\), got 3"),
        ("conv1d(4, 3, padding=[1, 2])", r"padding needs 1 value .*, got 2; \[lo, hi\] pairs are written one per dim"),
        ("avgpool(3, padding=[1])", r"invalid avgpool: padding needs 2 values \(one per spatial dim\)"),
    ],
)
def test_a_padding_or_kernel_of_the_wrong_length_is_reported_as_such(network: str, message: str) -> None:
    shape = [1, 3, 16] if "1d" in network else [1, 3, 16, 16]
    with pytest.raises(SpecError, match=message):
        api.shapes({"archspec": 1, "name": "t", "input": shape, "network": network})
