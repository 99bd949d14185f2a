"""The op contract and registry.

An op is declared once, as a frozen pydantic model registered with :func:`register`:
its fields are the op's attributes (in the order positional arguments fill them),
canonicalised at validation (``kernel=3`` becomes ``(3, 3)``), and its methods are
the rules: :meth:`Op.infer` (output type), :meth:`Op.params` and :meth:`Op.buffers`
(tensor shapes, named as in PyTorch's ``state_dict``), :meth:`Op.macs`.

Rules raise :class:`ShapeError` with what was expected and what was found; the
shape pass adds the node's location and block stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from archspec.errors import SpecError, exception_attrs_settable
from archspec.ir import Dim, Shape, TensorType


@exception_attrs_settable
@dataclass(frozen=True)
class ShapeError(SpecError):
    """A shape rule's complaint; located by the shape pass.

    ``attr`` names the attribute at fault (``groups``), so the error points where the
    spec wrote it; without one it points at the op.
    """

    attr: str | None = None


@dataclass(frozen=True, slots=True)
class Tie:
    """A parameter an op shares with an earlier step: that step's path (as in the shape table,
    ``transformer.wte``), its parameter's name there, and the shape this op needs it in."""

    step: str
    param: str
    shape: Shape

    @property
    def canonical(self) -> str:
        """The shared tensor's one name in weights files (``transformer.wte.weight``)."""
        return f"{self.step}.{self.param}"


class Op(BaseModel):
    """Base of all ops. Subclasses set ``op_name`` and declare attributes as fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)

    op_name: ClassVar[str]
    #: Inputs the op takes: an int, or ``None`` for one or more (merges).
    arity: ClassVar[int | None] = 1
    #: Number of spatial dims for ops whose tuple attributes expand from one int.
    spatial: ClassVar[int] = 0
    #: Attribute fields that expand from one int to ``spatial`` ints.
    spatial_fields: ClassVar[tuple[str, ...]] = ()
    #: Hints for argument names people bring from other frameworks.
    misnamed: ClassVar[dict[str, str]] = {}
    #: Whether the op takes integer tensors (token ids) as well as real ones: ops that only move
    #: values (``reshape``, ``select``) do; ops that compute on them refuse ids (see
    #: :meth:`check_dtypes`), and ``embedding`` takes nothing else.
    takes_integers: ClassVar[bool] = False
    #: Attributes given by keyword only (``tie=``): a positional argument past the others is a
    #: mistake to report, not a value for them.
    keyword_only: ClassVar[tuple[str, ...]] = ()
    #: Attributes that are probabilities of randomly dropping values (dropout's ``p``): parity
    #: sets them to 0 in train mode, since no two frameworks draw the same random masks.
    random_rates: ClassVar[tuple[str, ...]] = ()
    #: Whether the op reads axis 1 of its input as the channels (convolutions, pools, batch norm):
    #: it refuses a features-last input (see :class:`~archspec.ir.TensorType`), whose axis 1 is
    #: a spatial axis or the tokens, rather than mix channels up with them.
    reads_channels: ClassVar[bool] = False
    #: An attribute that, where the spec writes it as the layer's input's own spatial size
    #: (``size=input.shape[2:]``), is read from that input at run time: the expander gives the op
    #: the input as a second input (:mod:`archspec.ops.resize`). None: every attribute is a value.
    follows: ClassVar[str | None] = None

    @model_validator(mode="before")
    @classmethod
    def _expand_spatial(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls.spatial_fields:
            return data
        out = dict(data)
        for name in cls.spatial_fields:
            default = cls.model_fields[name].default
            if name not in out and isinstance(default, tuple) and len(default) == 1:
                out[name] = default[0]  # declared as one value; meant for every spatial dim
            value = out.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                out[name] = (value,) * cls.spatial
            elif isinstance(value, list):
                out[name] = tuple(value)
        return out

    # ------------------------------------------------------------------ rules
    def infer(self, inputs: tuple[TensorType, ...]) -> TensorType:
        """The output type for these input types."""
        raise NotImplementedError

    def params(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        """Learnable parameter shapes, named as in PyTorch (``weight``, ``bias``); the empty name
        is the node's value itself (a learnable tensor, named by its step)."""
        return {}

    def tied_params(self, inputs: tuple[TensorType, ...]) -> dict[str, Tie]:
        """Parameters this op uses but does not own: each is another step's, named and counted once,
        there (GPT-2's ``lm_head`` multiplies by its token embedding's weight). By the name the op
        would give it (``weight``); :meth:`params` leaves them out. The shape pass checks that the
        step exists, comes earlier, and has the parameter in this shape."""
        return {}

    def buffers(self, inputs: tuple[TensorType, ...]) -> dict[str, Shape]:
        """Non-learnable state (``running_mean``, ``running_var``)."""
        return {}

    def macs(self, inputs: tuple[TensorType, ...], output: TensorType) -> int:
        """Multiply-accumulates for one forward pass (see :mod:`archspec.ops`)."""
        return 0

    def index_bound(self) -> int | None:
        """For an op that reads integer ids as indices, the exclusive bound of the valid ones
        (``embedding(num, dim)``: ``num``), so parity and tests draw ids in range; else None."""
        return None

    def check_dtypes(self, inputs: tuple[TensorType, ...]) -> None:
        """Refuse integer inputs to an op that computes on real values (runs before :meth:`infer`)."""
        if self.takes_integers:
            return
        for x in inputs:
            if x.is_integer:
                raise ShapeError(
                    f"{self.op_name} computes on real values, but its input {x} holds integer ids ({x.dtype})",
                    expected="a float32 tensor",
                    found=f"{x.dtype} {x}",
                    hint="turn ids into vectors first: embedding(num, dim) maps [N, T] ids to [N, T, dim]",
                )

    def check_layout(self, inputs: tuple[TensorType, ...]) -> None:
        """Refuse a features-last input to an op that :attr:`reads_channels` (runs before :meth:`infer`)."""
        if not self.reads_channels:
            return
        for x in inputs:
            if x.features_last and x.rank >= 3:
                back = [0, x.rank - 1, *range(1, x.rank - 1)]
                raise ShapeError(
                    f"{self.op_name} reads axis 1 as its channels, but its input {x} holds its features "
                    "in its last axis (a token sequence, or a feature map permuted channels-last)",
                    expected="a channels-first input, [N, C, ...] with the features at axis 1",
                    found=f"{x}, features last",
                    hint=f"permute({back}) first to move the features to axis 1",
                )

    # ---------------------------------------------------------------- helpers
    @classmethod
    def positional(cls) -> tuple[str, ...]:
        """Attribute names in the order positional arguments fill them."""
        return tuple(name for name in cls.model_fields if name not in cls.keyword_only)

    def channels(self, given: str, x: TensorType) -> str | None:
        """The output's channels (axis 1) as a Python expression of those of its input ``x``
        (``given``), for an op that changes them by a rule of its attributes (``chunk(2, 0)``:
        ``given // 2``); None for one that keeps them or sets them by an attribute. Generated code
        writes sizes this way."""
        return None

    def check_arity(self, count: int) -> None:
        if self.arity is None:
            if count < 1:
                raise ShapeError(f"{self.op_name} needs at least one input", found="none")
        elif count != self.arity:
            raise ShapeError(
                f"{self.op_name} takes {self.arity} input{'s' if self.arity != 1 else ''}, got {count}",
                hint="to run branches side by side and join them, use 'concat: [...]', 'add: [...]' or 'mul: [...]'"
                if self.arity == 1
                else None,
            )


OpT = TypeVar("OpT", bound=type[Op])

REGISTRY: dict[str, type[Op]] = {}


def register(cls: OpT) -> OpT:
    """Class decorator: add an op to the registry under its ``op_name``."""
    name = cls.op_name
    if name in REGISTRY:
        raise ValueError(f"op '{name}' is registered twice")
    REGISTRY[name] = cls
    return cls


# ---------------------------------------------------------------- shape helpers
def static(dim: Dim, what: str) -> int:
    """``dim`` as an int, or a ShapeError naming what needed it."""
    if isinstance(dim, int):
        return dim
    raise ShapeError(
        f"{what} must be a known size, but it is the symbol '{dim}'",
        hint="give a concrete input shape, e.g. --input 1x3x224x224",
    )


def expect_rank(op: Op, x: TensorType, ranks: Iterable[int], layout: str, hint: str | None = None) -> None:
    allowed = tuple(ranks)
    if x.rank not in allowed:
        raise ShapeError(
            f"{op.op_name} expects a {' or '.join(f'{r}-D' for r in allowed)} input",
            expected=layout,
            found=str(x),
            hint=hint,
        )


def numel(shape: Shape) -> int:
    return math.prod(static(d, "size") for d in shape)


def batch(x: TensorType) -> int:
    """The batch size for MAC counts: the leading dim, or 1 if symbolic (per sample)."""
    lead = x.shape[0] if x.shape else 1
    return lead if isinstance(lead, int) else 1


def same_dtype(op: Op, inputs: tuple[TensorType, ...]) -> str:
    dtypes = {x.dtype for x in inputs}
    if len(dtypes) > 1:
        raise ShapeError(f"{op.op_name} inputs have different dtypes", found=", ".join(sorted(dtypes)))
    return inputs[0].dtype


def check(condition: bool, message: str, **details: Any) -> None:
    if not condition:
        raise ShapeError(message, **details)
