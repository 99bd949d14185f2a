"""chunk's refusals, located where the spec wrote them: a number of chunks that does not divide
the axis (torch.chunk would make a shorter last part), an index past the last chunk, an axis the
input does not have."""

from __future__ import annotations

from pathlib import Path

import pytest

from archspec import api
from archspec.errors import SpecError

SPEC = """\
archspec: 1
name: t
input: [N, 6, 4, 5]
network:
  half: {call}
"""


def _error(tmp_path: Path, call: str) -> SpecError:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.format(call=call))
    with pytest.raises(SpecError) as info:
        api.shapes(str(path))
    return info.value


@pytest.mark.parametrize(
    ("call", "message", "column"),
    [
        ("chunk(4, 0)", r"chunk splits axis 1 into 4 equal parts, but 4 does not divide its size 6", 15),
        ("chunk(2, 1, axis=3)", r"but 2 does not divide its size 5", 15),
        ("chunk(2, 2)", r"invalid chunk: index 2 is past the last of 2 chunks, which are numbered 0 to 1", 18),
        ("chunk(2, 0, axis=4)", r"chunk axis 4 is out of range for a 4-D input", 26),
    ],
)
def test_mistakes_are_located_where_the_spec_wrote_them(tmp_path: Path, call: str, message: str, column: int) -> None:
    error = _error(tmp_path, call)
    assert error.loc is not None and (error.loc.line, error.loc.column) == (5, column), str(error)
    with pytest.raises(SpecError, match=message):
        raise error


def test_an_indivisible_axis_says_both_sizes_and_how_to_fix_it(tmp_path: Path) -> None:
    error = _error(tmp_path, "chunk(4, 0)")
    assert error.expected == "a number of chunks that divides 6"
    assert error.found == "4 chunks of [N, 6, 4, 5]"
    assert error.hint is not None and "make the axis a multiple of 4" in error.hint


def test_an_axis_out_of_range_says_the_axes_there_are(tmp_path: Path) -> None:
    error = _error(tmp_path, "chunk(2, 0, axis=-5)")
    assert error.expected == "an axis from -4 to 3"


def test_the_batch_axis_cannot_be_chunked_while_it_is_symbolic(tmp_path: Path) -> None:
    error = _error(tmp_path, "chunk(2, 0, axis=0)")
    assert "the chunked axis must be a known size, but it is the symbol 'N'" in error.message


def test_each_part_has_the_axis_divided_by_the_chunks() -> None:
    network = {
        "dag": {
            "x1": {"in": ["input"], "do": "chunk(3, 0, axis=-1)"},
            "x2": {"in": ["input"], "do": "chunk(3, 2, axis=-1)"},
            "both": {"in": ["x1", "x2"], "do": "concat(axis=-1)"},
        }
    }
    report = api.shapes({"archspec": 1, "name": "t", "input": ["N", 2, 9], "network": network})
    assert [tuple(report.info[name].output.shape) for name in ("x1", "x2", "both")] == [
        ("N", 2, 3),
        ("N", 2, 3),
        ("N", 2, 6),
    ]
