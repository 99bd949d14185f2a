"""The torch backend object: build = emit + load, so the two cannot drift (build skips only the
check of which params the network class takes, see ClassEmitter.emit).

Importing it imports no torch: ``archspec compile --backend torch`` writes source without it.
torch loads when a module is built or run, or weights are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.backends import Artifact, BackendOptions, EmittedSource, OptionsArg, RunResult, by_name
from archspec.codegen import load_source
from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.io import atomic_write_text
from archspec.ir import GRAPH_INPUT, GRAPH_OUTPUT, Graph
from archspec.ops import Op
from archspec.weights import is_canonical
from archspec_torch import ops as _ops  # registers the lowerings
from archspec_torch._lowering import LOWERINGS
from archspec_torch._reserved import NN_MODULE_ATTRIBUTES
from archspec_torch.codegen._emit import ModuleEmitter
from archspec_torch.codegen._weights import add_weights_loader

if TYPE_CHECKING:
    from torch import nn

del _ops

#: Names a submodule cannot take: they are nn.Module's own attributes.
RESERVED_ATTRIBUTES = NN_MODULE_ATTRIBUTES | frozenset({"forward", "training"})


class TorchBackend:
    """Builds ``nn.Module``s and their source; see :class:`archspec.backends.Backend`."""

    name = "torch"
    #: No options: the network's params and weights are all a build takes.
    Options = BackendOptions
    artifact = Artifact("PyTorch source", ".py")

    def emit(self, graph: Graph, report: ShapeReport, options: OptionsArg = None) -> EmittedSource:
        """Readable, standalone source (imports only torch) whose entry class builds the network."""
        self.Options.resolve(self.name, options)
        return ModuleEmitter(graph, report, RESERVED_ATTRIBUTES).emit()

    def export(
        self,
        graph: Graph,
        report: ShapeReport,
        output: str | Path,
        weights: str | Path | None = None,
        options: OptionsArg = None,
    ) -> str:
        """Write :meth:`emit`'s source to ``output``; with ``weights``, checked against the network
        first (every mismatch by name, in one SpecError), the file also gets
        ``load_weights(model, path=WEIGHTS)``, ``WEIGHTS`` being their path relative to ``output``."""
        emitted = self.emit(graph, report, options)
        loads = ""
        if weights is not None:
            self.load_weights(self._construct(emitted), weights)  # all of them, or a SpecError
            emitted = add_weights_loader(emitted, weights, output)
            loads = f"; load_weights({emitted.entry}()) reads {weights}"
        atomic_write_text(output, emitted.source)
        return f"wrote {output} ({emitted.entry}, {report.total_params:,} params{loads})"

    def build(
        self, graph: Graph, report: ShapeReport, weights: str | Path | None = None, options: OptionsArg = None
    ) -> nn.Module:
        """The network as an ``nn.Module`` (train mode, like any new module), weights loaded if given."""
        self.Options.resolve(self.name, options)
        # the classes emit writes, the network class's params unchecked (see ClassEmitter.emit)
        model = self._construct(ModuleEmitter(graph, report, RESERVED_ATTRIBUTES).emit(checked_signature=False))
        if weights is not None:
            self.load_weights(model, weights)
        return model

    def _construct(self, emitted: EmittedSource) -> nn.Module:
        """An instance of the network class ``emitted`` defines (the source runs, importing torch)."""
        model: nn.Module = getattr(load_source(emitted), emitted.entry)()
        return model

    def check(self, graph: Graph, report: ShapeReport) -> None:
        """Every lowering rule runs in :meth:`emit`, which writes source and builds nothing."""
        ModuleEmitter(graph, report, RESERVED_ATTRIBUTES).emit(checked_signature=False)

    def load_weights(self, module: Any, path: str | Path) -> None:
        from archspec_torch import weights

        weights.load_weights(module, path)

    def save_weights(self, module: Any, path: str | Path) -> None:
        from archspec_torch import weights

        weights.save_weights(module, path)

    def supports(self, op: type[Op]) -> bool:
        return op in LOWERINGS

    def run(
        self,
        module: Any,
        inputs: Any,
        *,
        train: bool = False,
        capture: Sequence[str] = (),
        cotangent: Any = None,
        device: str = "cpu",
    ) -> RunResult:
        """One forward (and, with a cotangent, backward) pass; see :meth:`archspec.backends.Backend.run`."""
        import torch

        try:
            place = torch.device(device)
        except RuntimeError:
            raise SpecError(f"torch has no device '{device}'", expected="cpu or cuda") from None
        if place.type == "cuda" and not torch.cuda.is_available():
            raise SpecError(f"torch has no '{device}' device here", hint="run on cpu, or install torch with CUDA")
        xs = {name: torch.from_numpy(array) for name, array in by_name(inputs, GRAPH_INPUT).items()}
        floating = [x.dtype for x in xs.values() if x.is_floating_point()]
        model: nn.Module = module.to(place, dtype=floating[0]) if floating else module.to(place)  # float64 promotes
        model.train(train)
        captured: dict[str, torch.Tensor] = {}
        hooks = []
        for path in capture:
            try:
                target = model.get_submodule(path)
            except AttributeError:
                raise SpecError(f"cannot capture '{path}': the torch module has no submodule there") from None
            # a copy: a later in-place activation may overwrite the module's output tensor
            hooks.append(target.register_forward_hook(lambda _m, _i, out, p=path: captured.__setitem__(p, out.clone())))
        # only floating-point inputs have gradients (token ids do not)
        xs = {k: x.to(place).requires_grad_(cotangent is not None and x.is_floating_point()) for k, x in xs.items()}
        model.zero_grad(set_to_none=True)
        try:
            outs = by_name(model(*xs.values()), GRAPH_OUTPUT)
            if cotangent is not None:
                cotangents = by_name(cotangent, GRAPH_OUTPUT)
                terms = [(out * torch.from_numpy(cotangents[k]).to(place, out.dtype)).sum() for k, out in outs.items()]
                torch.stack(terms).sum().backward()
        finally:
            for hook in hooks:
                hook.remove()

        def numpy(t: torch.Tensor) -> Any:
            return t.detach().cpu().numpy()

        grads: dict[str, Any] = {}
        if cotangent is not None:
            grads.update((name, numpy(x.grad)) for name, x in xs.items() if x.grad is not None)
            grads.update((name, numpy(p.grad)) for name, p in model.named_parameters() if p.grad is not None)
        state = {name: numpy(buf) for name, buf in model.named_buffers() if is_canonical(name)}
        return RunResult(
            {k: numpy(v) for k, v in outs.items()}, {p: numpy(t) for p, t in captured.items()}, state, grads
        )

    def __repr__(self) -> str:
        return "<archspec backend 'torch'>"
