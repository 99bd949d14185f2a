"""``flatten`` → ``nn.Flatten`` (NCHW row-major, as the spec says), ``permute`` → :class:`Permute`
(torchvision's ``ops.misc.Permute``), ``reshape`` → :class:`Reshape`, ``select`` → :class:`Select`,
``channel_shuffle`` → ``nn.ChannelShuffle``, ``chunk`` → :class:`Chunk` (``x.chunk(chunks,
dim)[index]``: a view, so never overwritten in place, see :mod:`archspec_torch._inplace`),
``patch_merge`` → :class:`PatchMerge` (torchvision's ``_patch_merging_pad``), ``dropout`` →
``nn.Dropout`` (identity in eval mode), ``drop_path`` → :class:`StochasticDepth`
(torchvision's, mode "row"), ``identity`` → ``nn.Identity``."""

from __future__ import annotations

from archspec.ops.tensor import (
    ChannelShuffle,
    Chunk,
    Dropout,
    DropPath,
    Flatten,
    Identity,
    PatchMerge,
    Permute,
    Reshape,
    Select,
)
from archspec_torch._lowering import LOWERINGS, Helper, LoweringContext, ModuleCall, register_helper

# torch has no module for these three; as modules they sit in an nn.Sequential like any layer
register_helper(
    Helper(
        "Permute",
        '''class Permute(nn.Module):
    """torch.permute as a module, as torchvision.ops.misc.Permute: output axis i is input axis dims[i]."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)''',
        needs=("torch",),
    )
)
register_helper(
    Helper(
        "Reshape",
        '''class Reshape(nn.Module):
    """torch.reshape as a module, where an entry 0 of ``shape`` keeps the input's size there
    (the batch, whatever it is), as ONNX's Reshape does; one entry may be -1."""

    def __init__(self, shape: list[int]) -> None:
        super().__init__()
        self.shape = list(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape([x.shape[i] if size == 0 else size for i, size in enumerate(self.shape)])''',
        needs=("torch",),
    )
)
register_helper(
    Helper(
        "Select",
        '''class Select(nn.Module):
    """torch.select as a module: the slice at ``index`` along ``dim``, without that axis
    (``x[:, 0]`` is ``Select(1, 0)``)."""

    def __init__(self, dim: int, index: int) -> None:
        super().__init__()
        self.dim = dim
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.select(self.dim, self.index)''',
        needs=("torch",),
    )
)

# Written out rather than imported from torchvision.ops, so the emitted file needs torch alone.
register_helper(
    Helper(
        "StochasticDepth",
        '''class StochasticDepth(nn.Module):
    """Stochastic depth, as torchvision.ops.StochasticDepth(p, mode="row"): in train mode each
    sample is zeroed with probability ``p`` and the kept ones scaled by 1 / (1 - p); eval: identity."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        scale = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep).div_(keep)
        return x * scale''',
        needs=("torch",),
    )
)

register_helper(
    Helper(
        "Chunk",
        '''class Chunk(nn.Module):
    """Part ``index`` of ``x.chunk(chunks, dim)``: ``chunks`` equal parts along ``dim``."""

    def __init__(self, chunks: int, index: int, dim: int = 1) -> None:
        super().__init__()
        self.chunks = chunks
        self.index = index
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.chunk(self.chunks, dim=self.dim)[self.index]''',
        needs=("torch",),
    )
)

register_helper(
    Helper(
        "PatchMerge",
        '''class PatchMerge(nn.Module):
    """Swin's patch merging gather, torchvision's _patch_merging_pad: [N, H, W, C], padded to even
    sizes, to [N, H/2, W/2, 4C], each 2x2 neighbourhood's channels side by side."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-3], x.shape[-2]
        x = F.pad(x, (0, 0, 0, width % 2, 0, height % 2))
        corners = (x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :])
        return torch.cat(corners, -1)''',
        needs=("torch", "F"),
    )
)


@LOWERINGS.register(Flatten)
def flatten(op: Flatten, ctx: LoweringContext) -> ModuleCall:
    axes = ctx.options(("start_dim", ctx.attr("start_dim"), 1), ("end_dim", ctx.attr("end_dim"), -1))
    return ModuleCall("nn.Flatten", kwargs=axes)


@LOWERINGS.register(Permute)
def permute(op: Permute, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Permute", (ctx.literal(list(op.dims)),), helper="Permute")


@LOWERINGS.register(Reshape)
def reshape(op: Reshape, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Reshape", (ctx.literal(list(op.shape)),), helper="Reshape")


@LOWERINGS.register(Select)
def select(op: Select, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("Select", (ctx.attr("axis"), ctx.attr("index")), helper="Select")


@LOWERINGS.register(ChannelShuffle)
def channel_shuffle(op: ChannelShuffle, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.ChannelShuffle", (ctx.attr("groups"),))


@LOWERINGS.register(Chunk)
def chunk(op: Chunk, ctx: LoweringContext) -> ModuleCall:
    dim = ctx.options(("dim", ctx.attr("axis"), 1))
    return ModuleCall("Chunk", (ctx.attr("chunks"), ctx.attr("index")), dim, helper="Chunk")


@LOWERINGS.register(PatchMerge)
def patch_merge(op: PatchMerge, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("PatchMerge", helper="PatchMerge")


@LOWERINGS.register(Dropout)
def dropout(op: Dropout, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Dropout", (ctx.attr("p"),))


@LOWERINGS.register(DropPath)
def drop_path(op: DropPath, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("StochasticDepth", (ctx.attr("p"),), helper="StochasticDepth")


@LOWERINGS.register(Identity)
def identity(op: Identity, ctx: LoweringContext) -> ModuleCall:
    return ModuleCall("nn.Identity")
