"""``attention``: multi-head self-attention over a token sequence, as ``torch.nn.MultiheadAttention``
(``batch_first=True``) calls it on ``(x, x, x)``.

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
