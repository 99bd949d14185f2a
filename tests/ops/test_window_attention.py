"""``window_attention`` and ``patch_merge`` (Swin's two ops) against torchvision's own modules, on
small maps that exercise what the op table's cases cannot name: the roll and its mask, padding to
whole windows, a shift dropped where one window covers the map; then their shape rules and errors.

The torch backend's modules run torchvision's operations in torchvision's order, so their outputs
are equal to the last bit (``torch.equal``), not merely close.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from references import torchvision

import archspec
from archspec.backends import get_backend
from archspec.errors import SpecError
from archspec.ir import TensorType
from archspec.ops.attention import WindowAttention
from archspec.weights import read_safetensors

torch = pytest.importorskip("torch")


def read_weights(path: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    return read_safetensors(path, load_file)


def _spec(layer: str, shape: list[int | str]) -> dict[str, Any]:
    """``layer`` on a features-last map of ``shape`` [N, H, W, C] (a permute of its NCHW input)."""
    n, height, width, channels = shape
    return {
        "archspec": 1,
        "name": "swin_op",
        "input": [n, channels, height, width],
        "network": {"permute": "permute([0, 2, 3, 1])", "attn": layer},
    }


# window, shift, map [H, W]: shifted; padded to whole windows; one window covering an axis (that
# axis not rolled, as torchvision drops its shift); a non-square window; no shift at all
CASES = [
    ((4, 4), (2, 2), (8, 8)),
    ((3, 3), (1, 1), (7, 8)),
    ((4, 4), (2, 2), (4, 9)),
    ((2, 3), (1, 1), (6, 6)),
    ((4, 4), (0, 0), (8, 8)),
]


@pytest.mark.parametrize(("window", "shift", "size"), CASES, ids=str)
def test_window_attention_equals_torchvisions(
    window: tuple[int, int], shift: tuple[int, int], size: tuple[int, int]
) -> None:
    models = torchvision().models.swin_transformer
    theirs = models.ShiftedWindowAttention(8, list(window), list(shift), num_heads=2).eval()
    with torch.no_grad():
        theirs.relative_position_bias_table.normal_()  # larger than its init, so a wrong row shows
    layer = f"window_attention(8, 2, {list(window)}, shift={list(shift)})"
    ours = archspec.build(_spec(layer, [2, *size, 8]), "torch").eval()
    ours.attn.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 8, *size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x.permute(0, 2, 3, 1)))


def test_the_relative_position_index_is_torchvisions() -> None:
    models = torchvision().models.swin_transformer
    theirs = models.ShiftedWindowAttention(4, [3, 2], [0, 0], num_heads=1)
    op = WindowAttention(dim=4, heads=1, window=(3, 2))
    assert op.relative_position_index() == theirs.relative_position_index.tolist()


def test_a_state_dict_without_the_index_loads_and_keeps_the_computed_one() -> None:
    model = archspec.build(_spec("window_attention(8, 2, 4)", [1, 4, 4, 8]), "torch")
    index = model.attn.relative_position_index.clone()
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("relative_position_index")}
    model.load_state_dict(state, strict=True)
    assert torch.equal(model.attn.relative_position_index, index)


@pytest.mark.parametrize("size", [(4, 6), (5, 7)], ids=str)
def test_patch_merge_equals_torchvisions_gather(size: tuple[int, int]) -> None:
    gather = torchvision().models.swin_transformer._patch_merging_pad
    model = archspec.build(_spec("patch_merge", [2, *size, 3]), "torch")
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    assert torch.equal(model(x), gather(x.permute(0, 2, 3, 1)))


def test_patch_merge_halves_the_map_rounding_up_and_quadruples_the_channels() -> None:
    report = archspec.shapes(_spec("patch_merge", ["N", 5, 8, 6]))
    assert report.output == TensorType(("N", 3, 4, 24), features_last=True)


def test_macs_count_the_padded_map() -> None:
    x = TensorType((2, 7, 8, 8), features_last=True)
    op = WindowAttention(dim=8, heads=2, window=4, shift=2)
    per_position = 4 * 8 * 8 + 4 * 8 + 2 * 16 * 8  # q, k, v and proj with biases; the two products in a window
    assert op.macs((x,), x) == 2 * 8 * 8 * per_position  # 7 rows padded to 8


def test_the_canonical_parameters_are_torchvisions_less_the_index() -> None:
    models = torchvision().models.swin_transformer
    theirs = models.ShiftedWindowAttention(8, [3, 3], [1, 1], num_heads=2)
    params = archspec.shapes(_spec("window_attention(8, 2, 3, shift=1)", [1, 6, 6, 8])).info["attn"].params
    assert params == {name: tuple(p.shape) for name, p in theirs.named_parameters()}


def test_a_channels_first_map_is_refused_with_the_permute_to_write() -> None:
    spec = {"archspec": 1, "name": "nchw", "input": ["N", 8, 4, 4], "network": {"attn": "window_attention(8, 2, 2)"}}
    with pytest.raises(SpecError, match="features-last map") as caught:
        archspec.shapes(spec)
    assert "permute([0, 2, 3, 1])" in (caught.value.hint or "")
    spec["network"] = {"merge": "patch_merge"}
    with pytest.raises(SpecError, match="features-last map") as caught:
        archspec.shapes(spec)
    assert "permute([0, 2, 3, 1])" in (caught.value.hint or "")


def test_channels_other_than_dim_are_refused_at_the_dim() -> None:
    with pytest.raises(SpecError, match=r"window_attention\(dim=8\) got a map of 6 channels") as caught:
        archspec.shapes(_spec("window_attention(8, 2, 2)", ["N", 4, 4, 6]))
    assert caught.value.expected == "[N, H, W, 8]"


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"dim": 8, "heads": 3, "window": 2}, "3 does not divide 8"),
        ({"dim": 8, "heads": 2, "window": 4, "shift": 4}, r"shift must be smaller than the window"),
        ({"dim": 8, "heads": 2, "window": [2, 2, 2]}, "window needs 2 values"),
    ],
)
def test_attributes_are_checked_when_written(attributes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WindowAttention(**attributes)


@pytest.mark.parametrize("backend", ["torch", "flax", "onnx"])
def test_torchvisions_state_dict_index_and_all_builds_every_backend(backend: str, tmp_path: Path) -> None:
    """A file holding torchvision's index too (a state dict saved as it is) loads anywhere: the
    index is bookkeeping, and every backend computes the same one."""
    from safetensors.torch import save_file

    chosen = get_backend(backend)
    models = torchvision().models.swin_transformer
    theirs = models.ShiftedWindowAttention(8, [3, 3], [1, 1], num_heads=2).eval()
    with torch.no_grad():
        theirs.relative_position_bias_table.normal_()
    weights = tmp_path / "attn.safetensors"
    save_file({f"attn.{k}": v.contiguous() for k, v in theirs.state_dict().items()}, str(weights))
    assert "attn.relative_position_index" in read_weights(weights)
    model = archspec.build(_spec("window_attention(8, 2, 3, shift=1)", [2, 7, 6, 8]), backend, weights)
    x = torch.randn(2, 8, 7, 6, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = theirs(x.permute(0, 2, 3, 1)).numpy()
    got = np.asarray(chosen.run(model, x.numpy()).output)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_compiled_file_loads_canonical_weights_without_the_index(tmp_path: Path) -> None:
    import importlib.util
    import subprocess
    import sys

    spec = tmp_path / "swin_op.yaml"
    spec.write_text(json.dumps(_spec("window_attention(8, 2, 2, shift=1)", ["N", 4, 4, 8])))
    reference = archspec.build(spec, "torch").eval()
    weights = tmp_path / "w.safetensors"
    get_backend("torch").save_weights(reference, weights)
    assert "attn.relative_position_index" not in read_weights(weights)  # not canonical
    out = tmp_path / "model.py"
    command = [sys.executable, "-m", "archspec", "compile", str(spec), "-o", str(out), "--weights", str(weights)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = importlib.util.spec_from_file_location("compiled_swin_op", out)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    model = module.load_weights(module.SwinOp()).eval()
    x = torch.randn(2, 8, 4, 4, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))


def test_a_map_of_symbolic_size_builds_in_torch_and_is_refused_by_onnx_at_the_step() -> None:
    spec = _spec("window_attention(8, 2, 4, shift=2)", ["N", "H", "W", 8])
    model = archspec.build(spec, "torch")
    assert model(torch.randn(1, 8, 9, 6)).shape == (1, 9, 6, 8)  # any size, padded to whole windows
    with pytest.raises(SpecError, match="window_attention's map size must be a known size") as caught:
        archspec.build(spec, "onnx")
    assert caught.value.loc is not None and "window_attention" in " ".join(caught.value.trace)
