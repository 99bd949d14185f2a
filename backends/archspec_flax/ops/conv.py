"""``conv`` and ``conv1d`` → ``nnx.Conv`` on channels-last input; ``conv_transpose`` →
:class:`ConvTranspose`.

``nnx.Conv`` pads ``'SAME'`` by default while the spec's default is no padding, so the
padding pairs are always written out; groups (depthwise convs) are its
``feature_group_count``. The kernel is HWIO here and OIHW in canonical weights
(:mod:`archspec_flax.weights` converts).

``nnx.ConvTranspose`` has neither groups nor PyTorch's padding (it pads where PyTorch crops),
so the generated ``ConvTranspose`` subclass computes the transposed convolution as the forward
convolution it is: over the input dilated by the stride (``lhs_dilation``), padded by the
kernel's reach less PyTorch's padding (plus ``output_padding`` at the high end), with the
window flipped and each group's input and output channels swapped. Its kernel keeps
``nnx.ConvTranspose``'s ``transpose_kernel`` layout, (kH, kW, out/groups, in): PyTorch's
[in, out/groups, kH, kW] transposed, which the weights converter maps.
"""

from __future__ import annotations

from archspec.ops.conv import Conv, Conv1d, ConvTranspose
from archspec_flax._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

register_helper(
    Helper(
        "ConvTranspose",
        '''class ConvTranspose(nnx.ConvTranspose):
    """PyTorch's ConvTranspose2d on channels-last arrays: ``padding`` crops cells from both ends,
    ``output_padding`` adds cells at the high end, ``feature_group_count`` splits the channels into
    groups. The kernel is (kH, kW, out/groups, in): PyTorch's [in, out/groups, kH, kW] transposed."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: tuple[int, int],
        strides: tuple[int, int] = (1, 1),
        *,
        padding: tuple[int, int] = (0, 0),
        output_padding: tuple[int, int] = (0, 0),
        kernel_dilation: tuple[int, int] = (1, 1),
        feature_group_count: int = 1,
        use_bias: bool = True,
        rngs: nnx.Rngs,
    ) -> None:
        # nnx's padding (self.padding) is that of the stride-dilated input: the kernel's reach less
        # PyTorch's crop, and output_padding more at the high end
        reach = [d * (k - 1) for k, d in zip(kernel_size, kernel_dilation, strict=True)]
        pads = tuple((r - p, r - p + extra) for r, p, extra in zip(reach, padding, output_padding, strict=True))
        super().__init__(
            in_features,
            out_features // feature_group_count,
            kernel_size,
            strides,
            padding=pads,
            kernel_dilation=kernel_dilation,
            use_bias=False,
            transpose_kernel=True,
            rngs=rngs,
        )
        self.out_features = out_features
        self.feature_group_count = feature_group_count
        if use_bias:
            self.use_bias = True
            self.bias = nnx.Param(jnp.zeros((out_features,), self.param_dtype))

    def __call__(self, x: jax.Array) -> jax.Array:
        groups = self.feature_group_count
        bias = self.bias[...] if self.bias is not None else None
        x, kernel, bias = self.promote_dtype((x, self.kernel[...], bias), dtype=self.dtype)
        height, width, out_per_group, channels = kernel.shape
        # the forward convolution this is the gradient of, as HWIO: the window flipped, and in each
        # group the input and output channels swapped
        kernel = kernel[::-1, ::-1].reshape(height, width, out_per_group, groups, channels // groups)
        kernel = kernel.transpose(0, 1, 4, 3, 2).reshape(height, width, channels // groups, groups * out_per_group)
        y = lax.conv_general_dilated(
            x,
            kernel,
            (1, 1),
            self.padding,
            lhs_dilation=self.strides,
            rhs_dilation=self.kernel_dilation,
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=groups,
            precision=self.precision,
        )
        return y if bias is None else y + bias''',
        needs=("jnp", "lax"),
    )
)


@LOWERINGS.register(Conv, Conv1d)
def conv(op: Conv | Conv1d, ctx: LoweringContext) -> ModuleCall:
    n = op.spatial
    ones = (1,) * n
    options = (
        ("padding", ctx.pairs("padding", op.padding)),  # always explicit: nnx.Conv's default is 'SAME'
        *ctx.options(
            ("strides", ctx.per_dim("stride"), ones),
            ("kernel_dilation", ctx.per_dim("dilation"), ones),
            ("feature_group_count", ctx.attr("groups"), 1),
            ("use_bias", ctx.attr("bias"), True),
        ),
    )
    args = (ctx.channels(), ctx.attr("out_channels"), ctx.per_dim("kernel"))
    return ModuleCall("nnx.Conv", args, options, rngs=True)


@LOWERINGS.register(ConvTranspose)
def conv_transpose(op: ConvTranspose, ctx: LoweringContext) -> ModuleCall:
    ones, zeros = (1,) * op.spatial, (0,) * op.spatial
    options = ctx.options(
        ("strides", ctx.per_dim("stride"), ones),
        ("padding", ctx.per_dim("padding"), zeros),
        ("output_padding", ctx.per_dim("output_padding"), zeros),
        ("kernel_dilation", ctx.per_dim("dilation"), ones),
        ("feature_group_count", ctx.attr("groups"), 1),
        ("use_bias", ctx.attr("bias"), True),
    )
    args = (ctx.channels(), ctx.attr("out_channels"), ctx.per_dim("kernel"))
    return ModuleCall("ConvTranspose", args, options, helper="ConvTranspose", rngs=True)
