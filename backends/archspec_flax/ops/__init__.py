"""Flax lowerings, one module per op family, mirroring :mod:`archspec.ops`.

Importing this package registers every rule in :data:`archspec_flax._lowering.LOWERINGS`.
"""

from archspec_flax.ops import activation, conv, linear, merge, norm, param, pool, resize, tensor

__all__ = ["activation", "conv", "linear", "merge", "norm", "param", "pool", "resize", "tensor"]
