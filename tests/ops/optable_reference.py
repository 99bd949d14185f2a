"""What each op means, written with torch.nn.functional: the reference of the op x backend table.

Each function takes the spec call's own arguments, as the spec's author wrote them (``padding``
an int, a list per axis, ``[lo, hi]`` pairs, ``'same'`` or ``'valid'``), never archspec's
canonical attributes, so a canonicalisation bug cannot hide in the reference too. The first
argument is the :class:`Site` being evaluated: its inputs, its canonical weights (PyTorch
layouts: OIHW, [out, in]) and the mode. Each function checks the weight shapes it is handed
against the shapes the op's meaning implies.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn import functional as F


@dataclass
class Site:
    """One op being evaluated: its inputs, its weights by local name (``weight``,
    ``running_mean``: running statistics are updated in place in train mode), the mode."""

    inputs: list[torch.Tensor]
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    train: bool = False

    @property
    def x(self) -> torch.Tensor:
        (only,) = self.inputs
        return only

    def param(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        value = self.weights[name]
        assert tuple(value.shape) == shape, f"{name}: canonical shape {tuple(value.shape)}, the op implies {shape}"
        return value

    def expect_weights(self, *names: str) -> None:
        assert set(self.weights) == set(names), f"weights {sorted(self.weights)}, the op implies {sorted(names)}"


def _per_axis(value: int | list[int], rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, list) else (value,) * rank


# ------------------------------------------------------------------ conv, linear
def _conv(
    rank: int,
    site: Site,
    out_channels: int,
    kernel: int | list[int],
    stride: int | list[int] = 1,
    padding: int | str | list[Any] = 0,
    dilation: int | list[int] = 1,
    groups: int = 1,
    bias: bool = True,
) -> torch.Tensor:
    x = site.x
    site.expect_weights("weight", *(["bias"] if bias else []))
    weight = site.param("weight", (out_channels, x.shape[1] // groups, *_per_axis(kernel, rank)))
    shift = site.param("bias", (out_channels,)) if bias else None
    if isinstance(padding, list) and all(isinstance(lo_hi, list) for lo_hi in padding):
        x = F.pad(x, [side for lo_hi in reversed(padding) for side in lo_hi])  # F.pad starts at the last axis
        padding = 0
    padding = padding if isinstance(padding, str) else _per_axis(padding, rank)
    convolve = F.conv2d if rank == 2 else F.conv1d
    with warnings.catch_warnings():
        # torch warns that 'same' with an even kernel copies the input to pad it unevenly
        warnings.filterwarnings("ignore", message=".*padding='same'.*", category=UserWarning)
        return convolve(x, weight, shift, _per_axis(stride, rank), padding, _per_axis(dilation, rank), groups)


def linear(site: Site, out_features: int, bias: bool = True) -> torch.Tensor:
    x = site.x
    site.expect_weights("weight", *(["bias"] if bias else []))
    weight = site.param("weight", (out_features, x.shape[-1]))
    return F.linear(x, weight, site.param("bias", (out_features,)) if bias else None)


# ------------------------------------------------------------------ norms
def batchnorm(site: Site, eps: float = 1e-5, update_rate: float = 0.1, affine: bool = True) -> torch.Tensor:
    channels = (site.x.shape[1],)
    stats = ("running_mean", "running_var")
    site.expect_weights(*stats, *(["weight", "bias"] if affine else []))
    scale, shift = (site.param("weight", channels), site.param("bias", channels)) if affine else (None, None)
    mean, var = (site.param(name, channels) for name in stats)
    # PyTorch's momentum is the new batch's weight, as update_rate is, and its running
    # variance takes the unbiased batch variance, as the spec's does
    return F.batch_norm(site.x, mean, var, scale, shift, training=site.train, momentum=update_rate, eps=eps)


def layernorm(
    site: Site, dims: int | None = None, eps: float = 1e-5, affine: bool = True, axis: int | None = None
) -> torch.Tensor:
    # over one axis: that axis moved last and back, as torchvision's LayerNorm2d permutes NCHW
    x = site.x if axis is None else site.x.movedim(axis, -1)
    normalised = tuple(x.shape[-(dims or 1) :])
    site.expect_weights(*(["weight", "bias"] if affine else []))
    scale, shift = (site.param("weight", normalised), site.param("bias", normalised)) if affine else (None, None)
    y = F.layer_norm(x, normalised, scale, shift, eps)
    return y if axis is None else y.movedim(-1, axis)


def lrn(site: Site, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> torch.Tensor:
    return F.local_response_norm(site.x, size, alpha, beta, k)


# ------------------------------------------------------------------ activations
def softmax(site: Site, axis: int = 1) -> torch.Tensor:
    return F.softmax(site.x, dim=axis)


def _elementwise(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    return lambda site, *args, **kwargs: fn(site.x, *args, **kwargs)


# ------------------------------------------------------------------ pools
def _maxpool(
    rank: int,
    site: Site,
    kernel: int | list[int],
    stride: int | list[int] | None = None,
    padding: int | list[int] = 0,
    dilation: int | list[int] = 1,
    ceil_mode: bool = False,
) -> torch.Tensor:
    pool = F.max_pool2d if rank == 2 else F.max_pool1d
    stride = kernel if stride is None else stride
    axes = (_per_axis(v, rank) for v in (kernel, stride, padding, dilation))
    return pool(site.x, *axes, ceil_mode=ceil_mode)


def _avgpool(
    rank: int,
    site: Site,
    kernel: int | list[int],
    stride: int | list[int] | None = None,
    padding: int | list[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> torch.Tensor:
    pool = F.avg_pool2d if rank == 2 else F.avg_pool1d
    stride = kernel if stride is None else stride
    axes = (_per_axis(v, rank) for v in (kernel, stride, padding))
    return pool(site.x, *axes, ceil_mode=ceil_mode, count_include_pad=count_include_pad)


def _spatial(site: Site) -> tuple[int, ...]:
    return tuple(range(2, site.x.dim()))


def adaptive_avgpool(site: Site, output_size: int | list[int]) -> torch.Tensor:
    return F.adaptive_avg_pool2d(site.x, _per_axis(output_size, 2))


# ------------------------------------------------------------------ tensor ops and merges
def channel_shuffle(site: Site, groups: int) -> torch.Tensor:
    # written out as torchvision's shufflenetv2.channel_shuffle is, not torch's own kernel
    n, c, *spatial = site.x.shape
    return site.x.reshape(n, groups, c // groups, *spatial).transpose(1, 2).reshape(n, c, *spatial)


def chunk(site: Site, chunks: int, index: int, axis: int = 1) -> torch.Tensor:
    # by the index arithmetic, not torch.chunk, whose view the torch backend returns
    part = site.x.shape[axis] // chunks
    return site.x.narrow(axis, index * part, part)


def reshape(site: Site, shape: list[int]) -> torch.Tensor:
    # an entry 0 keeps the input's size there, as in ONNX's Reshape
    return site.x.reshape([site.x.shape[i] if size == 0 else size for i, size in enumerate(shape)])


def dropout(site: Site, p: float = 0.5) -> torch.Tensor:
    assert not site.train or p == 0, "train-mode dropout draws a random mask: a table case takes p=0"
    return F.dropout(site.x, p, training=site.train)


def concat(site: Site, axis: int = 1) -> torch.Tensor:
    # a class token [1, 1, D] joins tokens [N, T, D] as torchvision's ViT writes it: expanded first
    batch = max(x.shape[0] for x in site.inputs)
    expanded = [x.expand(batch, *x.shape[1:]) if axis % x.dim() != 0 else x for x in site.inputs]
    return torch.cat(expanded, dim=axis)


def add(site: Site) -> torch.Tensor:
    return functools.reduce(operator.add, site.inputs)


def mul(site: Site) -> torch.Tensor:
    return functools.reduce(operator.mul, site.inputs)


def param(site: Site, shape: list[int], init: float | str = "zeros", std: float | None = None) -> torch.Tensor:
    # the table draws its own weights: ``init`` and ``std`` make a fresh network's, not these;
    # the site's input is the merge's, which a param does not read
    site.expect_weights("")
    return site.param("", tuple(shape))


def drop_path(site: Site, p: float) -> torch.Tensor:
    assert not site.train or p == 0, "train-mode drop_path draws a random mask: a table case takes p=0"
    return site.x  # eval mode, or nothing to drop


def conv_transpose(
    site: Site,
    out_channels: int,
    kernel: int | list[int],
    stride: int | list[int] = 1,
    padding: int | list[int] = 0,
    output_padding: int | list[int] = 0,
    groups: int = 1,
    dilation: int | list[int] = 1,
    bias: bool = True,
) -> torch.Tensor:
    x = site.x
    site.expect_weights("weight", *(["bias"] if bias else []))
    weight = site.param("weight", (x.shape[1], out_channels // groups, *_per_axis(kernel, 2)))
    shift = site.param("bias", (out_channels,)) if bias else None
    axes = (_per_axis(v, 2) for v in (stride, padding, output_padding))
    return F.conv_transpose2d(x, weight, shift, *axes, groups, _per_axis(dilation, 2))


# ------------------------------------------------------------------ resizing
def upsample(
    site: Site,
    scale: float | list[float] | None = None,
    size: int | list[int] | None = None,
    mode: str = "nearest",
    align_corners: bool = False,
) -> torch.Tensor:
    scale_factor = tuple(scale) if isinstance(scale, list) else scale
    corners = align_corners if mode != "nearest" else None  # torch refuses the flag with 'nearest'
    return F.interpolate(site.x, _t(size), scale_factor, mode, corners)


# ------------------------------------------------------------------ embedding, attention
def embedding(site: Site, num: int, dim: int) -> torch.Tensor:
    site.expect_weights("weight")
    return F.embedding(site.x, site.param("weight", (num, dim)))


def positions(site: Site) -> torch.Tensor:
    site.expect_weights()
    batch, tokens = site.x.shape[:2]
    return torch.arange(tokens).expand(batch, tokens)


def attention(
    site: Site, dim: int, heads: int, causal: bool = False, dropout: float = 0.0, bias: bool = True
) -> torch.Tensor:
    """Written out from the definition (per-head softmax(q kᵀ / sqrt(d)) v), not through
    nn.MultiheadAttention, which the torch backend itself uses."""
    x = site.x
    site.expect_weights("in_proj_weight", "out_proj.weight", *(["in_proj_bias", "out_proj.bias"] if bias else []))
    batch, tokens, _ = x.shape
    qkv = F.linear(
        x, site.param("in_proj_weight", (3 * dim, dim)), site.param("in_proj_bias", (3 * dim,)) if bias else None
    )
    q, k, v = (part.reshape(batch, tokens, heads, dim // heads).transpose(1, 2) for part in qkv.chunk(3, dim=-1))
    scores = q @ k.transpose(-2, -1) / (dim // heads) ** 0.5
    if causal:
        later = torch.ones(tokens, tokens, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(later, float("-inf"))
    weights = F.dropout(scores.softmax(dim=-1), dropout, training=site.train)
    attended = (weights @ v).transpose(1, 2).reshape(batch, tokens, dim)
    return F.linear(
        attended, site.param("out_proj.weight", (dim, dim)), site.param("out_proj.bias", (dim,)) if bias else None
    )


def window_attention(
    site: Site,
    dim: int,
    heads: int,
    window: int | list[int],
    shift: int | list[int] = 0,
    dropout: float = 0.0,
    bias: bool = True,
) -> torch.Tensor:
    """Written from the definition, one window at a time (not torchvision's batched partition,
    which the torch backend follows): each window of the padded map rolled by -shift attends
    within itself, the score of query p and key q biased by the table's row for the offset p - q
    and by -100 where the roll joined p and q from different bands of the map."""
    x = site.x  # [N, H, W, C]
    (wh, ww), shifts = _per_axis(window, 2), _per_axis(shift, 2)
    table = site.param("relative_position_bias_table", ((2 * wh - 1) * (2 * ww - 1), heads))
    site.expect_weights(
        "qkv.weight", "proj.weight", "relative_position_bias_table", *(["qkv.bias", "proj.bias"] if bias else [])
    )
    qkv_weight, proj_weight = site.param("qkv.weight", (3 * dim, dim)), site.param("proj.weight", (dim, dim))
    qkv_bias, proj_bias = (
        (site.param("qkv.bias", (3 * dim,)), site.param("proj.bias", (dim,))) if bias else (None, None)
    )
    n, height, width, _ = x.shape
    padded = [-(-size // w) * w for size, w in zip((height, width), (wh, ww), strict=True)]
    shifts = [0 if w >= size else s for s, w, size in zip(shifts, (wh, ww), padded, strict=True)]
    rolled = F.pad(x, (0, 0, 0, padded[1] - width, 0, padded[0] - height)).roll([-s for s in shifts], (1, 2))

    def bands(size: int, w: int, s: int) -> torch.Tensor:  # 0, 1, 2 along one axis of the rolled map
        return torch.tensor([0 if s == 0 or i < size - w else 1 if i < size - s else 2 for i in range(size)])

    region = bands(padded[0], wh, shifts[0])[:, None] * 3 + bands(padded[1], ww, shifts[1])[None, :]
    rows, cols = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
    rows, cols = rows.flatten(), cols.flatten()
    offset_row = (rows[:, None] - rows[None, :] + wh - 1) * (2 * ww - 1) + cols[:, None] - cols[None, :] + ww - 1
    position_bias = table[offset_row].permute(2, 0, 1)  # [heads, tokens, tokens]
    out = torch.zeros_like(rolled)
    for top in range(0, padded[0], wh):
        for left in range(0, padded[1], ww):
            tokens = rolled[:, top : top + wh, left : left + ww].reshape(n, wh * ww, dim)
            q, k, v = F.linear(tokens, qkv_weight, qkv_bias).reshape(n, wh * ww, 3, heads, dim // heads).unbind(2)
            scores = torch.einsum("nqhd,nkhd->nhqk", q, k) / (dim // heads) ** 0.5 + position_bias
            labels = region[top : top + wh, left : left + ww].flatten()
            scores = scores - 100.0 * (labels[:, None] != labels[None, :])
            weights = F.dropout(scores.softmax(-1), dropout, training=site.train)
            attended = torch.einsum("nhqk,nkhd->nqhd", weights, v).reshape(n, wh * ww, dim)
            out[:, top : top + wh, left : left + ww] = F.linear(attended, proj_weight, proj_bias).reshape(
                n, wh, ww, dim
            )
    return out.roll(shifts, (1, 2))[:, :height, :width]


def patch_merge(site: Site) -> torch.Tensor:
    """Each 2x2 neighbourhood of the zero-padded [N, H, W, C] map, its four positions' channels
    side by side: (0, 0), (1, 0), (0, 1), (1, 1) as (row, column) offsets."""
    x = site.x
    x = F.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
    return torch.cat([x[:, row::2, col::2] for col in (0, 1) for row in (0, 1)], dim=-1)


def _t(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


#: The reference of every op, by the name a spec calls it.
REFERENCES: dict[str, Callable[..., torch.Tensor]] = {
    "conv": functools.partial(_conv, 2),
    "embedding": embedding,
    "positions": positions,
    "attention": attention,
    "window_attention": window_attention,
    "patch_merge": patch_merge,
    "conv1d": functools.partial(_conv, 1),
    "linear": linear,
    "batchnorm": batchnorm,
    "layernorm": layernorm,
    "lrn": lrn,
    "relu": _elementwise(F.relu),
    "relu6": _elementwise(F.relu6),
    "leaky_relu": _elementwise(F.leaky_relu),
    "sigmoid": _elementwise(torch.sigmoid),
    "tanh": _elementwise(torch.tanh),
    "gelu": _elementwise(F.gelu),
    "silu": _elementwise(F.silu),
    "softmax": softmax,
    "maxpool": functools.partial(_maxpool, 2),
    "maxpool1d": functools.partial(_maxpool, 1),
    "avgpool": functools.partial(_avgpool, 2),
    "avgpool1d": functools.partial(_avgpool, 1),
    "global_avgpool": lambda site: site.x.mean(dim=_spatial(site), keepdim=True),
    "global_maxpool": lambda site: site.x.amax(dim=_spatial(site), keepdim=True),
    "adaptive_avgpool": adaptive_avgpool,
    "flatten": lambda site, start_dim=1, end_dim=-1: torch.flatten(site.x, start_dim, end_dim),
    "permute": lambda site, dims: torch.permute(site.x, dims),
    "reshape": reshape,
    "select": lambda site, axis, index: torch.select(site.x, axis, index),
    "channel_shuffle": channel_shuffle,
    "chunk": chunk,
    "dropout": dropout,
    "identity": lambda site: site.x,
    "concat": concat,
    "add": add,
    "param": param,
    "drop_path": drop_path,
    "hardsigmoid": _elementwise(F.hardsigmoid),
    "hardswish": _elementwise(F.hardswish),
    "mul": mul,
    "upsample": upsample,
    "upsample1d": upsample,
    "conv_transpose": conv_transpose,
}
