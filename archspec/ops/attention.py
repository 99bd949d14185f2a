"""``attention``: multi-head self-attention over a token sequence, as ``torch.nn.MultiheadAttention``
(``batch_first=True``) calls it on ``(x, x, x)``; ``window_attention``: Swin's attention within
(shifted) windows of a feature map, as torchvision's ``ShiftedWindowAttention``
(:class:`WindowAttention`, which says how it counts its MACs).

MACs, for [N, T, D] with the projections' biases (``bias=true``)::

    N * T * (3 * D * D + 3 * D)      the packed q, k, v projection (in_proj_weight, in_proj_bias)
  + N * T * T * D                    the scores, q kᵀ over every head (H heads of D / H)
  + N * T * T * D                    the weighted sum of the values
  + N * T * (D * D + D)              the output projection (out_proj)

The projections count as ``linear`` does (each weight and bias element once per token); the two
products are fvcore's count of the batched matrix products (torchinfo sees parameters only and
misses them). A causal mask hides half the scores but the kernels compute them all, so causal
attention counts the same; softmax, scaling and dropout count 0, as in both tools.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from archspec.ir import Shape, TensorType
from archspec.ops._base import Op, ShapeError, batch, expect_rank, register, static


@register
class Attention(Op):
    """Multi-head self-attention on [N, T, D] → [N, T, D] (``dim`` = D, split into ``heads`` heads
    of D / heads each): ``softmax(q kᵀ / sqrt(D / heads)) v`` per head, heads concatenated, then
    projected.

    Parameters, named and laid out as ``nn.MultiheadAttention``'s (so a step named
    ``self_attention`` has torchvision's ViT keys): ``in_proj_weight`` [3D, D] (the q, k and v
    projections stacked in that order), ``in_proj_bias`` [3D], ``out_proj.weight`` [D, D],
    ``out_proj.bias`` [D]; no biases when ``bias`` is false.

    ``causal``: position t attends to positions 0..t only (a language model's mask), so an output
    never depends on a later token. ``dropout``: the probability of zeroing an attention weight
    in train mode (the rest scaled by 1 / (1 - dropout)), as PyTorch does; identity in eval mode.

    Arguments: ``dim``, ``heads``, ``causal`` (false), ``dropout`` (0.0), ``bias`` (true).
    """

    op_name = "attention"
    random_rates = ("dropout",)
    misnamed: ClassVar[dict[str, str]] = {
        "num_heads": "archspec calls nn.MultiheadAttention's num_heads 'heads'",
        "embed_dim": "archspec calls nn.MultiheadAttention's embed_dim 'dim'",
        "is_causal": "archspec calls it 'causal': attention(dim, heads, causal=true)",
    }

    dim: Annotated[int, Field(gt=0)]
    heads: Annotated[int, Field(gt=0)]
    causal: bool = False
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    bias: bool = True

    @model_validator(mode="after")
    def _heads_divide_dim(self) -> Attention:
        if self.dim % self.heads:
            raise ValueError(f"heads must divide dim into equal heads, but {self.heads} does not divide {self.dim}")
        return self

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (3,), "[N, T, D] tokens", hint="tokens of a feature map: flatten(2) -> permute([0, 2, 1])")
        width = static(x.shape[2], "attention's token width")
        if width != self.dim:
            raise ShapeError(
                f"attention(dim={self.dim}) got tokens of width {width}",
                expected=f"[N, T, {self.dim}]",
                found=str(x),
                attr="dim",
                hint=f"write attention({width}, ...), or project the tokens first with linear({self.dim})",
            )
        return x

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        d = self.dim
        shapes: dict[str, Shape] = {"in_proj_weight": (3 * d, d)}
        if self.bias:
            shapes["in_proj_bias"] = (3 * d,)
        shapes["out_proj.weight"] = (d, d)
        if self.bias:
            shapes["out_proj.bias"] = (d,)
        return shapes

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        (x,) = inputs
        # a symbolic length counts as 1, as a symbolic batch does (MACs per token and sample)
        tokens = x.shape[1] if isinstance(x.shape[1], int) else 1
        d, biases = self.dim, int(self.bias)
        projections = 3 * d * d + 3 * d * biases + d * d + d * biases  # per token
        products = 2 * tokens * d  # per query token: its scores against T keys, then the sum of T values
        return batch(x) * tokens * (projections + products)


@register
class WindowAttention(Op):
    """Swin's (shifted) window attention on a features-last map [N, H, W, C] → [N, H, W, C], as
    torchvision's ``ShiftedWindowAttention``: the map, zero-padded at the bottom and right to whole
    windows, is rolled up and left by ``shift``, cut into windows of ``window`` positions, and each
    window's positions attend to each other (``heads`` heads of C / heads), with a learned bias per
    head for each offset between two positions of a window; the result is uncut, rolled back and
    cropped. Where the window covers the whole padded map along an axis there is nothing to shift
    and that axis is not rolled. A rolled map puts regions side by side in one window that are not
    neighbours in the image: their scores get -100 (weights about e^-100), as torchvision's mask.

    Parameters, named as torchvision's (so a step named ``attn`` has its keys): ``qkv.weight``
    [3C, C] (q, k, v stacked), ``qkv.bias`` [3C], ``proj.weight`` [C, C], ``proj.bias`` [C] (no
    biases when ``bias`` is false), ``relative_position_bias_table`` [(2 wh - 1) (2 ww - 1), heads],
    one row per offset. torchvision also keeps the table's index as a buffer,
    ``relative_position_index``; it is a function of the window alone, computed by every backend,
    and not a canonical weight (a file holding it loads, as one holding BatchNorm's counters does).

    ``dropout``: the probability of zeroing an attention weight in train mode, as ``attention``'s
    (torchvision's ``attention_dropout``; its dropout of the projection is a ``dropout`` step after
    this one).

    Arguments: ``dim`` (C), ``heads``, ``window`` (an int, or [wh, ww]), ``shift`` (0; an int or
    one per axis, each below the window: torchvision's ``shift_size``), ``dropout`` (0.0),
    ``bias`` (true).

    MACs, per sample, over the padded map of P positions in windows of W positions each: the
    projections as ``linear`` counts them, P (4 C² + 4 C), and the two products in each window
    as ``attention`` counts them, P · 2 W C.
    """

    op_name = "window_attention"
    spatial = 2
    spatial_fields = ("window", "shift")
    random_rates = ("dropout",)
    misnamed: ClassVar[dict[str, str]] = {
        "num_heads": "archspec calls torchvision's num_heads 'heads'",
        "window_size": "archspec calls torchvision's window_size 'window'",
        "shift_size": "archspec calls torchvision's shift_size 'shift'",
        "attention_dropout": "archspec calls torchvision's attention_dropout 'dropout', as for attention",
    }

    dim: Annotated[int, Field(gt=0)]
    heads: Annotated[int, Field(gt=0)]
    window: tuple[Annotated[int, Field(gt=0)], ...]
    shift: tuple[Annotated[int, Field(ge=0)], ...] = (0,)
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> WindowAttention:
        for name in ("window", "shift"):
            if len(getattr(self, name)) != 2:
                raise ValueError(f"{name} needs 2 values (height, width), got {len(getattr(self, name))}")
        if self.dim % self.heads:
            raise ValueError(f"heads must divide dim into equal heads, but {self.heads} does not divide {self.dim}")
        for shift, window in zip(self.shift, self.window, strict=True):
            if shift >= window:
                raise ValueError(
                    f"each shift must be smaller than the window, "
                    f"but {list(self.shift)} is not below {list(self.window)}"
                )
        return self

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def offsets(self) -> int:
        """Rows of the bias table: the offsets between two positions of a window, (2 wh - 1) (2 ww - 1)."""
        return (2 * self.window[0] - 1) * (2 * self.window[1] - 1)

    def padded(self, height: int, width: int) -> tuple[int, int]:
        """The map's size padded at the bottom and right to whole windows."""
        wh, ww = self.window
        return -(-height // wh) * wh, -(-width // ww) * ww

    def effective_shift(self, height: int, width: int) -> tuple[int, int]:
        """``shift`` on a map of this (unpadded) size: 0 along an axis one window covers."""
        (padded_h, padded_w), (wh, ww), (sh, sw) = self.padded(height, width), self.window, self.shift
        return 0 if wh >= padded_h else sh, 0 if ww >= padded_w else sw

    def relative_position_index(self) -> list[int]:
        """torchvision's ``relative_position_index``, flattened: for query i and key j of a window
        (row-major positions), the bias table's row for their offset, at ``i * wh * ww + j``."""
        wh, ww = self.window
        positions = [(r, c) for r in range(wh) for c in range(ww)]
        return [(qr - kr + wh - 1) * (2 * ww - 1) + (qc - kc + ww - 1) for qr, qc in positions for kr, kc in positions]

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        expect_rank(self, x, (4,), "[N, H, W, C], a features-last map")
        if not x.features_last:
            raise ShapeError(
                f"window_attention attends over a features-last map [N, H, W, C], but {x} is channels-first",
                expected=f"[N, H, W, {self.dim}]",
                found=str(x),
                hint="move the channels last first: permute([0, 2, 3, 1])",
            )
        width = static(x.shape[3], "window_attention's channels")
        if width != self.dim:
            raise ShapeError(
                f"window_attention(dim={self.dim}) got a map of {width} channels",
                expected=f"[N, H, W, {self.dim}]",
                found=str(x),
                attr="dim",
                hint=f"write window_attention({width}, ...)",
            )
        return x

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        d = self.dim
        shapes: dict[str, Shape] = {"qkv.weight": (3 * d, d)}
        if self.bias:
            shapes["qkv.bias"] = (3 * d,)
        shapes["proj.weight"] = (d, d)
        if self.bias:
            shapes["proj.bias"] = (d,)
        shapes["relative_position_bias_table"] = (self.offsets, self.heads)
        return shapes

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        (x,) = inputs
        height, width = x.shape[1:3]
        # a symbolic size counts as one window, as attention counts a symbolic length as 1
        padded_h, padded_w = self.padded(
            height if isinstance(height, int) else self.window[0], width if isinstance(width, int) else self.window[1]
        )
        d, biases = self.dim, int(self.bias)
        per_position = 4 * d * d + 4 * d * biases + 2 * self.window[0] * self.window[1] * d
        return batch(x) * padded_h * padded_w * per_position
