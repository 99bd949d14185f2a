"""The Flax modules compiled from specs/googlenet.yaml, specs/resnet18.yaml,
specs/mobilenet_v3_small.yaml and specs/vit_b_16.yaml compute what their hand-written Flax NNX twins
compute (fixtures/flax_handwritten.py and fixtures/flax_vit.py, the twins benchmarks/bench_flax.py
times them against).

One set of seeded canonical weights (``archspec.parity.draw_weights``) goes into the compiled module
through a safetensors file (``archspec.build(..., weights=)``) and into the twin through the
fixture's own mapping (renamed, conv kernels OIHW -> HWIO, linear weights transposed). Both run in
eval mode under ``jax.jit``; the compiled module takes NCHW (the spec's layout), the twin NHWC.
ResNet-18 and MobileNetV3-Small run at 64x64 with 10 classes to keep the tests fast (global average
pooling takes any size); the ViT is a small one (32x32 images, 8x8 patches, 2 layers of width 64
with 4 heads, 10 classes), set through the spec's params and the twin's arguments of the same names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("flax")
pytest.importorskip("safetensors")

from flax import nnx

import archspec
from archspec.parity import draw_weights

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from flax_handwritten import HANDWRITTEN, count_params, load_canonical, weight_mapping  # noqa: E402

#: Per spec: the test's input shape and param overrides, and one canonical name with the twin's name
#: for it (so a reader sees what the mapping means, and a shifted mapping fails loudly).
CASES = {
    "googlenet": (["N", 1, 96, 96], {}, ("b3.1.branch3.2.weight", "b3.layers.1.p3_2.kernel")),
    "resnet18": (
        ["N", 3, 64, 64],
        {"classes": 10},
        ("layer2.0.downsample.1.running_var", "layer2.layers.0.downsample.layers.1.var"),
    ),
    "mobilenet_v3_small": (
        ["N", 3, 64, 64],
        {"classes": 10},
        ("features.4.block.2.fc1.weight", "features.layers.4.block.layers.2.fc1.kernel"),
    ),
    "vit_b_16": (
        ["N", 3, 32, 32],
        {
            "image_size": 32,
            "patch_size": 8,
            "num_layers": 2,
            "hidden_dim": 64,
            "num_heads": 4,
            "mlp_dim": 128,
            "classes": 10,
        },
        ("encoder.layers.encoder_layer_1.self_attention.in_proj_weight", "encoder.layers.1.self_attention.qkv.kernel"),
    ),
}


def _twin(name: str, classes: int, **config: int) -> nnx.Module:
    """The hand-written module, built abstractly (its weights all come from the canonical file);
    ``config``: the spec's params other than ``classes``, which the twin takes under the same names."""
    return nnx.eval_shape(lambda: HANDWRITTEN[name](classes, **config))


@pytest.mark.parametrize("name", list(HANDWRITTEN))
def test_parameter_counts_match_archspec_shapes(name):
    report = archspec.shapes(ROOT / "specs" / f"{name}.yaml")  # the spec's own size and classes
    assert count_params(_twin(name, report.output.shape[-1])) == report.total_params


@pytest.mark.parametrize("name", list(HANDWRITTEN))
def test_eval_outputs_agree(name, tmp_path):
    from safetensors.numpy import save_file

    shape, params, (canonical, theirs) = CASES[name]
    spec = ROOT / "specs" / f"{name}.yaml"
    report = archspec.shapes(spec, params or None, shape)
    weights = draw_weights(report, seed=7)
    save_file(weights, str(tmp_path / "w.safetensors"))
    compiled = archspec.build(spec, "flax", tmp_path / "w.safetensors", input_shape=shape, **params)
    config = {k: v for k, v in params.items() if k != "classes"}
    handwritten = _twin(name, report.output.shape[-1], **config)
    assert weight_mapping(name, weights, handwritten)[canonical] == theirs
    load_canonical(name, handwritten, weights)
    compiled.eval()
    handwritten.eval()

    x = np.random.default_rng(1).standard_normal((2, *shape[1:]), dtype=np.float32)  # NCHW
    forward = nnx.jit(lambda model, x: model(x))
    ours = np.asarray(forward(compiled, x))
    theirs_out = np.asarray(forward(handwritten, np.moveaxis(x, 1, -1)))  # the twin takes NHWC
    assert ours.shape == theirs_out.shape == (2, report.output.shape[-1])
    scale = np.abs(ours).max()
    assert np.abs(ours - theirs_out).max() <= 1e-5 * scale
    assert np.abs(ours[0] - ours[1]).max() > 1e-2 * scale  # the input reaches the output
