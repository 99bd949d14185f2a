"""``upsample`` and ``upsample1d`` → :class:`Upsample`, a helper module over channels-last input
with PyTorch's meaning.

``jax.image.resize`` places its samples by its own conventions (half-pixel centres for
``'nearest'``, an antialiasing filter when shrinking, a scale recomputed from the sizes), which
differ from ``nn.Upsample``'s. The helper therefore works out, from the static shapes, the input
cells each output cell reads, exactly as PyTorch's kernels do (see :mod:`archspec.ops.resize`),
and gathers them with ``jnp.take`` one spatial axis at a time: nearest copies one cell,
(bi)linear blends two. Nearest indices are computed in float32, as PyTorch computes them, so a
product that lands just below a whole number is floored as PyTorch floors it, and PyTorch's
shortcuts are taken where its kernels take them (see :mod:`archspec.ops.resize`). A size that is
another array's is read from it where the op runs, by :func:`resize_to`.
"""

from __future__ import annotations

from archspec.ops.resize import Upsample, Upsample1d
from archspec_flax._lowering import LOWERINGS, FunctionCall, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "Upsample",
        '''class Upsample(nnx.Module):
    """PyTorch's nn.Upsample over the spatial axes of a channels-last array: an output cell i reads
    the input at i / scale (i * in / out when a size is given); 'nearest' copies the cell it falls
    in, 'bilinear' (or 'linear') blends the two around it (half-pixel centres, or corners aligned)."""

    def __init__(
        self,
        size: tuple[int, ...] | None = None,
        scale: tuple[float, ...] | None = None,
        mode: str = "nearest",
        align_corners: bool = False,
    ) -> None:
        self.size = size
        self.scale = scale
        self.mode = mode
        self.align_corners = align_corners

    def __call__(self, x: jax.Array) -> jax.Array:
        # PyTorch's 2-D nearest kernel, and its linear ones, copy an axis that keeps its size
        # whatever the scale; its 1-D nearest kernel maps it by the scale like any other
        copies_kept = self.mode != "nearest" or x.ndim == 4
        for axis, length in enumerate(x.shape[1:-1], start=1):
            scale = None if self.scale is None else self.scale[axis - 1]
            out = self.size[axis - 1] if self.size is not None else int(length * scale)
            if out == length and copies_kept:
                continue
            if self.mode == "nearest":
                x = jnp.take(x, self.nearest(length, out, scale, halves_doubled=x.ndim == 4), axis=axis)
            else:
                low, high, weight = self.linear(length, out, scale, x.dtype)
                shape = [1] * x.ndim
                shape[axis] = out
                weight = weight.reshape(shape)
                x = jnp.take(x, low, axis=axis) * (1 - weight) + jnp.take(x, high, axis=axis) * weight
        return x

    @staticmethod
    def nearest(length: int, out: int, scale: float | None, halves_doubled: bool) -> jax.Array:
        """The input cell each output cell copies: floor(i / scale), in float32 as PyTorch; i // 2
        along an axis that doubles in PyTorch's 2-D kernel (``halves_doubled``), whatever the scale."""
        if halves_doubled and out == 2 * length:
            return jnp.arange(out) // 2
        ratio = jnp.float32(1.0 / scale) if scale is not None else jnp.float32(length) / jnp.float32(out)
        return jnp.minimum(jnp.floor(jnp.arange(out, dtype=jnp.float32) * ratio).astype(jnp.int32), length - 1)

    def linear(self, length: int, out: int, scale: float | None, dtype) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The two input cells around each output cell's position, and the second one's weight."""
        position = jnp.arange(out, dtype=dtype)
        if self.align_corners:
            source = position * ((length - 1) / (out - 1) if out > 1 else 0.0)
        else:
            ratio = 1.0 / scale if scale is not None else length / out
            source = jnp.maximum((position + 0.5) * ratio - 0.5, 0.0)
        low = jnp.minimum(jnp.floor(source).astype(jnp.int32), length - 1)
        high = jnp.minimum(low + 1, length - 1)
        return low, high, jnp.clip(source - low, 0.0, 1.0)''',
        needs=("jnp",),
    )
)


register_helper(
    Helper(
        "resize_to",
        '''def resize_to(
    x: jax.Array, like: jax.Array, mode: str = "nearest", align_corners: bool = False
) -> jax.Array:
    """``x`` resized to the spatial size of ``like`` (channels-last), as PyTorch's
    ``F.interpolate(x, size=like.shape[2:])`` resizes NCHW arrays."""
    return Upsample(size=like.shape[1:-1], mode=mode, align_corners=align_corners)(x)''',
        uses=("Upsample",),
    )
)


@LOWERINGS.register(Upsample, Upsample1d)
def upsample(op: Upsample | Upsample1d, ctx: LoweringContext) -> ModuleCall | FunctionCall:
    if len(ctx.inputs) == 2:  # the second input's size, read where the op runs
        sampling = f', mode="{op.mode}"' * (op.mode != "nearest") + ", align_corners=True" * op.align_corners
        return FunctionCall(lambda xs: f"resize_to({xs[0]}, {xs[1]}{sampling})", helpers=("resize_to",))
    options = ctx.options(  # the one of size and scale that is given: the other is None, left out
        ("size", ctx.literal(None) if op.size is None else ctx.per_dim("size"), None),
        ("scale", ctx.literal(None) if op.scale is None else ctx.per_dim("scale"), None),
        ("mode", ctx.attr("mode"), "nearest"),
        ("align_corners", ctx.attr("align_corners"), False),
    )
    return ModuleCall("Upsample", kwargs=options, helper="Upsample")
