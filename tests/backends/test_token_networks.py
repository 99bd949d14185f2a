"""Networks that leave [N, C, H, W]: ViT's patchify into tokens and class-token select,
ConvNeXt's channels-last block, ViT's encoder block, and a causal language model over token
ids, on every backend.

Each is held to a PyTorch module written by hand, or torchvision's own, whose state dict
loads strictly into the compiled torch module and gives the same outputs; then
``archspec.parity`` holds flax (outputs and gradients) and onnx (outputs) to torch on the
same canonical weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from references import torchvision

import archspec
from archspec.backends import get_backend
from archspec.parity import draw_weights, parity

torch = pytest.importorskip("torch")
from safetensors.numpy import save_file  # noqa: E402
from torch import nn  # noqa: E402

#: ViT's stem at toy size: 4x4 patches of a 16x16 image, 16 tokens of width 16, a head on token 0.
PATCHIFY = {
    "archspec": 1,
    "name": "patchify",
    "input": ["N", 3, 16, 16],
    "network": {
        "conv_proj": "conv(16, 4, stride=4)",
        "tokens": "flatten(2) -> permute([0, 2, 1])",
        "ln": "layernorm",
        "head": "linear(32)",
        "class_token": "select(1, 0)",
    },
}

#: torchvision's ConvNeXt ``CNBlock.block``, for 8 channels.
CONVNEXT_BLOCK = {
    "archspec": 1,
    "name": "cnblock",
    "input": ["N", 8, 7, 7],
    "network": [
        "conv(8, 7, padding=3, groups=8)",
        "permute([0, 2, 3, 1])",
        "layernorm(eps=1e-6)",
        "linear(32)",
        "gelu",
        "linear(8)",
        "permute([0, 3, 1, 2])",
    ],
}


class Patchify(nn.Module):
    """What a person writes for the spec above, as torchvision's VisionTransformer does."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_proj = nn.Conv2d(3, 16, 4, stride=4)
        self.ln = nn.LayerNorm(16)
        self.head = nn.Linear(16, 32)

    def forward(self, x: Any) -> Any:
        tokens = self.conv_proj(x).flatten(2).permute(0, 2, 1)
        return self.head(self.ln(tokens))[:, 0]


def _same_as_torch_reference(spec: dict[str, Any], reference: nn.Module, shape: tuple[int, ...]) -> None:
    reference.eval()
    compiled = archspec.build(spec, backend="torch").eval()
    compiled.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want, got = reference(x), compiled(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def _installed(*backends: str) -> tuple[str, ...]:
    for backend in backends:
        pytest.importorskip({"flax": "archspec_flax", "onnx": "onnxruntime"}.get(backend, backend))
    return backends


def test_patchify_has_the_names_and_outputs_of_a_hand_written_module() -> None:
    _same_as_torch_reference(PATCHIFY, Patchify(), (2, 3, 16, 16))
    report = archspec.shapes(PATCHIFY)
    assert [str(report.info[step].output) for step in ("tokens.1", "head", "class_token")] == [
        "[N, 16, 16]",
        "[N, 16, 32]",
        "[N, 32]",
    ]
    assert report.total_params == sum(p.numel() for p in Patchify().parameters())


def test_convnext_block_has_the_names_and_outputs_of_torchvisions() -> None:
    block = torchvision().models.convnext.CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.0).block
    _same_as_torch_reference(CONVNEXT_BLOCK, block, (2, 8, 7, 7))


#: The layout ops on features-last tensors, which flax holds as the spec has them: a channels-first
#: map summed with a features-last one (transposed to match), its positions flattened into tokens,
#: a layer norm over two axes, a reshape back, a row selected, a learnable tensor, a linear layer.
FEATURES_LAST_OPS = {
    "archspec": 1,
    "name": "features_last_ops",
    "input": ["N", 4, 4, 4],
    "network": {
        "dag": {
            "conv": "conv(4, 1)",
            "last": "permute([0, 2, 3, 1])",
            "mixed": {"in": ["last", "conv"], "do": "add"},
            "tokens": "flatten(1, 2)",
            "ln": "layernorm(2)",
            "grid": "reshape([0, 4, 4, 4])",
            "row": "select(1, 1)",
            "bias": "param([1, 4, 4], init=normal, std=1.0)",
            "biased": {"in": ["row", "bias"], "do": "add"},
            "head": "linear(3)",
        }
    },
}


def test_the_layout_ops_keep_tokens_features_last() -> None:
    report = archspec.shapes(FEATURES_LAST_OPS)
    marked = [step for step, info in report.info.items() if info.output.features_last]
    assert marked == ["last", "mixed", "tokens", "ln", "grid", "row", "bias", "biased", "head"]


@pytest.mark.parametrize("spec", [PATCHIFY, CONVNEXT_BLOCK, FEATURES_LAST_OPS], ids=lambda spec: spec["name"])
def test_flax_and_onnx_agree_with_torch_on_the_same_weights(spec: dict[str, Any]) -> None:
    report = parity(spec, _installed("torch", "flax", "onnx"), grad=True, batch=3)
    failed = [row for row in report.rows if not row.ok]
    assert report.ok and not failed, failed
    assert {(row.kind, row.backend) for row in report.rows} >= {
        ("output", "flax"),
        ("output", "onnx"),
        ("grad", "flax"),
    }
    assert np.isfinite([row.abs for row in report.rows]).all()


# ------------------------------------------------------------------ token ids in
#: A one-layer causal language model at toy size: token and position embeddings (GPT-2's wte and
#: wpe), causal attention, a layer norm and the logits.
LANGUAGE_MODEL = {
    "archspec": 1,
    "name": "tiny_lm",
    "input": {"shape": ["N", 12], "dtype": "int64"},
    "network": {
        "embed": {
            "dag": {
                "wte": {"in": ["input"], "do": "embedding(40, 16)"},
                "pos": {"in": ["input"], "do": "positions"},
                "wpe": {"in": ["pos"], "do": "embedding(12, 16)"},
                "sum": {"in": ["wte", "wpe"], "do": "add"},
            }
        },
        "attn": "attention(16, 4, causal=true)",
        "ln_f": "layernorm",
        "lm_head": "linear(40, bias=false)",
    },
}

#: torchvision's ViT ``EncoderBlock`` at width 16 (4 heads, MLP 32), its names as the DAG's steps.
ENCODER_BLOCK = {
    "archspec": 1,
    "name": "encoder_block",
    "input": ["N", 5, 16],
    "network": {
        "dag": {
            "ln_1": "layernorm(eps=1e-6)",
            "self_attention": "attention(16, 4)",
            "dropout": "dropout(0.0)",
            "attended": {"in": ["dropout", "input"], "do": "add"},
            "ln_2": "layernorm(eps=1e-6)",
            "mlp": ["linear(32)", "gelu", "dropout(0.0)", "linear(16)", "dropout(0.0)"],
            "out": {"in": ["attended", "mlp"], "do": "add"},
        }
    },
}


class TinyLanguageModel(nn.Module):
    """What a person writes for LANGUAGE_MODEL, calling nn.MultiheadAttention as torchvision does."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Module()
        self.embed.wte = nn.Embedding(40, 16)
        self.embed.wpe = nn.Embedding(12, 16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.ln_f = nn.LayerNorm(16)
        self.lm_head = nn.Linear(16, 40, bias=False)

    def forward(self, ids: Any) -> Any:
        tokens = ids.shape[1]
        h = self.embed.wte(ids) + self.embed.wpe(torch.arange(tokens))
        mask = nn.Transformer.generate_square_subsequent_mask(tokens)
        h, _ = self.attn(h, h, h, need_weights=False, attn_mask=mask, is_causal=True)
        return self.lm_head(self.ln_f(h))


def test_language_model_has_the_names_and_outputs_of_a_hand_written_module() -> None:
    reference = TinyLanguageModel().eval()
    compiled = archspec.build(LANGUAGE_MODEL, backend="torch").eval()
    compiled.load_state_dict(reference.state_dict(), strict=True)
    ids = torch.randint(0, 40, (3, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(compiled(ids), reference(ids), rtol=0, atol=1e-6)
    report = archspec.shapes(LANGUAGE_MODEL)
    assert report.graph.input.dtype == "int64"
    assert str(report.output) == "[N, 12, 40]"
    assert report.total_params == sum(p.numel() for p in reference.parameters())


def test_encoder_block_has_the_names_and_outputs_of_torchvisions() -> None:
    block = torchvision().models.vision_transformer.EncoderBlock(4, 16, 32, 0.0, 0.0)
    _same_as_torch_reference(ENCODER_BLOCK, block, (2, 5, 16))


def test_language_model_agrees_on_every_backend() -> None:
    report = parity(LANGUAGE_MODEL, _installed("torch", "flax", "onnx"), grad=True, batch=3)
    failed = [row for row in report.rows if not row.ok]
    assert report.ok and not failed, failed
    assert {(row.kind, row.backend) for row in report.rows} >= {
        ("output", "flax"),
        ("output", "onnx"),
        ("grad", "flax"),
    }
    grads = {row.name for row in report.rows if row.kind == "grad"}
    assert "input" not in " ".join(grads), "ids have no gradient"


@pytest.mark.parametrize("backend", ["torch", "flax", "onnx"])
def test_a_later_token_never_changes_an_earlier_output(backend: str, tmp_path: Any) -> None:
    """Causal masking, on each backend: change the token at position 7, and the logits at
    positions 0..6 stay exactly as they were while those from 7 on move."""
    _installed(backend)
    chosen = get_backend(backend)
    weights = tmp_path / "weights.safetensors"
    save_file(draw_weights(archspec.shapes(LANGUAGE_MODEL, input_shape=[2, 12]), seed=1), str(weights))
    model = archspec.build(LANGUAGE_MODEL, backend=backend, weights=weights)
    ids = np.random.default_rng(0).integers(0, 40, (2, 12))
    changed = ids.copy()
    changed[:, 7] = (changed[:, 7] + 1) % 40
    before, after = (np.asarray(chosen.run(model, x).output) for x in (ids, changed))
    np.testing.assert_array_equal(after[:, :7], before[:, :7])
    assert np.abs(after[:, 7:] - before[:, 7:]).max(axis=-1).min() > 1e-4, "every later position sees the change"
