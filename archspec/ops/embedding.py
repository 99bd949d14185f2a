"""Integer ids in: ``embedding`` (a lookup table, as ``torch.nn.Embedding``) and ``positions`` (the
position of each token, what a learned position embedding looks up).

GPT-2's input embedding is the sum of a token table and a position table::

    tokens: {in: [input], do: embedding(vocab, width)}       # wte
    pos:    {in: [input], do: positions}                       # [N, T]: 0, 1, ..., T - 1
    wpe:    {in: [pos], do: embedding(context, width)}
    embedded: {in: [tokens, wpe], do: add}

An embedding counts 0 MACs: a lookup multiplies nothing (fvcore counts it so; torchinfo's
``N * num * dim`` counts the whole table once per sample, every row it does not read included).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from archspec.ir import FLOAT, INDEX, Shape, TensorType
from archspec.ops._base import Op, ShapeError, expect_rank, register


@register
class Embedding(Op):
    """A table of ``num`` learnable vectors of size ``dim``, looked up by integer ids: input
    [N] or [N, T] of ids in ``0 .. num - 1`` (int64), output [N, dim] or tokens [N, T, dim] (float32,
    features-last);
    weight ``weight`` [num, dim], as ``torch.nn.Embedding``'s.

    An id out of range is an error in torch and onnxruntime; jax clamps it (its gathers never
    fail), so the backends agree on ids in range only.

    Arguments: ``num`` (rows: the vocabulary, or the longest sequence for positions), ``dim``.
    """

    op_name = "embedding"
    takes_integers = True

    num: Annotated[int, Field(gt=0)]
    dim: Annotated[int, Field(gt=0)]

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (ids,) = inputs
        if not ids.is_integer:
            raise ShapeError(
                f"embedding looks vectors up by integer ids, but its input {ids} holds real values ({ids.dtype})",
                expected=f"{INDEX} ids, [N] or [N, T]",
                found=f"{ids.dtype} {ids}",
                hint="declare the network's ids: input: {shape: [N, T], dtype: int64}; "
                "to project real vectors, use linear(dim)",
            )
        expect_rank(self, ids, (1, 2), "[N] or [N, T] ids")
        return TensorType((*ids.shape, self.dim), FLOAT, features_last=ids.rank == 2)  # tokens [N, T, dim]

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        return {"weight": (self.num, self.dim)}

    def index_bound(self) -> int:
        return self.num


@register
class Positions(Op):
    """The position of each element along axis 1, for each sample: [N, T, ...] → [N, T] int64
    holding ``0, 1, ..., T - 1`` in every row (``torch.arange(T).expand(N, T)``), the ids a learned
    position embedding looks up (``positions -> embedding(1024, 768)``, GPT-2's ``wpe``).

    Takes ids or real values; its values depend on the input's shape alone. No arguments.
    """

    op_name = "positions"
    takes_integers = True

    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        (x,) = inputs
        if x.rank < 2:
            raise ShapeError(
                "positions counts along axis 1, after the batch axis",
                expected="[N, T] or [N, T, ...]",
                found=str(x),
            )
        return TensorType(x.shape[:2], INDEX)
