"""``drop_path``'s rules: it keeps the shape of [N, ...], needs the batch axis it drops along, and a
rate in [0, 1)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archspec.errors import SpecError
from archspec.ir import TensorType
from archspec.ops.tensor import DropPath


def test_drop_path_keeps_the_shape_and_counts_no_macs() -> None:
    x = TensorType((2, 3, 4, 5))
    assert DropPath(p=0.2).infer((x,)) == x
    assert DropPath(p=0.2).params((x,)) == {} and DropPath(p=0.2).macs((x,), x) == 0


def test_a_tensor_without_a_batch_axis_is_refused() -> None:
    with pytest.raises(SpecError, match=r"drop_path drops whole samples and needs a batch axis in front"):
        DropPath(p=0.2).infer((TensorType((5,)),))


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_the_rate_is_a_probability_below_1(p: float) -> None:
    with pytest.raises(ValidationError):
        DropPath(p=p)


def test_the_rate_has_no_default() -> None:
    with pytest.raises(ValidationError, match="p"):
        DropPath.model_validate({})
