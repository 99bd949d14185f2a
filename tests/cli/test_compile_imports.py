"""`archspec compile` writes torch and flax source without importing torch, jax or flax, and the
source is the same as what a process with the frameworks loaded emits (and builds)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import archspec

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("torch", "jax", "jaxlib", "flax")

# Any import of a framework raises, so a lazy import that is not lazy fails the command.
_RUN_BLOCKED = textwrap.dedent(
    """
    import sys
    BLOCKED = {frameworks!r}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"framework import blocked while writing source: {{name}}")
            return None

    sys.meta_path.insert(0, Blocker())
    sys.argv = ["archspec", *{argv!r}]
    from archspec.cli.main import main
    try:
        main()
    except SystemExit as exc:
        assert exc.code == 0, exc.code
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    """
)


def _compile_blocked(*argv: str) -> subprocess.CompletedProcess[str]:
    code = _RUN_BLOCKED.format(frameworks=FRAMEWORKS, argv=["compile", *argv])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("backend", ["torch", "flax"])
@pytest.mark.parametrize("spec", ["googlenet", "resnet18"])
def test_compile_writes_source_without_its_framework(backend: str, spec: str, tmp_path: Path) -> None:
    pytest.importorskip("torch" if backend == "torch" else "flax")
    out = tmp_path / "model.py"
    result = _compile_blocked(str(ROOT / "specs" / f"{spec}.yaml"), "--backend", backend, "-o", str(out))
    assert result.returncode == 0, result.stderr
    # The same text as a process that has the framework loaded emits, and builds from.
    archspec.build(ROOT / "specs" / "lenet_bn.yaml", backend=backend)
    assert out.read_text() == archspec.emit(ROOT / "specs" / f"{spec}.yaml", backend=backend).source


def test_compile_with_weights_loads_the_framework_to_check_them(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from archspec_torch import save_weights

    spec = ROOT / "specs" / "lenet_bn.yaml"
    weights = tmp_path / "w.safetensors"
    save_weights(archspec.build(spec), weights)
    result = _compile_blocked(str(spec), "-o", str(tmp_path / "model.py"), "--weights", str(weights))
    assert result.returncode != 0
    assert "framework import blocked while writing source: torch" in result.stderr
