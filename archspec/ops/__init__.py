"""The op library: each op declared once, one module per family.

==============  ==========================================================
family          ops
==============  ==========================================================
``conv``        conv, conv1d
``linear``      linear
``norm``        batchnorm, layernorm, lrn
``activation``  relu, relu6, leaky_relu, sigmoid, tanh, gelu, silu, softmax
``pool``        maxpool, avgpool, maxpool1d, avgpool1d, global_avgpool,
                global_maxpool, adaptive_avgpool
``tensor``      flatten, permute, reshape, select, channel_shuffle, chunk,
                patch_merge, dropout, drop_path, identity
``param``       param
``merge``       concat, add, mul
``resize``      upsample, upsample1d
``embedding``   embedding, positions (integer ids in)
``attention``   attention, window_attention
==============  ==========================================================

MACs (multiply-accumulates) follow torchinfo's "Total mult-adds": a layer with
learnable parameters counts each parameter element once per use, i.e. per output
position for convolutions and once per sample for linear and norm layers;
parameter-free ops count 0. ``embedding`` counts 0 (a lookup); ``attention`` counts its
projections so and its two matrix products as fvcore does (:mod:`archspec.ops.attention`).
FLOPs are about twice the MACs; tools disagree on this, so archspec reports MACs and labels them.
"""

from archspec.ops import activation, attention, conv, embedding, linear, merge, norm, param, pool, resize, tensor
from archspec.ops._base import REGISTRY, Op, ShapeError, Tie, register

__all__ = [
    "REGISTRY",
    "Op",
    "ShapeError",
    "Tie",
    "activation",
    "attention",
    "conv",
    "embedding",
    "linear",
    "merge",
    "norm",
    "param",
    "pool",
    "register",
    "resize",
    "tensor",
]
