"""Names from a spec never become code in the emitted Flax source either: hostile names are refused
with a located error, or the source stays valid Python that imports only jax and flax, builds, runs
and passes ruff.

The names tried are code injections, unicode look-alikes, keywords, dunders, and the names the
emitted Flax code itself uses (``jax``, ``jnp``, ``lax``, ``nnx``, ``rngs``, ``data_format``,
``layers``, ``__call__``, helper classes such as ``MaxPool`` and ``BatchNorm``). Each is put in
every place a spec gives a name: the network, a step, a DAG node, a param, a block, a block
parameter.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ruff_check import ruff_check

import archspec
from archspec.errors import SpecError, SpecErrors

pytest.importorskip("flax")

HOSTILE = [
    "x; import os",
    "__import__('os')",
    "ｃｏｎｖ",
    "cоnv",
    "class",
    "None",
    "__call__",
    "__class__",
    "jax",
    "jnp",
    "lax",
    "nnx",
    "rngs",
    "data_format",
    "layers",
    "self",
    "x",
    "MaxPool",
    "BatchNorm",
    "channels_last",
    "in_channels",
]
INJECTED = ("import os", "__import__", "os.system")


def _spec(**overrides: Any) -> dict[str, Any]:
    network = "conv(4, 3, padding=1) -> batchnorm -> relu -> maxpool(2)"
    return {"archspec": 1, "name": "net", "input": ["N", 3, 8, 8], "network": network, **overrides}


def _places(name: str) -> dict[str, dict[str, Any]]:
    """One spec per place a name can appear."""
    return {
        "network name": _spec(name=name),
        "step": _spec(network={name: "conv(4, 3, padding=1) -> batchnorm", "after": "maxpool(2)"}),
        "dag node": _spec(network={"dag": {name: "conv(4, 1)", "b": {"in": ["input", name], "do": "concat"}}}),
        "param": _spec(params={name: 4}, network="relu"),
        "param in use": _spec(params={name: 4}, network=f"conv({name}, 1) -> relu -> conv({name}, 1)"),
        "block": _spec(blocks={f"{name}(c)": "conv(c, 1) -> relu"}, network=[f"{name}(4)", f"{name}(5)"]),
        "block parameter": _spec(
            blocks={f"unit({name}, c)": f"conv({name}, 1) -> maxpool(2) -> conv(c, 1)"},
            network=["unit(4, 5)"],
        ),
    }


CASES = [(name, place) for name in HOSTILE for place in _places("x")]


def _ruff(path: Path) -> None:
    done = ruff_check(path)  # the project's rules, as for torch's source
    if done is None:
        pytest.skip("ruff is not installed")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("name", "place"), CASES, ids=[f"{p}:{n!a}" for n, p in CASES])
def test_hostile_names_are_refused_or_emitted_safely(name: str, place: str, tmp_path: Path) -> None:
    spec = _places(name)[place]
    try:
        source = archspec.emit(spec, backend="flax").source
    except (SpecError, SpecErrors) as exc:
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        assert all(e.loc is not None for e in errors), exc
        return
    tree = ast.parse(source)  # valid Python
    assert not any(bad in source for bad in INJECTED), source
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert roots <= {"jax", "flax"}, roots
    model = archspec.build(spec, backend="flax")
    model.eval()
    out = np.asarray(model(np.ones((2, 3, 8, 8), np.float32)))
    assert np.isfinite(out).all()
    (tmp_path / "model.py").write_text(source)
    _ruff(tmp_path / "model.py")


def test_keywords_and_nnx_attributes_are_refused_as_layer_names_and_helpers_are_not_shadowed() -> None:
    for name in ("class", "None", "data_format"):
        with pytest.raises(SpecError, match=f"the layer name '{name}' .* cannot be a Flax NNX attribute name"):
            archspec.emit(_places(name)["step"], backend="flax")
    source = archspec.emit(_places("MaxPool")["block parameter"], backend="flax").source
    assert "class MaxPool(nnx.Module):" in source and "def __init__(self, in_channels, c, *" in source


def test_a_step_may_be_named_layers_as_in_torchvisions_vit() -> None:
    # nnx.Sequential holds its list in `layers`, but a class of named steps is a plain module:
    # the name stays in the canonical weights (ViT's encoder.layers.encoder_layer_0...)
    from archspec_flax.weights import canonical_state

    spec = _spec(network={"dag": {"layers": "conv(4, 1)", "out": {"in": ["input", "layers"], "do": "concat"}}})
    assert set(canonical_state(archspec.build(spec, backend="flax"))) == {"layers.weight", "layers.bias"}
