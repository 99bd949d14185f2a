"""``concat`` → ``torch.cat([...], dim=axis)``, ``add`` → ``a + b`` and ``mul`` → ``a * b`` (PyTorch
broadcasts as the spec does), written inline in ``forward``. A concat's input of batch 1 (a class
token) is expanded to the others' batch, as torchvision's ViT writes
``self.class_token.expand(n, -1, -1)``."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.ops.merge import Add, Concat, Mul
from archspec_torch._lowering import LOWERINGS, FunctionCall, LoweringContext


@LOWERINGS.register(Concat)
def concat(op: Concat, ctx: LoweringContext) -> FunctionCall:
    batch = op.batch(ctx.inputs)
    expanded = {i for i, x in enumerate(ctx.inputs) if batch is not None and x.shape[0] != batch}
    full = next(i for i in range(len(ctx.inputs)) if i not in expanded)
    keep = ", ".join(["-1"] * (ctx.output.rank - 1))

    def render(inputs: Sequence[str]) -> str:
        joined = [f"{x}.expand({inputs[full]}.shape[0], {keep})" if i in expanded else x for i, x in enumerate(inputs)]
        return f"torch.cat([{', '.join(joined)}], dim={op.axis})"

    def over(inputs: str) -> str:
        return f"torch.cat({inputs}, dim={op.axis})"

    return FunctionCall(render, needs=("torch",), over=None if expanded else over)


@LOWERINGS.register(Add)
def add(op: Add, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " + ".join(inputs))


@LOWERINGS.register(Mul)
def mul(op: Mul, ctx: LoweringContext) -> FunctionCall:
    return FunctionCall(lambda inputs: " * ".join(inputs))
