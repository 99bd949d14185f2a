"""The Flax backend object: build = emit + exec, so the two cannot drift.

Importing it imports neither jax nor flax: ``archspec compile --backend flax`` writes source
without them. They load when a module is built or run, or weights are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from archspec.backends import Artifact, BackendOptions, EmittedSource, OptionsArg, RunResult
from archspec.codegen import load_source
from archspec.errors import SpecError
from archspec.infer import ShapeReport
from archspec.io import atomic_write_text
from archspec.ir import Graph
from archspec.ops import Op
from archspec_flax import ops as _ops  # registers the lowerings
from archspec_flax._lowering import LOWERINGS, held_order
from archspec_flax._reserved import NNX_MODULE_ATTRIBUTES
from archspec_flax.codegen._emit import ModuleEmitter

if TYPE_CHECKING:
    from flax import nnx

del _ops

#: Names a layer attribute cannot take: nnx.Module's own, and the network's data_format. ``layers``
#: is nnx.Sequential's list, but the classes with named layers are plain modules (or NamedLayers),
#: so a step may take it: torchvision's ViT keeps its blocks at ``encoder.layers``.
RESERVED_ATTRIBUTES = NNX_MODULE_ATTRIBUTES | frozenset({"data_format"})


class FlaxOptions(BackendOptions):
    """What :meth:`FlaxBackend.build` takes besides the graph and weights (``archspec.build(...,
    options={...})``). Both are arguments of the network class itself, so compiled source does not
    fix them."""

    data_format: Literal["NCHW", "NHWC"] = Field(
        "NCHW", description="the layout the module takes and returns: the spec's NCHW, or NHWC (no transposes)"
    )
    seed: int = Field(0, description="the seed of the random initial weights (and of dropout's stream)")


class FlaxBackend:
    """Builds Flax NNX modules and their source; see :class:`archspec.backends.Backend`."""

    name = "flax"
    Options = FlaxOptions
    artifact = Artifact("Flax NNX source", ".py")

    def emit(self, graph: Graph, report: ShapeReport, options: OptionsArg = None) -> EmittedSource:
        """Readable, standalone source (imports only jax and flax) whose entry class builds the network.

        The options do not change it: the class takes ``data_format`` and ``rngs`` when constructed."""
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
        """Write :meth:`emit`'s source to ``output``, after checking ``weights`` (when given) against
        the network: every mismatch by name, in one SpecError, and nothing written.

        Options that would change only the module built, not the source, are refused rather than
        ignored: the written class takes them (``Network(data_format="NHWC", rngs=nnx.Rngs(1))``).
        """
        resolved = self.Options.resolve(self.name, options)
        changed = sorted(resolved.model_fields_set)
        if changed:
            raise SpecError(
                f"the flax backend's option '{changed[0]}' is for archspec.build, not for compiled source",
                expected="no options when compiling for flax",
                found=", ".join(f"{name}={getattr(resolved, name)!r}" for name in changed),
                hint="the compiled class takes data_format= and rngs= when you construct it",
            )
        emitted = self.emit(graph, report)
        loads = ""
        if weights is not None:
            self.build(graph, report, weights)  # all mismatches, by name, or nothing
            loads = f"; {weights} fits it: the flax backend's load_weights loads it"
        atomic_write_text(output, emitted.source)
        return f"wrote {output} ({emitted.entry}, {report.total_params:,} params{loads})"

    def build(
        self, graph: Graph, report: ShapeReport, weights: str | Path | None = None, options: OptionsArg = None
    ) -> nnx.Module:
        """The network as an NNX module (train mode, like a new torch module), weights loaded if given.

        It takes and returns arrays in the spec's NCHW layout unless ``data_format="NHWC"``
        (see :class:`FlaxOptions`); ``.eval()`` and ``.train()`` switch modes. Weights are checked
        before any is loaded: see :func:`archspec_flax._runtime.instantiate`.
        """
        from archspec_flax import _runtime

        resolved = self.Options.resolve(self.name, options)
        # the classes emit writes, the network class's params unchecked (see ClassEmitter.emit)
        emitted = ModuleEmitter(graph, report, RESERVED_ATTRIBUTES).emit(checked_signature=False)
        entry = getattr(load_source(emitted, "archspec_generated_flax"), emitted.entry)
        held = _channels_last_outputs(graph, report)
        return _runtime.instantiate(entry, resolved.data_format, resolved.seed, weights, held)

    def check(self, graph: Graph, report: ShapeReport) -> None:
        """Every lowering rule runs in :meth:`emit`, which writes source and builds nothing."""
        ModuleEmitter(graph, report, RESERVED_ATTRIBUTES).emit(checked_signature=False)

    def load_weights(self, module: Any, path: str | Path) -> None:
        from archspec_flax import weights

        weights.load_weights(module, path)

    def save_weights(self, module: Any, path: str | Path) -> None:
        from archspec_flax import weights

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
        """One forward (and, with a cotangent, backward) pass; see :meth:`archspec.backends.Backend.run`
        and :func:`archspec_flax._runtime.run`."""
        from archspec_flax import _runtime

        return _runtime.run(module, inputs, train=train, capture=capture, cotangent=cotangent, device=device)

    def __repr__(self) -> str:
        return "<archspec backend 'flax'>"


def _channels_last_outputs(graph: Graph, report: ShapeReport) -> frozenset[str]:
    """The nodes and composites whose outputs the generated module holds channels-last."""
    nodes = {name for name, info in report.info.items() if held_order(info.output) != tuple(range(info.output.rank))}
    return frozenset(nodes | {scope.path for scope in graph.scopes if scope.output in nodes})
