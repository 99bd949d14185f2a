"""specs/gpt2.yaml against Hugging Face's GPT2LMHeadModel built from a config (no download).

Hugging Face keeps its projections as ``Conv1D`` (weight [in, out]) and packs q, k and v in one
``c_attn``; the spec's attention keeps ``nn.MultiheadAttention``'s layout (``in_proj_weight``
[3 * width, width], the same q, k, v order and head split).
``references.gpt2_weights_from_hugging_face`` (shared with benchmarks/bench_zoo.py) maps one state
dict onto the other: transposes and renames, nothing else (``lm_head.weight`` is listed by both
state dicts, the token embedding's tensor under a second name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from references import gpt2_weights_from_hugging_face, transformers

import archspec
from archspec.backends import get_backend
from archspec.parity import parity

torch = pytest.importorskip("torch")

SPEC = Path(__file__).resolve().parents[2] / "specs" / "gpt2.yaml"
#: A reduced GPT-2: 2 layers of 4 heads at width 64, a vocabulary of 97, 16 positions.
SMALL = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 97, "n_positions": 16}
TOKENS = 16


def _reference() -> Any:
    hf = transformers()
    config = hf.GPT2Config(**SMALL, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    return hf.GPT2LMHeadModel(config).eval()


def _compiled() -> Any:
    return archspec.build(SPEC, backend="torch", input_shape=[2, TOKENS], **SMALL)


def _ids(seed: int = 0) -> Any:
    return torch.randint(0, SMALL["vocab_size"], (2, TOKENS), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("sizes", "count"),
    [({}, 124_439_808), ({"n_layer": 24, "n_embd": 1024, "n_head": 16}, 354_823_168)],
    ids=["gpt2", "gpt2-medium"],
)
def test_full_sizes_have_hugging_faces_parameter_counts(sizes: dict[str, int], count: int) -> None:
    hf = transformers()
    with torch.device("meta"):  # shapes only: no memory for the weights
        reference = hf.GPT2LMHeadModel(hf.GPT2Config(**sizes))
    assert sum(p.numel() for p in reference.parameters()) == count  # lm_head tied, counted once
    assert archspec.shapes(SPEC, sizes, input_shape=[1, 8]).total_params == count


def test_small_gpt2_gives_hugging_faces_logits_in_eval_and_train_mode() -> None:
    reference, compiled = _reference(), _compiled()
    assert sum(p.numel() for p in compiled.parameters()) == sum(p.numel() for p in reference.parameters())
    compiled.load_state_dict(gpt2_weights_from_hugging_face(reference.state_dict()), strict=True)
    assert compiled.lm_head.weight is compiled.transformer.wte.weight
    ids = _ids()
    for train in (False, True):  # every dropout is p=0
        reference.train(train)
        compiled.train(train)
        with torch.no_grad():
            torch.testing.assert_close(compiled(ids), reference(ids).logits, rtol=1e-5, atol=1e-5)


def test_canonical_weights_name_the_tied_table_once(tmp_path: Path) -> None:
    compiled = _compiled()
    torch_backend = get_backend("torch")
    torch_backend.save_weights(compiled, tmp_path / "gpt2.safetensors")
    from safetensors import safe_open

    with safe_open(str(tmp_path / "gpt2.safetensors"), framework="pt") as file:
        names = set(file.keys())
    assert "transformer.wte.weight" in names and "lm_head.weight" not in names
    again = _compiled()
    torch_backend.load_weights(again, tmp_path / "gpt2.safetensors")
    assert again.lm_head.weight is again.transformer.wte.weight
    torch.testing.assert_close(again.lm_head.weight, compiled.transformer.wte.weight, rtol=0, atol=0)


@pytest.mark.parametrize("backend", ["torch", "flax", "onnx"])
def test_a_later_token_does_not_change_earlier_logits(backend: str, tmp_path: Path) -> None:
    pytest.importorskip({"flax": "archspec_flax", "onnx": "onnxruntime"}.get(backend, "torch"))
    chosen = get_backend(backend)
    module = archspec.build(SPEC, backend=backend, input_shape=[2, TOKENS], **SMALL)
    ids = _ids().numpy()
    changed = ids.copy()
    changed[:, -1] = (changed[:, -1] + 1) % SMALL["vocab_size"]
    before = np.asarray(chosen.run(module, ids).output)
    after = np.asarray(chosen.run(module, changed).output)
    np.testing.assert_array_equal(before[:, :-1], after[:, :-1])
    assert np.abs(before[:, -1] - after[:, -1]).max() > 1e-3  # the last position does see it


def test_flax_and_onnx_agree_with_torch() -> None:
    pytest.importorskip("archspec_flax")
    pytest.importorskip("onnxruntime")
    report = parity(SPEC, ("torch", "flax", "onnx"), grad=True, params=SMALL, input_shape=["N", 8], batch=2)
    failed = [row for row in report.rows if not row.ok]
    assert report.ok and not failed, failed


@pytest.mark.parametrize("backend", ["torch", "flax"])
def test_emitted_source_has_one_block_class_and_a_loop_over_layers(backend: str) -> None:
    pytest.importorskip({"flax": "archspec_flax"}.get(backend, backend))
    report = archspec.shapes(SPEC)
    source = get_backend(backend).emit(report.graph, report).source
    assert source.count("class Gpt2Block(") == 1
    assert "for _ in range(n_layer)])" in source and source.count("Gpt2Block(n_embd, n_head") == 1
    # the block follows its tokens' width as Hugging Face's GPT2Block(config) does: no literal 768
    assert "LayerNorm(width" in source and "Linear(width, 4 * width" in source and "(768" not in source
    assert "self.lm_head.weight = self.transformer.wte." in source
