"""The core stays framework-free: `import archspec` and `archspec shapes` never import torch, jax, flax or onnx."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "jax", "jaxlib", "flax", "onnx", "onnxruntime", "tensorflow")

# Run code with every framework import blocked by a meta-path hook that raises.
_BLOCKER = textwrap.dedent(
    f"""
    import sys
    BLOCKED = {FRAMEWORKS!r}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"framework import blocked in the core: {{name}}")
            return None

    sys.meta_path.insert(0, Blocker())
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_import_archspec_imports_no_framework() -> None:
    result = _run(
        """
        import archspec, archspec.api, archspec.infer, archspec.spec.schema
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        """
    )
    assert result.returncode == 0, result.stderr


def test_shapes_command_runs_with_frameworks_unimportable() -> None:
    result = _run(
        """
        sys.argv = ["archspec", "shapes", "specs/googlenet.yaml", "--format", "json"]
        from archspec.cli.main import main
        try:
            main()
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        """
    )
    assert result.returncode == 0, result.stderr
    assert '"total_params"' in result.stdout


def test_core_sources_do_not_import_frameworks() -> None:
    offenders = []
    for path in (ROOT / "archspec").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[0] in FRAMEWORKS:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_draw_runs_with_frameworks_unimportable(tmp_path: Path) -> None:
    out = tmp_path / "googlenet.mmd"
    result = _run(
        f"""
        import archspec
        drawing = archspec.draw("specs/googlenet.yaml", {str(out)!r}, depth=2)
        assert drawing.dot.startswith("digraph")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        """
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("flowchart TD")
