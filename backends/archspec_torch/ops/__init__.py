"""Torch lowerings, one module per op family, mirroring :mod:`archspec.ops`.

Importing this package registers every rule in :data:`archspec_torch._lowering.LOWERINGS`.
"""

from archspec_torch.ops import activation, conv, linear, merge, norm, param, pool, resize, tensor

__all__ = ["activation", "conv", "linear", "merge", "norm", "param", "pool", "resize", "tensor"]
