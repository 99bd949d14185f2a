"""The op x backend table: every registered op, called as a spec calls it, on small inputs.

A case is one op call as a spec writes it (``"conv(8, 3, padding=[[0, 1], [2, 0]])"``) and the
shape of the network's input. Merges take their inputs from branches, since a spec has one input
(``{"concat": ["conv(5, 1)", "identity"], "axis": 1}``): the branches are single calls, evaluated
by the reference too, so concat sees tensors of different sizes along its axis.

``tests/ops/test_optable.py`` runs each case on every installed backend and compares shape,
dtype, values, gradients and running statistics with ``optable_reference.py``. Shapes are small
and odd-sized on purpose: windows that do not tile the input expose off-by-one lowerings.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Network = str | dict[str, Any]

#: The merge ops, the keys of a spec's merge step.
MERGES = ("concat", "add", "mul")
#: The step before an op that reads a features-last map (:attr:`Case.features_last`).
CHANNELS_LAST = "permute([0, 2, 3, 1])"


@dataclass(frozen=True)
class Case:
    """One op call on an input of one shape, and how to run it.

    ``train`` runs the backend and the reference in train mode (batchnorm statistics, dropout
    with p=0). ``ids``: the input is int64 ids, drawn below every embedding's size, as
    ``archspec parity`` draws them. The input is ``scale * N(0, 1) + shift`` (relu6 needs values past 6, maxpool's
    -inf padding needs an all-negative input). ``pending`` maps a backend to the reason its
    failure is known and being fixed elsewhere (xfail, not strict); ``bugs`` maps a backend to
    a lowering bug this table found (xfail, strict: the test fails once the bug is fixed, so
    the mark goes too).
    """

    label: str
    network: Network
    shape: tuple[int, ...]
    train: bool = False
    dtype: str = "float32"
    ids: bool = False
    scale: float = 1.0
    shift: float = 0.0
    pending: Mapping[str, str] = field(default_factory=dict)
    bugs: Mapping[str, str] = field(default_factory=dict)
    #: The op under test when it is a merge's branch rather than the merge: a ``param``, which
    #: reads no input, so the network's input reaches the output only through another branch.
    subject: str | None = None
    #: The op reads a features-last map [N, H, W, C] (Swin's ops): the input, of ``shape``
    #: [N, C, H, W], reaches it through a step ``permute([0, 2, 3, 1])``, in the reference too.
    features_last: bool = False

    @property
    def op(self) -> str:
        """The op under test: the called op, or the merge of the branches (or ``subject``)."""
        if self.subject is not None:
            return self.subject
        if isinstance(self.network, dict):
            return next(key for key in self.network if key in MERGES)
        return parse_call(self.network)[0]

    @property
    def id(self) -> str:
        return f"{self.op}[{self.label}]"

    def spec(self) -> dict[str, Any]:
        """The one-op spec, as an in-memory dict, with a symbolic batch as specs are written."""
        shape = ["N", *self.shape[1:]]
        declared = {"shape": shape, "dtype": "int64"} if self.ids else shape
        network = {"permute": CHANNELS_LAST, self.op: self.network} if self.features_last else self.network
        return {"archspec": 1, "name": "optable", "input": declared, "network": network}


def parse_call(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    """``"conv(8, 3, padding='same')"`` as ``("conv", [8, 3], {"padding": "same"})``.

    Parsed here, not by archspec, so that the reference reads the arguments as the spec's
    author meant them; ``true`` and ``false`` are the spec's spelling of booleans.
    """
    tree = ast.parse(text, mode="eval").body
    if isinstance(tree, ast.Name):
        return tree.id, [], {}
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise ValueError(f"a case is one op call, not {text!r}")
    args = [_literal(arg) for arg in tree.args]
    kwargs = {kw.arg: _literal(kw.value) for kw in tree.keywords if kw.arg is not None}
    return tree.func.id, args, kwargs


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return node.id == "true"
    return ast.literal_eval(node)


CASES: list[Case] = [
    # ---------------------------------------------------------------- conv
    Case("plain", "conv(8, 3)", (2, 4, 9, 10)),
    Case("asym-padding", "conv(8, 3, padding=[[0, 1], [2, 0]], dilation=2)", (2, 4, 9, 10)),
    Case("asym-kernel-stride", "conv(6, [3, 5], stride=[2, 1], padding=[1, 2])", (2, 4, 9, 7)),
    Case("stride-odd-size", "conv(5, 2, stride=3, padding=1)", (2, 3, 11, 10)),
    Case("same", "conv(6, 3, padding='same')", (2, 3, 7, 9)),
    Case("same-even-kernel", "conv(6, [4, 2], padding='same')", (2, 3, 7, 9)),
    Case("same-dilated", "conv(6, 3, padding='same', dilation=2)", (2, 3, 7, 9)),
    Case("valid-stride", "conv(6, 3, stride=2, padding='valid')", (2, 3, 8, 9)),
    Case("dilation-per-axis", "conv(6, 3, dilation=[1, 3])", (2, 4, 9, 10)),
    Case("groups-no-bias", "conv(6, 3, groups=2, bias=false)", (2, 4, 8, 8)),
    Case("depthwise", "conv(4, 3, groups=4, padding=1)", (2, 4, 8, 8)),
    Case("depthwise-multiplier", "conv(8, 3, groups=4, stride=2)", (2, 4, 9, 9)),
    Case("1x1-on-1x1", "conv(3, 1)", (1, 2, 1, 1)),
    Case("float64", "conv(5, 3, stride=2, padding=[[1, 0], [0, 1]])", (2, 3, 7, 8), dtype="float64"),
    # ---------------------------------------------------------------- conv1d
    Case("plain", "conv1d(4, 3)", (2, 3, 16)),
    Case("stride-padding", "conv1d(4, 3, stride=2, padding=1)", (2, 3, 15)),
    Case("same-dilated", "conv1d(4, 5, padding='same', dilation=2)", (2, 3, 16)),
    Case("same-even-kernel", "conv1d(4, 4, padding='same')", (2, 3, 9)),
    Case("causal", "conv1d(4, 3, padding=[[2, 0]])", (2, 3, 8)),
    Case("valid", "conv1d(4, [3], padding='valid')", (2, 3, 8)),
    Case("groups-no-bias", "conv1d(6, 3, groups=3, bias=false)", (2, 3, 8)),
    # ---------------------------------------------------------------- linear
    Case("plain", "linear(10)", (4, 20)),
    Case("no-bias", "linear(3, bias=false)", (1, 7)),
    Case("float64", "linear(4)", (3, 5), dtype="float64"),
    Case("tokens", "linear(6)", (2, 5, 7)),
    Case("tokens-no-bias", "linear(3, bias=false)", (2, 4, 5)),
    Case("tokens-float64", "linear(4)", (2, 3, 5), dtype="float64"),
    # ---------------------------------------------------------------- batchnorm
    Case("eval-4d", "batchnorm", (2, 3, 5, 5)),
    Case("eval-2d", "batchnorm", (4, 6)),
    Case("eval-3d-eps", "batchnorm(eps=1e-3, update_rate=0.01)", (2, 6, 7)),
    Case("eval-5d-no-affine", "batchnorm(affine=false)", (2, 3, 2, 3, 4)),
    Case("train-4d", "batchnorm(update_rate=0.3)", (4, 3, 5, 5), train=True),
    Case("train-2d", "batchnorm", (8, 6), train=True),
    Case("train-3d-no-affine", "batchnorm(eps=1e-3, affine=false)", (4, 5, 7), train=True),
    Case("train-float64", "batchnorm", (4, 3, 3, 5), train=True, dtype="float64"),
    # ---------------------------------------------------------------- layernorm
    Case("features", "layernorm", (2, 8)),
    Case("no-affine", "layernorm(affine=false, eps=1e-3)", (3, 5)),
    Case("last-axis-3d", "layernorm", (2, 3, 8)),
    Case("dims-2", "layernorm(2)", (2, 3, 8)),
    Case("dims-3-4d", "layernorm(3, eps=1e-6)", (2, 3, 4, 5)),
    Case("dims-2-no-affine", "layernorm(2, affine=false)", (2, 5, 6)),
    Case("float64", "layernorm", (2, 6), dtype="float64"),
    Case("channels-4d", "layernorm(axis=1)", (2, 5, 4, 3), scale=3.0, shift=1.0),
    Case("channels-eps-no-affine", "layernorm(axis=1, eps=1e-6, affine=false)", (2, 6, 3, 4)),
    Case("channels-3d", "layernorm(axis=1)", (2, 4, 7)),
    Case("channels-2d", "layernorm(axis=1)", (3, 6)),
    Case("inner-axis-5d", "layernorm(axis=2)", (2, 3, 4, 2, 3)),
    Case("width-explicit-4d", "layernorm(dims=1)", (2, 3, 4, 5)),
    Case("channels-float64", "layernorm(axis=1)", (2, 3, 4, 4), dtype="float64"),
    # ---------------------------------------------------------------- lrn
    Case("odd-size", "lrn(5)", (2, 8, 6, 6)),
    Case("even-size", "lrn(4, alpha=0.01, beta=0.5, k=1.0)", (2, 7, 5, 5)),
    Case("3d", "lrn(3)", (2, 6, 9)),
    Case("size-2-k-2", "lrn(2, alpha=1e-3, beta=0.5, k=2.0)", (2, 8, 6)),
    # ---------------------------------------------------------------- activations
    Case("4d", "relu", (2, 3, 4, 5)),
    Case("2d", "relu", (3, 5)),
    Case("3d", "relu", (2, 3, 5)),
    Case("past-6", "relu6", (2, 3, 4, 5), scale=5.0),
    Case("default", "leaky_relu", (2, 3, 4, 5)),
    Case("slope", "leaky_relu(0.2)", (3, 5)),
    Case("4d", "sigmoid", (2, 3, 4, 5), scale=3.0),
    Case("3d", "tanh", (2, 3, 5), scale=2.0),
    Case("erf", "gelu", (2, 3, 4, 5), scale=2.0),
    Case("tanh", "gelu(approximate='tanh')", (3, 5), scale=2.0),
    Case("4d", "silu", (2, 3, 4, 5), scale=2.0),
    Case("axis-1-2d", "softmax", (2, 5), scale=2.0),
    Case("axis-1-4d", "softmax", (2, 3, 4, 5), scale=2.0),
    Case("axis-2", "softmax(axis=2)", (2, 3, 4, 5), scale=2.0),
    Case("axis-3", "softmax(3)", (2, 3, 4, 5), scale=2.0),
    Case("axis-minus-1", "softmax(axis=-1)", (2, 3, 4), scale=2.0),
    Case("axis-minus-2", "softmax(axis=-2)", (2, 3, 4), scale=2.0),
    Case("axis-0", "softmax(axis=0)", (3, 5), scale=2.0),
    # ---------------------------------------------------------------- maxpool
    Case("kernel-2", "maxpool(2)", (2, 3, 8, 8)),
    Case("pad-negative-input", "maxpool(3, stride=2, padding=1)", (2, 3, 9, 9), shift=-5.0),
    Case("ceil", "maxpool(3, stride=2, ceil_mode=true)", (2, 3, 8, 8)),
    Case("ceil-window-in-padding", "maxpool(2, stride=2, padding=1, ceil_mode=true)", (1, 1, 5, 5), shift=-5.0),
    Case("dilation", "maxpool(3, stride=2, padding=1, dilation=2)", (2, 3, 10, 10)),
    Case("ceil-dilated", "maxpool(2, stride=2, dilation=2, ceil_mode=true)", (2, 2, 9, 9)),
    Case("asym-kernel-ceil", "maxpool([2, 3], stride=[3, 1], ceil_mode=true)", (1, 2, 7, 6)),
    Case("padding-per-axis", "maxpool([1, 3], stride=[1, 2], padding=[0, 1])", (2, 3, 5, 8)),
    # ---------------------------------------------------------------- avgpool
    Case("kernel-2", "avgpool(2)", (2, 3, 8, 8)),
    Case("include-pad", "avgpool(3, stride=2, padding=1)", (2, 3, 7, 7)),
    Case("exclude-pad", "avgpool(3, stride=2, padding=1, count_include_pad=false)", (2, 3, 7, 7)),
    Case("ceil-include-pad", "avgpool(3, stride=2, padding=1, ceil_mode=true)", (2, 3, 8, 8)),
    Case("ceil-exclude-pad", "avgpool(3, stride=2, padding=1, ceil_mode=true, count_include_pad=false)", (2, 3, 8, 8)),
    Case("ceil-overhang-include-pad", "avgpool(2, stride=2, padding=1, ceil_mode=true)", (2, 2, 6, 6)),
    Case(
        "ceil-overhang-exclude-pad",
        "avgpool(2, stride=2, padding=1, ceil_mode=true, count_include_pad=false)",
        (2, 2, 6, 6),
    ),
    Case("ceil-window-in-padding", "avgpool(2, stride=2, padding=1, ceil_mode=true)", (1, 1, 5, 5)),
    Case("asym-kernel", "avgpool([2, 4], stride=[1, 2])", (2, 3, 6, 9)),
    Case("positional", "avgpool(3, 2, 1, true, false)", (2, 3, 8, 8)),
    Case("float64", "avgpool(3, stride=2, padding=1, ceil_mode=true)", (2, 2, 8, 8), dtype="float64"),
    # ---------------------------------------------------------------- maxpool1d / avgpool1d
    Case("kernel-2", "maxpool1d(2)", (2, 3, 9)),
    Case("ceil-window-in-padding", "maxpool1d(2, stride=2, padding=1, ceil_mode=true)", (2, 3, 5), shift=-5.0),
    Case("ceil-dilated", "maxpool1d(3, stride=2, dilation=2, ceil_mode=true)", (2, 3, 10)),
    Case("kernel-3", "avgpool1d(3)", (2, 3, 10)),
    Case("ceil-include-pad", "avgpool1d(3, stride=2, padding=1, ceil_mode=true)", (2, 3, 6)),
    Case("ceil-overhang-include-pad", "avgpool1d(2, stride=2, padding=1, ceil_mode=true)", (2, 3, 6)),
    Case("ceil-exclude-pad", "avgpool1d(2, stride=2, padding=1, ceil_mode=true, count_include_pad=false)", (2, 3, 5)),
    # ---------------------------------------------------------------- global and adaptive pools
    Case("4d", "global_avgpool", (2, 3, 5, 7)),
    Case("3d", "global_avgpool", (2, 3, 5)),
    Case("5d", "global_avgpool", (2, 3, 2, 3, 4)),
    Case("4d", "global_maxpool", (2, 3, 5, 7)),
    Case("3d", "global_maxpool", (2, 3, 5)),
    Case("5d", "global_maxpool", (2, 3, 2, 3, 4)),
    Case("to-1", "adaptive_avgpool(1)", (2, 3, 7, 7)),
    Case("uniform", "adaptive_avgpool([2, 3])", (2, 3, 6, 9)),
    Case("uneven", "adaptive_avgpool([3, 2])", (2, 3, 7, 5)),
    Case("overlapping", "adaptive_avgpool(4)", (2, 3, 10, 10)),
    Case("larger-than-input", "adaptive_avgpool(5)", (2, 3, 3, 3)),
    # ---------------------------------------------------------------- flatten
    Case("4d", "flatten", (2, 3, 4, 5)),
    Case("start-2", "flatten(2)", (2, 3, 4, 5)),
    Case("start-2-5d", "flatten(start_dim=2)", (2, 3, 2, 3, 4)),
    Case("last-axis", "flatten(3)", (2, 3, 4, 5)),
    Case("2d", "flatten", (2, 5)),
    Case("end-2", "flatten(1, 2)", (2, 3, 4, 5)),
    Case("middle-5d", "flatten(2, end_dim=3)", (2, 3, 2, 3, 4)),
    Case("negative", "flatten(-3, -2)", (2, 3, 4, 5)),
    Case("one-axis", "flatten(2, 2)", (2, 3, 4, 5)),
    # ---------------------------------------------------------------- permute, reshape, select
    Case("channels-last", "permute([0, 2, 3, 1])", (2, 3, 4, 5)),
    Case("channels-first", "permute([0, 3, 1, 2])", (2, 3, 4, 5)),
    Case("tokens", "permute([0, 2, 1])", (2, 3, 5)),
    Case("negative", "permute([0, -1, 1, -2])", (2, 3, 4, 5)),
    Case("5d", "permute(dims=[0, 4, 2, 1, 3])", (2, 3, 2, 4, 5)),
    Case("unchanged", "permute([0, 1, 2, 3])", (2, 3, 4, 5)),
    Case("float64", "permute([0, 2, 3, 1])", (2, 3, 4, 5), dtype="float64"),
    Case("keep-batch", "reshape([0, 4, -1])", (2, 3, 4, 2)),
    Case("split-channels", "reshape([0, 2, 3, 4, 5])", (2, 6, 4, 5)),
    Case("to-2d", "reshape([0, -1])", (2, 3, 4, 5)),
    Case("inferred-middle", "reshape([0, -1, 5])", (2, 3, 4, 5)),
    Case("copy-two", "reshape(shape=[0, 0, 20])", (2, 3, 4, 5)),
    Case("float64", "reshape([0, 5, 12])", (2, 3, 4, 5), dtype="float64"),
    Case("class-token", "select(1, 0)", (2, 5, 7)),
    Case("last", "select(-1, -1)", (2, 3, 4, 5)),
    Case("channel", "select(1, 2)", (2, 3, 4, 5)),
    Case("height", "select(axis=2, index=1)", (2, 3, 4, 5)),
    Case("negative-axis", "select(-2, 3)", (2, 3, 4, 5)),
    Case("float64", "select(1, -2)", (2, 5, 7), dtype="float64"),
    # ---------------------------------------------------------------- channel_shuffle
    Case("4d", "channel_shuffle(2)", (2, 6, 3, 5)),
    Case("three-groups", "channel_shuffle(groups=3)", (2, 12, 4, 4)),
    Case("3d", "channel_shuffle(4)", (2, 8, 7)),
    Case("one-group", "channel_shuffle(1)", (2, 5, 3, 3)),
    # ---------------------------------------------------------------- chunk
    Case("first-half", "chunk(2, 0)", (2, 6, 3, 5)),
    Case("second-half", "chunk(2, 1)", (2, 6, 3, 5)),
    Case("middle-of-three", "chunk(3, index=1)", (2, 9, 4, 3)),
    Case("one-chunk", "chunk(1, 0)", (2, 3, 4, 4)),
    Case("axis-2", "chunk(2, 1, axis=2)", (2, 3, 6, 5)),
    Case("axis-minus-1", "chunk(4, 3, axis=-1)", (2, 3, 8)),
    Case("features-2d", "chunk(5, 2)", (3, 10)),
    Case("float64", "chunk(2, 1)", (2, 4, 3, 3), dtype="float64"),
    # ---------------------------------------------------------------- dropout, identity
    Case("eval", "dropout", (2, 3, 4, 5)),
    Case("eval-2d", "dropout(0.3)", (3, 5)),
    Case("train-p0", "dropout(0.0)", (2, 3, 4, 5), train=True),
    Case("4d", "identity", (2, 3, 4, 5)),
    Case("2d", "identity", (3, 5)),
    # ---------------------------------------------------------------- merges, on branches
    Case("channels", {"concat": ["conv(5, 1)", "identity"]}, (2, 3, 4, 4)),
    Case("three-1d", {"concat": ["identity", "conv1d(2, 1)", "relu"]}, (2, 1, 4)),
    Case("features", {"concat": ["linear(3)", "identity"]}, (2, 5)),
    Case("axis-2", {"concat": ["identity", "avgpool([2, 1])"], "axis": 2}, (2, 3, 4, 5)),
    Case("axis-3", {"concat": ["maxpool([1, 2])", "identity"], "axis": 3}, (2, 3, 4, 6)),
    Case("axis-minus-1", {"concat": ["identity", "maxpool1d(2)"], "axis": -1}, (2, 3, 8)),
    Case("one-branch", {"concat": ["identity"]}, (2, 3, 4, 4)),
    Case("residual", {"add": ["identity", "conv(3, 3, padding=1)"]}, (2, 3, 5, 5)),
    Case("three", {"add": ["identity", "relu", "linear(5)"]}, (2, 5)),
    Case("1d", {"add": ["conv1d(4, 3, padding=1)", "identity"]}, (2, 4, 7)),
    # ---------------------------------------------------------------- param: a learnable tensor, met by a merge
    Case("layer-scale", {"mul": ["identity", "param([3, 1, 1], init=0.5)"]}, (2, 3, 4, 5), subject="param"),
    Case("scale-first", {"mul": ["param([4, 1], init=1e-6)", "conv1d(4, 3, padding=1)"]}, (2, 4, 7), subject="param"),
    Case("lower-rank-add", {"add": ["identity", "param([5, 4])"]}, (2, 3, 5, 4), subject="param"),
    Case("size-1-axes-add", {"add": ["param([1, 3, 1, 4], init='ones')", "identity"]}, (2, 3, 5, 4), subject="param"),
    Case(
        "position-embedding",
        {"add": ["linear(6)", "param([1, 5, 6], init='normal', std=0.02)"]},
        (2, 5, 4),
        subject="param",
    ),
    Case("class-token", {"concat": ["param([1, 1, 4])", "identity"], "axis": 1}, (2, 3, 4), subject="param"),
    Case("class-token-last", {"concat": ["linear(4)", "param([1, 2, 4])"], "axis": 1}, (3, 5, 6), subject="param"),
    Case(
        "train-float64",
        {"mul": ["identity", "param([3, 1, 1], init=1e-6)"]},
        (2, 3, 4, 4),
        train=True,
        dtype="float64",
        subject="param",
    ),
    # ---------------------------------------------------------------- drop_path (train mode only at p=0: RNGs differ)
    Case("eval", "drop_path(0.2)", (2, 3, 4, 5)),
    Case("eval-2d", "drop_path(p=0.5)", (3, 5)),
    Case("train-p0", "drop_path(0.0)", (2, 3, 4, 5), train=True),
    Case("train-p0-3d", "drop_path(0.0)", (2, 4, 7), train=True),
    # ---------------------------------------------------------------- hard activations
    # scale 4: a third of the values lie past ±3, and many within 0.5 of a kink
    Case("4d", "hardsigmoid", (2, 3, 4, 5), scale=4.0),
    Case("2d", "hardsigmoid", (3, 7), scale=4.0),
    Case("around-3", "hardsigmoid", (2, 3, 5), shift=3.0),
    Case("4d", "hardswish", (2, 3, 4, 5), scale=4.0),
    Case("2d", "hardswish", (3, 7), scale=4.0),
    Case("around-minus-3", "hardswish", (2, 3, 5), shift=-3.0),
    # ---------------------------------------------------------------- mul, on branches
    Case("gate", {"mul": ["identity", "global_avgpool"]}, (2, 3, 4, 5)),
    Case("gate-first", {"mul": ["global_maxpool", "conv(3, 3, padding=1)"]}, (2, 3, 5, 4)),
    Case("gate-1d", {"mul": ["conv1d(4, 1)", "global_avgpool"]}, (2, 4, 7)),
    Case("same-shape", {"mul": ["identity", "conv(3, 3, padding=1)"]}, (2, 3, 5, 5)),
    Case("three", {"mul": ["identity", "relu", "linear(5)"]}, (2, 5)),
    Case("three-broadcast", {"mul": ["sigmoid", "global_avgpool", "conv(4, 1)"]}, (2, 4, 3, 5)),
    Case("one-branch", {"mul": ["identity"]}, (2, 3, 4, 4)),
    # ---------------------------------------------------------------- upsample
    Case("nearest-2", "upsample(2)", (2, 3, 5, 6)),
    Case("nearest-1.5", "upsample(1.5)", (2, 3, 5, 7)),
    Case("nearest-per-axis", "upsample([2, 3])", (2, 3, 4, 3)),
    Case("nearest-1.1-same-size", "upsample(1.1)", (1, 2, 5, 7)),
    Case("nearest-one-axis-same-size", "upsample([1.1, 1.5])", (1, 2, 5, 7)),
    Case("bilinear-one-axis-same-size", "upsample([1.5, 1.1], mode='bilinear')", (1, 2, 5, 7)),
    Case("nearest-2.1-doubles", "upsample([2.1, 1.5])", (1, 2, 5, 4)),
    Case("nearest-size", "upsample(size=[7, 9])", (2, 3, 5, 4)),
    Case("nearest-size-shrink", "upsample(size=[3, 2])", (2, 3, 7, 5)),
    Case("bilinear-2", "upsample(2, mode='bilinear')", (2, 3, 5, 6)),
    Case("bilinear-1.5", "upsample(1.5, mode='bilinear')", (2, 3, 5, 7)),
    Case("bilinear-size", "upsample(size=[7, 9], mode='bilinear')", (2, 3, 5, 4)),
    Case("bilinear-shrink", "upsample(0.5, mode='bilinear')", (2, 3, 9, 6)),
    Case("bilinear-to-1", "upsample(size=1, mode='bilinear')", (1, 2, 4, 5)),
    Case("align-corners-2", "upsample(2, mode='bilinear', align_corners=true)", (2, 3, 5, 6)),
    Case("align-corners-1.5", "upsample([1.5, 2.5], mode='bilinear', align_corners=true)", (2, 3, 5, 4)),
    Case("align-corners-size", "upsample(size=[1, 9], mode='bilinear', align_corners=true)", (2, 3, 5, 4)),
    Case("float64", "upsample(1.5, mode='bilinear')", (2, 2, 5, 7), dtype="float64"),
    Case("nearest-1.5", "upsample1d(1.5)", (2, 3, 7)),
    Case("nearest-size", "upsample1d(size=11)", (2, 3, 4)),
    Case("linear-2", "upsample1d(2, mode='linear')", (2, 3, 5)),
    Case("linear-size", "upsample1d(size=[9], mode='linear')", (2, 3, 4)),
    Case("align-corners", "upsample1d(2.5, mode='linear', align_corners=true)", (2, 3, 5)),
    Case("linear-1.1-same-size", "upsample1d(1.1, mode='linear')", (2, 3, 5)),
    # upsample1d's nearest where the scale keeps or doubles the size: see tests/ops/test_resize.py
    # ---------------------------------------------------------------- conv_transpose
    Case("plain", "conv_transpose(5, 3)", (2, 4, 5, 6)),
    Case("stride-2-kernel-2", "conv_transpose(4, 2, stride=2)", (2, 3, 5, 7)),
    Case("unet-up", "conv_transpose(4, 3, stride=2, padding=1, output_padding=1)", (2, 3, 5, 6)),
    Case(
        "asym-stride-padding",
        "conv_transpose(3, [3, 4], stride=[3, 2], padding=[2, 1], output_padding=[2, 0])",
        (2, 2, 4, 5),
    ),
    Case("padding-past-reach", "conv_transpose(3, 3, stride=2, padding=3)", (2, 2, 5, 6)),
    Case("dilation", "conv_transpose(3, 3, stride=2, dilation=2, padding=1)", (2, 2, 4, 5)),
    Case("output-padding-by-dilation", "conv_transpose(3, 2, dilation=3, output_padding=2)", (2, 2, 4, 5)),
    Case(
        "output-padding-past-stride",
        "conv_transpose(3, 3, dilation=[3, 1], padding=1, output_padding=[2, 0])",
        (2, 2, 4, 5),
    ),
    Case("output-padding-no-bias", "conv_transpose(3, 2, dilation=3, output_padding=[0, 2], bias=false)", (2, 2, 4, 5)),
    Case("groups-no-bias", "conv_transpose(6, 3, stride=2, groups=2, bias=false)", (2, 4, 5, 5)),
    Case("depthwise", "conv_transpose(4, 4, stride=2, padding=1, groups=4)", (2, 4, 5, 6)),
    Case("groups-3", "conv_transpose(3, [2, 3], stride=[2, 1], groups=3, output_padding=[1, 0])", (2, 6, 4, 5)),
    Case("float64", "conv_transpose(4, 3, stride=2, padding=1, groups=2)", (2, 4, 5, 6), dtype="float64"),
    # ---------------------------------------------------------------- embedding, positions
    Case("tokens", "embedding(7, 4)", (2, 5), ids=True),
    Case("one-id-per-sample", "embedding(3, 6)", (4,), ids=True),
    Case("one-row", "embedding(1, 3)", (2, 4), ids=True),
    Case("of-ids", "positions", (3, 5), ids=True),
    Case("of-tokens", "positions", (2, 4, 3)),
    # ---------------------------------------------------------------- attention
    Case("plain", "attention(8, 2)", (2, 5, 8)),
    Case("one-head", "attention(6, 1)", (2, 4, 6)),
    Case("causal", "attention(8, 4, causal=true)", (2, 5, 8)),
    Case("no-bias", "attention(6, 3, bias=false)", (2, 5, 6)),
    Case("causal-no-bias", "attention(4, 2, causal=true, bias=false)", (1, 7, 4)),
    Case("one-token", "attention(4, 2, causal=true)", (2, 1, 4)),
    Case("train-dropout-p0", "attention(8, 2, dropout=0.0, causal=true)", (2, 5, 8), train=True),
    Case("float64", "attention(8, 2)", (2, 5, 8), dtype="float64"),
    Case("causal-float64", "attention(8, 4, causal=true)", (2, 6, 8), dtype="float64"),
    # ---------------------------------------------------------------- window_attention, patch_merge: [N, H, W, C]
    # (inputs [N, C, H, W], permuted features-last first); odd sizes pad to whole windows
    Case("shifted", "window_attention(8, 2, 3, shift=1)", (2, 8, 6, 6), features_last=True),
    Case("padded-shifted", "window_attention(6, 3, [2, 3], shift=[1, 2])", (2, 6, 5, 7), features_last=True),
    Case("one-window-no-shift", "window_attention(4, 1, 4, shift=2)", (2, 4, 3, 4), features_last=True),
    Case("unshifted-no-bias", "window_attention(8, 4, 2, bias=false)", (1, 8, 4, 6), features_last=True),
    Case(
        "train-dropout-p0",
        "window_attention(4, 2, 2, shift=1, dropout=0.0)",
        (2, 4, 4, 4),
        train=True,
        features_last=True,
    ),
    Case("float64", "window_attention(8, 2, 3, shift=1)", (2, 8, 7, 6), dtype="float64", features_last=True),
    Case("even", "patch_merge", (2, 3, 4, 6), features_last=True),
    Case("odd-padded", "patch_merge", (2, 2, 5, 3), features_last=True),
    Case("float64", "patch_merge", (2, 3, 3, 4), dtype="float64", features_last=True),
]
