"""ONNX backend speed: onnxruntime (CPU execution provider) against torch eager, and export time.

Run: python benchmarks/bench_onnx.py   (rewrites the "onnx" section of benchmarks/RESULTS.md)

Forward passes of googlenet and resnet18 at batch 1 and 32, each at its spec's input size,
for torch eager (eval mode, ``torch.inference_mode``) and onnxruntime with and without
``--fold-bn``, all on the same canonical weights. The variants run interleaved (one call of
each per round, in rotating order) so that drift in the machine's speed hits them alike;
the table gives medians. Both frameworks use their default thread counts.
Export time is spec to serialised ``.onnx`` bytes in memory (load, expand, infer shapes,
seeded weights, export, serialise), per spec, at the spec's own input size.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_section

ROOT = Path(__file__).resolve().parents[1]
FORWARD_SPECS = ("googlenet", "resnet18")
BATCHES = (1, 32)


def interleaved(variants: dict[str, Callable[[], object]], rounds: int, warmup: int = 3) -> dict[str, float]:
    """Median seconds per call of each variant, calls interleaved round by round."""
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def forward_rows() -> list[str]:
    import numpy as np
    import onnxruntime as ort

    import archspec
    from archspec import api
    from archspec.backends import get_backend

    onnx_backend = get_backend("onnx")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in FORWARD_SPECS:
            spec = ROOT / "specs" / f"{name}.yaml"
            report = api.shapes(spec)
            plain = onnx_backend.build(report.graph, report)
            weights = Path(tmp) / f"{name}.safetensors"
            onnx_backend.save_weights(plain, weights)
            folded = onnx_backend.build(report.graph, report, weights, {"fold_bn": True})
            model = archspec.build(spec, backend="torch", weights=weights).eval()
            options = ort.SessionOptions()
            # onnxruntime's idle threads spin after each run by default, which on a small machine
            # would slow the torch call that follows it in the interleaved loop
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            sessions = {
                label: ort.InferenceSession(m.model.SerializeToString(), options, providers=["CPUExecutionProvider"])
                for label, m in (("plain", plain), ("folded", folded))
            }
            for batch in BATCHES:
                shape = [batch if isinstance(d, str) else d for d in report.graph.input.shape]
                x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
                variants = _variants(model, sessions, x)
                rounds = 15 if batch == 1 else 7
                med = interleaved(variants, rounds)
                rows.append(
                    f"| {name} | {'x'.join(map(str, shape))} | {med['torch'] * 1e3:.1f} ms | {med['ort'] * 1e3:.1f} ms "
                    f"| {med['ort_fold'] * 1e3:.1f} ms | {med['torch'] / med['ort']:.2f}x "
                    f"| {med['torch'] / med['ort_fold']:.2f}x |"
                )
                print(rows[-1], flush=True)
    return rows


def _variants(model: object, sessions: dict[str, object], x: object) -> dict[str, Callable[[], object]]:
    """One forward pass of torch eager and of each onnxruntime session on ``x``."""
    import torch

    tx = torch.from_numpy(x)  # type: ignore[arg-type]

    def torch_forward() -> object:
        with torch.inference_mode():
            return model(tx)  # type: ignore[operator]

    def ort(label: str) -> Callable[[], object]:
        return lambda: sessions[label].run(None, {"input": x})  # type: ignore[attr-defined]

    return {"torch": torch_forward, "ort": ort("plain"), "ort_fold": ort("folded")}


def export_rows() -> list[str]:
    from archspec import api
    from archspec.backends import get_backend

    onnx_backend = get_backend("onnx")
    rows = []
    for spec in sorted((ROOT / "specs").glob("*.yaml")):

        def export(spec: Path = spec) -> int:
            report = api.shapes(spec)
            return len(onnx_backend.build(report.graph, report).model.SerializeToString())

        size = export()
        report = api.shapes(spec)
        repeat = 3 if report.total_params > 20_000_000 else 7
        seconds = statistics.median(_time(export) for _ in range(repeat))
        rows.append(
            f"| {spec.stem} | {report.total_params:,} | {len(report.graph)} "
            f"| {seconds * 1e3:.0f} ms | {size / 2**20:.1f} MiB |"
        )
        print(rows[-1], flush=True)
    return rows


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    import onnx
    import onnxruntime
    import torch

    forward = forward_rows()
    exports = export_rows()
    lines = [
        "## ONNX backend: onnxruntime vs torch eager, export time (`benchmarks/bench_onnx.py`)",
        "",
        f"onnxruntime {onnxruntime.__version__} (CPUExecutionProvider, default graph optimisations), "
        f"torch {torch.__version__} eager in `inference_mode`, onnx {onnx.__version__}; opset 17; "
        "medians of interleaved runs on the same canonical weights (onnxruntime's thread spinning off, so "
        "that it does not slow the torch call after it); speed-up = torch time / onnxruntime time.",
        "",
        "| spec | input | torch eager | onnxruntime | onnxruntime, --fold-bn | speed-up | speed-up, --fold-bn |",
        "|---|---|---:|---:|---:|---:|---:|",
        *forward,
        "",
        "onnxruntime fuses Conv + BatchNormalization itself when it optimises the graph, so `--fold-bn`"
        " changes little at run time; it matters for runtimes and converters that do not fuse.",
        "",
        "Export: spec file → serialised `.onnx` bytes in memory (shapes, seeded weights, export, serialise), "
        "at each spec's own input size:",
        "",
        "| spec | params | IR nodes | export time | model size |",
        "|---|---:|---:|---:|---:|",
        *exports,
    ]
    write_section("onnx", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
