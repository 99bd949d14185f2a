"""Tensors of any rank in specs: what ``linear`` and ``layernorm`` take beyond [N, F], how
``permute`` marks a feature map channels-last, and the located errors of ``flatten``,
``permute``, ``reshape`` and ``select``.

Shapes against PyTorch are in ``test_shape_rules.py``, values and gradients on every backend in
the op table (``optable_cases.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archspec import api
from archspec.errors import SpecError
from archspec.ir import TensorType
from archspec.ops.linear import Linear
from archspec.ops.norm import LayerNorm
from archspec.ops.tensor import Flatten, Permute, Reshape, Select

FEATURE_MAP = TensorType(("N", 8, 5, 6))
CHANNELS_LAST = TensorType(("N", 5, 6, 8), features_last=True)


def _error_at(tmp_path: Path, network_line: str, input_shape: str = "[N, 3, 8, 8]") -> SpecError:
    """The error of a spec whose network is ``network_line``, written on line 5."""
    spec = tmp_path / "net.yaml"
    spec.write_text(f"archspec: 1\nname: t\ninput: {input_shape}\nnetwork:\n  body: {network_line}\n")
    with pytest.raises(SpecError) as info:
        api.shapes(spec)
    assert info.value.loc is not None and info.value.loc.line == 5
    return info.value


# ------------------------------------------------------------------ channels-last feature maps
def test_permute_to_channels_last_marks_the_channels_as_the_last_axis() -> None:
    to_last = Permute(dims=(0, 2, 3, 1)).infer((FEATURE_MAP,))
    assert to_last == CHANNELS_LAST
    assert Permute(dims=(0, 3, 1, 2)).infer((to_last,)) == FEATURE_MAP  # and back, unmarked
    assert Permute(dims=(0, 2, 1, 3)).infer((to_last,)).features_last  # the channels stay last
    assert not Permute(dims=(0, 1, 3, 2)).infer((FEATURE_MAP,)).features_last  # H and W swapped


def test_the_ops_on_the_last_axis_keep_the_mark_and_the_reshaping_ones_keep_it_while_it_stays_whole() -> None:
    assert Linear(out_features=4).infer((CHANNELS_LAST,)) == TensorType(("N", 5, 6, 4), features_last=True)
    assert LayerNorm().infer((CHANNELS_LAST,)) == CHANNELS_LAST
    # [N, H, W, C] -> [N, H*W, C]: tokens, their features still last
    assert Flatten(start_dim=1, end_dim=2).infer((CHANNELS_LAST,)) == TensorType(("N", 30, 8), features_last=True)
    assert Reshape(shape=(0, 30, 8)).infer((CHANNELS_LAST,)).features_last
    assert Select(axis=1, index=0).infer((CHANNELS_LAST,)) == TensorType(("N", 6, 8), features_last=True)
    # the features merged with another axis, or a rank of 2, leave nothing to mark
    assert not Flatten(start_dim=2).infer((CHANNELS_LAST,)).features_last
    assert not Reshape(shape=(0, 5, 48)).infer((CHANNELS_LAST,)).features_last
    assert not Select(axis=-1, index=0).infer((CHANNELS_LAST,)).features_last
    assert not Flatten().infer((CHANNELS_LAST,)).features_last


# ------------------------------------------------------------------ token sequences
def test_tokens_are_features_last_from_their_embedding_or_patchify_to_the_class_token() -> None:
    report = api.shapes(
        {
            "archspec": 1,
            "name": "t",
            "input": ["N", 3, 8, 8],
            "network": {
                "dag": {
                    "conv": "conv(16, 4, stride=4)",
                    "patches": "flatten(2) -> permute([0, 2, 1])",
                    "class_token": "param([1, 1, 16])",
                    "tokens": {"in": ["class_token", "patches"], "do": "concat(axis=1)"},
                    "position": "param([1, 5, 16])",
                    "embedded": {"in": ["tokens", "position"], "do": "add"},
                    "ln": "layernorm",
                    "attention": "attention(16, 2)",
                    "first": "select(1, 0)",
                }
            },
        }
    )
    last = {name: info.output.features_last for name, info in report.info.items()}
    assert last == {
        "conv": False,
        "patches.0": False,  # [N, 16, 4]: the channels still at axis 1
        "patches.1": True,
        "class_token": True,  # read only by a features-last merge of its rank: held as the tokens are
        "tokens": True,
        "position": True,
        "embedded": True,
        "ln": True,
        "attention": True,
        "first": False,  # [N, 16]
    }
    ids = {"archspec": 1, "name": "t", "input": {"shape": ["N", 5], "dtype": "int64"}}
    assert api.shapes({**ids, "network": "embedding(9, 4) -> linear(3)"}).output.features_last


def test_a_param_read_by_a_channels_first_map_or_by_a_layer_keeps_no_mark() -> None:
    spec = {"archspec": 1, "name": "t", "input": ["N", 4, 5]}
    report = api.shapes({**spec, "network": {"add": ["identity", "param([1, 4, 5])"]}})
    assert not report.info["branch2"].output.features_last  # [N, C, L] met: it stays channels-first
    tokens = {"archspec": 1, "name": "t", "input": {"shape": ["N", 4], "dtype": "int64"}}
    read_by_a_layer = {"p": "param([1, 4, 5])", "ln": "layernorm", "sum": {"in": ["ln", "tokens"], "do": "add"}}
    dag = {"tokens": {"in": ["input"], "do": "embedding(9, 5)"}, **read_by_a_layer}
    report = api.shapes({**tokens, "network": {"dag": dag}})
    assert report.info["sum"].output.features_last and not report.info["p"].output.features_last


def test_an_op_that_reads_channels_refuses_a_features_last_input(tmp_path: Path) -> None:
    error = _error_at(tmp_path, "permute([0, 2, 3, 1]) -> conv(4, 1)")
    assert "conv reads axis 1 as its channels, but its input [N, 8, 8, 3] holds its features" in error.message
    assert error.hint == "permute([0, 3, 1, 2]) first to move the features to axis 1"
    error = _error_at(tmp_path, "conv1d(4, 1) -> permute([0, 2, 1]) -> maxpool1d(2)", "[N, 3, 8]")
    assert error.message.startswith("maxpool1d reads axis 1 as its channels")
    assert error.hint == "permute([0, 2, 1]) first to move the features to axis 1"


def test_linear_and_layernorm_act_on_the_channels_of_a_channels_last_map_as_convnext_does() -> None:
    spec = {"archspec": 1, "name": "t", "input": ["N", 3, 5, 6]}
    network = "conv(8, 1) -> permute([0, 2, 3, 1]) -> layernorm(eps=1e-6) -> linear(32) -> gelu -> linear(8)"
    report = api.shapes({**spec, "network": f"{network} -> permute([0, 3, 1, 2])"})
    assert report.output.shape == ("N", 8, 5, 6)
    assert report.info["2"].params == {"weight": (8,), "bias": (8,)}
    assert report.info["3"].params == {"weight": (32, 8), "bias": (32,)}
    assert report.info["3"].macs == (32 * 8 + 32) * 5 * 6  # once per position


# ------------------------------------------------------------------ linear and layernorm refusals
def test_linear_on_a_feature_map_is_refused_pointing_at_flatten_and_permute(tmp_path: Path) -> None:
    error = _error_at(tmp_path, "conv(16, 3) -> linear(10)")
    assert "linear acts on the last axis, here the width of a feature map" in error.message
    assert error.found == "[N, 16, 6, 6]"
    assert error.hint is not None and "'flatten'" in error.hint and "permute([0, 2, 3, 1])" in error.hint


def test_linear_on_tokens_is_per_token(tmp_path: Path) -> None:
    report = api.shapes({"archspec": 1, "name": "t", "input": ["N", 7, 20], "network": "linear(10)"})
    assert report.output.shape == ("N", 7, 10)
    assert report.total_params == 10 * 20 + 10


def test_linear_without_a_batch_axis_is_refused() -> None:
    with pytest.raises(SpecError, match=r"linear needs a batch axis in front of its features"):
        Linear(out_features=3).infer((TensorType((8,)),))


def test_bare_layernorm_on_a_channels_first_map_is_still_refused_and_its_hint_names_both_forms(
    tmp_path: Path,
) -> None:
    error = _error_at(tmp_path, "conv(16, 3) -> layernorm")
    assert "layernorm with no axes normalises the last one, here a spatial axis" in error.message
    assert error.hint is not None and "layernorm(axis=1)" in error.hint and "layernorm(dims=1)" in error.hint


# ------------------------------------------------------------------ located attribute errors
@pytest.mark.parametrize(
    ("network", "token", "message", "expected"),
    [
        ("select(4, 0)", "4", r"select axis 4 is out of range for a 4-D input", "an axis from -4 to 3"),
        ("select(1, 3)", "3", r"select index 3 is out of range for axis 1 of size 3", "an index from -3 to 2"),
        ("select(0, 1)", "0", r"select would drop the batch axis 0", "an axis from 1 to 3 (or -3 to -1)"),
        ("flatten(5)", "5", r"flatten start_dim 5 is out of range for a 4-D input", "an axis from -4 to 3"),
        ("flatten(2, 1)", "1", r"flatten's end_dim \(axis 1\) comes before its start_dim \(axis 2\)", "from 2 to 3"),
        ("flatten(0)", "0", r"flatten would merge the batch axis 0", "an axis from 1 to 3"),
        ("permute([0, 1, 2])", "[", r"permute needs one axis per input axis: 3 given for a 4-D input", "4 axes"),
        (
            "permute([0, 1, 1, 3])",
            "[",
            r"permute's dims are not a permutation: axis 1 is named twice and axis 2 is missing",
            "each of 0..3 once",
        ),
        ("permute([0, 2, 3, 9])", "[", r"permute dims 9 is out of range for a 4-D input", "an axis from -4 to 3"),
        ("permute([2, 0, 3, 1])", "[", r"permute would move the batch axis 0 from the front", "[0, 2, 3, 1]"),
        (
            "reshape([0, 5, 7])",
            "[",
            r"reshape to N\*35 elements, but the input \[N, 3, 8, 8\] holds N\*192",
            "sizes that multiply to N*192",
        ),
        (
            "reshape([0, 5, -1])",
            "[",
            r"reshape cannot fill its -1: the input's N\*192 elements are not a whole multiple of N\*5",
            "sizes whose product divides 192",
        ),
        ("reshape([0, 3, 8, 8, 0])", "[", r"reshape entry 4 is 0, .* but the input has 4 axes", "positions 0 to 3"),
    ],
)
def test_a_bad_attribute_is_located_where_written_with_what_was_expected(
    tmp_path: Path, network: str, token: str, message: str, expected: str
) -> None:
    line = f"permute([0, 1, 2, 3]) -> {network}"  # an op ahead, so the column is not the step's own
    error = _error_at(tmp_path, line)
    assert re.search(message, error.message), error.message
    assert error.expected is not None and expected in error.expected
    attribute = line.index(network) + network.index(token)
    assert error.loc is not None and error.loc.column == len("  body: ") + attribute + 1


def test_a_reshape_that_drops_the_symbolic_batch_says_how_to_keep_it(tmp_path: Path) -> None:
    error = _error_at(tmp_path, "reshape([2, -1])")
    assert "reshape must keep the symbolic size 'N' of axis 0" in error.message
    assert error.hint == "write reshape([0, -1])"


def test_a_reshape_with_two_inferred_sizes_is_refused_at_validation(tmp_path: Path) -> None:
    error = _error_at(tmp_path, "reshape([0, -1, -1])")
    assert "at most one entry may be -1 (the size inferred); [0, -1, -1] has 2" in error.message


def test_flatten_start_and_end_are_torch_names_and_the_short_ones_say_so(tmp_path: Path) -> None:
    error = _error_at(tmp_path, "flatten(start=2)")
    assert "unknown argument 'start' for flatten" in error.message
    assert error.hint == "archspec calls it start_dim, as torch.flatten does"


def test_a_spec_with_a_concrete_batch_may_reshape_it() -> None:
    report = api.shapes({"archspec": 1, "name": "t", "input": [2, 3, 4], "network": "reshape([6, -1])"})
    assert report.output.shape == (6, 4)


def test_a_sequence_of_symbolic_length_takes_linear_and_select_with_macs_per_token() -> None:
    spec = {"archspec": 1, "name": "t", "input": ["N", "T", 8], "network": "linear(4) -> select(1, -1)"}
    report = api.shapes(spec)
    assert report.output.shape == ("N", 4)
    assert report.total_macs == 8 * 4 + 4  # per sample and per token: both sizes are symbols
    with pytest.raises(SpecError, match=r"flattened axis must be a known size, but it is the symbol 'T'"):
        api.shapes({**spec, "network": "flatten"})
