"""Flax backend speed: the compiled module against its hand-written twin under jax.jit, forward and compile.

Run: python benchmarks/bench_flax.py [--threads 1] [--quick] [--only SPEC ...]
(rewrites the "flax" section of benchmarks/RESULTS.md; --quick runs fewer rounds and --only some of the
specs, and either writes nothing)

Targets (issues 4, 14 and 15): the compiled module's forward time under ``jax.jit`` is at most 1.03x
that of a hand-written Flax NNX module of the same network, for googlenet (1x96x96), resnet18 and
mobilenet_v3_small (3x224x224, 1000 classes) at batch 1 and 32, and vit_b_16 (ViT-B/16 at its full
size, 3x224x224) at batch 1; and the one-time jit compile time, reported alongside. (ViT-B/16 at batch
32 would take some 10 s a call on one thread, minutes per configuration for a few rounds.)

The twins are the test fixtures in ``tests/backends/flax/fixtures/`` (``flax_handwritten.py``: d2l's
GoogLeNet, torchvision-style ResNet-18 and MobileNetV3-Small, NHWC throughout; ``flax_vit.py``:
torchvision's ViT-B/16 on NHWC images and ``[N, T, D]`` tokens), loaded with the same
canonical weights as the compiled modules (``archspec.parity.draw_weights``); their parameter counts are checked against
``archspec shapes`` and their outputs against the compiled modules' before anything is timed. Two
builds of each spec are timed: the default one, which takes the spec's NCHW input and so transposes
it to channels-last first (one transpose of the input inside the jitted program), and
``data_format="NHWC"``, which takes what the hand-written module takes.

Every module runs the same way: eval mode, ``nnx.split`` once, then ``jax.jit`` of a pure function
that merges the state back into a module and calls it, on arrays already on the device, waited for
with ``block_until_ready``. The three modules run interleaved, rotating which goes first; each
sample is as many calls as fill about 50 ms, timed by the process's CPU time with XLA held to one
intra-op thread (--threads 1, the default: on a shared 2-core machine a second thread waiting for a
busy core makes times swing), so time the scheduler gives other processes is not counted. Tables
give medians over the rounds; a ratio is the median of the rounds' own compiled / hand-written
ratios, with their middle half to show the machine's noise.

Compile time is the first call's one-time cost, in two parts: tracing the Python module and
lowering it to StableHLO (``jax.jit(f).lower(...)``), and XLA compiling that (``.compile()``), each
on a fresh jitted function (nothing is cached between them; the persistent compilation cache is
off), medians over repeats in rotating order. The optimised programs XLA ends up with are compared
instruction by instruction (shape, opcode, attributes), which says whether any difference in speed
can come from the generated code at all.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _results import median_time, ms, timed, verdict, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends" / "flax" / "fixtures"))

#: spec -> the batch sizes it is timed at
BATCHES = {"googlenet": (1, 32), "resnet18": (1, 32), "mobilenet_v3_small": (1, 32), "vit_b_16": (1,)}
FORWARD_TARGET = 1.03
SAMPLE_SECONDS = 0.05
COMPILE_REPEATS = {False: 5, True: 1}  # by --quick
VARIANTS = ("hand-written", "compiled, NCHW in", "compiled, NHWC in")
#: The clock samples are read from: the process's CPU time when XLA computes on one thread (time the
#: scheduler gives other processes is not counted), wall-clock time with more threads.
CLOCK: Callable[[], float] = time.process_time


@dataclass
class Variant:
    """One module made ready to time: its state, the jitted pure forward and its input on the device."""

    name: str
    model: Any
    x: Any  # the input in the layout this module takes

    def pure(self) -> tuple[Callable[..., Any], Any]:
        """A fresh ``jax.jit`` of ``state, x -> merge(graphdef, state)(x)`` and the state: the same
        mechanism for every module."""
        import jax
        from flax import nnx

        graphdef, state = nnx.split(self.model)

        def forward(state: Any, x: Any) -> Any:
            return nnx.merge(graphdef, state)(x)

        return jax.jit(forward), state


def modules(name: str, tmp: Path) -> tuple[tuple[Any, Any, Any], tuple[int, ...], int]:
    """The hand-written module and the compiled NCHW and NHWC builds (same canonical weights, eval
    mode), the spec's input shape (C, H, W) and its parameter count."""
    from flax import nnx
    from flax_handwritten import HANDWRITTEN, count_params, load_canonical
    from safetensors.numpy import save_file

    import archspec
    from archspec.parity import draw_weights

    spec = ROOT / "specs" / f"{name}.yaml"
    report = archspec.shapes(spec)
    weights = draw_weights(report, seed=0)
    path = tmp / f"{name}.safetensors"
    save_file(weights, str(path))
    handwritten = nnx.eval_shape(lambda: HANDWRITTEN[name](report.output.shape[-1]))
    load_canonical(name, handwritten, weights)
    params = count_params(handwritten)
    assert params == report.total_params, (name, params, report.total_params)  # the same network
    nchw = archspec.build(spec, "flax", path)
    nhwc = archspec.build(spec, "flax", path, options={"data_format": "NHWC"})
    for model in (handwritten, nchw, nhwc):
        model.eval()
    shape = tuple(d for d in report.graph.input.shape if not isinstance(d, str))
    return (handwritten, nchw, nhwc), shape, params


def one_time_cost(
    variants: Sequence[Variant], repeats: int, clock: Callable[[], float]
) -> tuple[list[float], list[float], list[str]]:
    """Per variant: median seconds to trace + lower and to XLA-compile a fresh ``jax.jit``, rotating which
    goes first, and the optimised HLO text. One untimed lowering of each first, so jax's own per-shape
    caches (filled by whichever module traces first) favour none of them, and one untimed compile."""
    for i, v in enumerate(variants):
        fn, state = v.pure()
        lowered = fn.lower(state, v.x)
        if i == 0:
            lowered.compile()  # XLA's first compile in a process is slower too
    lower: list[list[float]] = [[] for _ in variants]
    compile_: list[list[float]] = [[] for _ in variants]
    hlo = [""] * len(variants)
    for r in range(repeats):
        for k in range(len(variants)):
            which = (r + k) % len(variants)
            fn, state = variants[which].pure()
            start = clock()
            lowered = fn.lower(state, variants[which].x)
            mid = clock()
            executable = lowered.compile()
            lower[which].append(mid - start)
            compile_[which].append(clock() - mid)
            hlo[which] = hlo[which] or executable.as_text()
    return [statistics.median(t) for t in lower], [statistics.median(t) for t in compile_], hlo


def same_outputs(variants: Sequence[Variant]) -> str:
    """Check the compiled builds compute what the hand-written module does; say how closely."""
    import numpy as np

    outputs = []
    for v in variants:
        fn, state = v.pure()
        outputs.append(np.asarray(fn(state, v.x)))
    scale = np.abs(outputs[0]).max()
    worst = max(float(np.abs(o - outputs[0]).max()) for o in outputs[1:])
    assert worst <= 1e-5 * scale, (worst, scale)
    return "bit for bit" if worst == 0 else f"to {worst / scale:.1e} of the output's scale"


def hlo_instructions(text: str) -> Counter[tuple[str, str, str]]:
    """The instructions of an optimised HLO module (every computation) as (shape, opcode, attributes),
    with names, metadata and parameter numbers left out, so two programs that compute the same way
    compare equal."""
    found: Counter[tuple[str, str, str]] = Counter()
    for line in text.splitlines():
        m = re.match(r"\s*(?:ROOT )?%\S+ = (.+?) ([\w-]+)\((.*)$", line)
        if not m:
            continue
        shape, op, rest = m.groups()
        if op == "parameter":
            rest = ""
        rest = re.sub(r", metadata=\{[^}]*\}", "", rest)
        rest = re.sub(r"(calls|to_apply|backend_config|frontend_attributes)=\S+", "", rest)
        found[(shape, op, re.sub(r"%[\w.-]+", "%", rest))] += 1
    return found


def hlo_difference(ours: str, theirs: str) -> str:
    """The opcodes of our instructions that the other program does not have (parameters aside); an
    instruction that differs from one of theirs in its ``pad=`` alone shows as ``<opcode> padding``."""
    mine, other = hlo_instructions(ours), hlo_instructions(theirs)
    extra, missing = mine - other, other - mine
    unpadded = Counter((shape, op, re.sub(r"pad=\S+", "", attrs)) for shape, op, attrs in missing.elements())
    ops: Counter[str] = Counter()
    for shape, op, attrs in extra.elements():
        if op == "parameter":
            continue
        key = (shape, op, re.sub(r"pad=\S+", "", attrs))
        if unpadded[key] > 0:
            unpadded[key] -= 1
            op = f"{op} padding"
        ops[op] += 1
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in sorted(ops.items())) or "none"


def forward_and_compile(
    specs: Sequence[str], quick: bool, clock: Callable[[], float]
) -> tuple[list[str], list[str], list[float], list[str]]:
    import tempfile

    import jax
    import jax.numpy as jnp
    import numpy as np

    forward_rows, compile_rows, ratios, notes = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in specs:
            models, shape, _ = modules(name, Path(tmp))
            for batch in BATCHES[name]:
                nchw_x = np.random.default_rng(0).standard_normal((batch, *shape), dtype=np.float32)
                nhwc_x = jnp.asarray(np.moveaxis(nchw_x, 1, -1))
                variants = [
                    Variant(VARIANTS[0], models[0], nhwc_x),
                    Variant(VARIANTS[1], models[1], jnp.asarray(nchw_x)),
                    Variant(VARIANTS[2], models[2], nhwc_x),
                ]
                size = "x".join(str(d) for d in (batch, *shape))
                notes.append(f"{name} {size}: {same_outputs(variants)}")

                lower, compile_, hlo = one_time_cost(variants, COMPILE_REPEATS[quick], clock)
                for i, variant in enumerate(variants):
                    total = lower[i] + compile_[i]
                    vs = f"{total / (lower[0] + compile_[0]):.2f}" if i else ""
                    differ = hlo_difference(hlo[i], hlo[0]) if i else ""
                    compile_rows.append(
                        f"| {name} | {size} | {variant.name} | {ms(lower[i])} | {ms(compile_[i])} | {ms(total)} "
                        f"| {vs} | {sum(hlo_instructions(hlo[i]).values())} | {differ} |"
                    )
                    print(compile_rows[-1], flush=True)

                transpose = jax.jit(lambda x: jnp.moveaxis(x, 1, -1))
                nchw_in = variants[1].x
                transpose_s = median_time(lambda t=transpose, x=nchw_in: t(x).block_until_ready(), 21, clock)

                calls = []
                for v in variants:
                    fn, state = v.pure()
                    calls.append(lambda fn=fn, state=state, x=v.x: fn(state, x).block_until_ready())
                    calls[-1]()  # compiles
                start = clock()
                calls[0]()
                rounds = rounds_for(clock() - start, quick)
                t = timed(calls, rounds, clock, SAMPLE_SECONDS)
                ratios += [t.ratios[1], t.ratios[2]]
                worse = 1 if t.ratios[1] >= t.ratios[2] else 2  # the verdict is the slower build's
                judged = verdict(t.ratios[worse] <= FORWARD_TARGET, t.q1[worse])
                forward_rows.append(
                    f"| {name} | {size} | {ms(t.medians[0])} "
                    f"| {ms(t.medians[1])} | {t.ratios[1]:.3f} | {t.q1[1]:.3f} to {t.q3[1]:.3f} | {t.best[1]:.3f} "
                    f"| {ms(t.medians[2])} | {t.ratios[2]:.3f} | {t.q1[2]:.3f} to {t.q3[2]:.3f} | {t.best[2]:.3f} "
                    f"| {ms(transpose_s)} | {rounds} | {judged} |"
                )
                print(forward_rows[-1], flush=True)
            del models
    return forward_rows, compile_rows, ratios, notes


#: Differences that cost nothing measurable: the max pools' padding attribute (any build), the NCHW
#: build's input transpose (see _hlo_notes).
_HARMLESS = {"reduce-window padding"}
_INPUT_TRANSPOSE = {"transpose", "copy", "fusion", "bitcast"}


def _same_program(compile_rows: Sequence[str]) -> str:
    """A sentence for the forward table naming the specs for which XLA runs the hand-written module's
    program, but for harmless differences, in every configuration."""
    same: dict[str, bool] = {}
    for row in compile_rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        differ = {op.split(" x")[0].strip() for op in cells[-1].split(",")} - {"", "none"}
        allowed = _HARMLESS | (_INPUT_TRANSPOSE if "NCHW" in cells[2] else set())
        same[cells[0]] = same.get(cells[0], True) and not differ - allowed
    specs = [spec for spec, ok in same.items() if ok]
    if not specs:
        return ""
    which = "every spec" if len(specs) == len(same) else ", ".join(specs)
    return (
        f" For {which}, XLA runs the hand-written module's program in every configuration, but for the "
        "differences the second table lists (the max pools' padding; the NCHW build's input transpose, whose "
        "cost alone is the transpose column), so ratios away from 1 beyond that are the shared machine's noise."
    )


def _hlo_notes(compile_rows: Sequence[str]) -> list[str]:
    """What the differing opcodes in the compile table are, for the ones these networks show."""
    differ = " ".join(row.rsplit("|", 2)[-2] for row in compile_rows)
    notes = []
    if "reduce-window padding" in differ:
        notes.append(
            "reduce-window padding: the stride-2 max pools, which the compiled module pads (1, 0) per spatial axis, "
            "exactly the right padding that reaches PyTorch's output length (`pool_windows` in the emitted "
            "source), where the hand-written pads (1, 1); the windows, outputs and output shapes are the same."
        )
    if any(op in differ for op in ("transpose", "bitcast")):
        notes.append(
            "transpose, copy, fusion (a bitcast where the input has one channel, as googlenet's): the NCHW "
            "build's transpose of its input to channels-last."
        )
    if re.search(r"reduce-window(?! padding)", differ):
        notes.append(
            "Where a transformer's row lists nearly every opcode, its tensors differ in shape from the twin's: "
            "the compiled module holds the spec's [N, T, D] tokens channels-last, as [N, D, T], so each "
            "linear layer and attention is wrapped in transposes (the extra transpose and copy instructions), "
            "and XLA splits each layer norm's reduction over D, no longer the minor axis, in two (reduce-window, "
            "then reduce). Its layer norms also take the mean of squared deviations, as PyTorch does, where the "
            "twin's use Flax's default E[x²] - E[x]², clamped at 0 (`maximum`s only the twin's program has)."
        )
    return [" ".join(notes), ""] if notes else []


def rounds_for(seconds_per_call: float, quick: bool) -> int:
    """About 30 s per configuration (4 s with --quick): 11 to 41 rounds (3 to 11). Fewer than 11 leave the
    quartiles of 2-second calls (resnet18 at batch 32) to a handful of noisy samples."""
    budget, low, high = (4.0, 3, 11) if quick else (30.0, 11, 41)
    return max(low, min(high, int(budget / (3 * max(seconds_per_call, SAMPLE_SECONDS)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="XLA CPU intra-op threads: 1 (default) or more")
    parser.add_argument("--quick", action="store_true", help="fewer rounds; print only, RESULTS.md untouched")
    parser.add_argument(
        "--only", nargs="+", choices=list(BATCHES), help="these specs alone; print only, RESULTS.md untouched"
    )
    args = parser.parse_args()

    clock = CLOCK
    if args.threads == 1:  # before jax starts: XLA reads its flags once
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    else:  # other threads compute too: wall-clock time
        clock = time.perf_counter

    import flax
    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    forward, compile_rows, ratios, notes = forward_and_compile(args.only or list(BATCHES), args.quick, clock)
    took = time.perf_counter() - began
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    threads = "XLA held to 1 intra-op thread" if args.threads == 1 else "XLA's default threading"
    clock_text = (
        "the process's CPU time (time the scheduler gives other processes on a shared machine is not counted)"
        if clock is time.process_time
        else "wall-clock time"
    )
    clock_name = "process CPU time" if clock is time.process_time else "wall-clock"
    device = jax.devices()[0]
    kind = device.platform if device.device_kind == device.platform else f"{device.platform} ({device.device_kind})"
    lines = [
        "## Flax backend: compiled module vs hand-written module under `jax.jit` (`benchmarks/bench_flax.py`)",
        "",
        f"jax {jax.__version__}, flax {flax.__version__}, {kind}, {threads}, "
        "eval mode, each spec's own input size (ViT-B/16 at batch 1 alone). The hand-written modules are the "
        "test fixtures "
        "(tests/backends/flax/fixtures/flax_handwritten.py: d2l's GoogLeNet, torchvision-style ResNet-18 "
        "and MobileNetV3-Small in Flax NNX, NHWC throughout; flax_vit.py: torchvision's ViT-B/16 on NHWC "
        "images and [N, T, D] tokens, q, k and v from one packed `nnx.Linear`, `jax.nn.dot_product_attention`) "
        "holding the same canonical weights, with the "
        "parameter counts `archspec shapes` reports. Every module runs the same way: `nnx.split` once, `jax.jit` of "
        "`state, x -> nnx.merge(graphdef, state)(x)`, inputs already on the device, `block_until_ready`. "
        "Two builds of each spec: the default takes the spec's NCHW input and pays one transpose of it to "
        'channels-last inside the jitted program; `data_format="NHWC"` takes what the hand-written module '
        "takes. The three run interleaved, rotating which goes first; a sample averages the calls that fill "
        f"about {SAMPLE_SECONDS * 1e3:.0f} ms of {clock_text}. Times are medians over the rounds; a ratio is "
        "the median of the rounds' compiled / hand-written ratios; the middle half of those ratios shows how "
        "much the shared machine's noise moves them, and the ratio of the fastest calls is the least "
        "disturbed view.",
        "",
        f"Forward time (target: compiled / hand-written at most {FORWARD_TARGET}); the last time column is a "
        "jitted NCHW → NHWC transpose of the input alone, an upper bound on what the NCHW build pays for it:",
        "",
        "| spec | input | hand-written | compiled, NCHW in | ratio | middle half | ratio of best "
        "| compiled, NHWC in | ratio | middle half | ratio of best | input transpose alone | rounds | |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|",
        *forward,
        "",
        f"Forward ratios range from {min(ratios):.3f} to {max(ratios):.3f}. Outputs: "
        + "; ".join(notes)
        + " (compiled builds against the hand-written module)."
        + _same_program(compile_rows),
        "",
        "One-time jit cost: tracing the module and lowering it to StableHLO, then XLA's compile, each on a "
        f"fresh `jax.jit` ({clock_name}, medians of {COMPILE_REPEATS[args.quick]} in rotating order, after one "
        "untimed lowering of each and one untimed compile; XLA compiles on one thread, so on an idle machine "
        "this is the wall time a user waits). The last two columns are what XLA ends up running: the "
        "instructions of the optimised program (all its computations), and the opcodes of the compiled "
        "build's instructions the hand-written program does not have, compared by shape, opcode and "
        "attributes (names, metadata and parameter order left out):",
        "",
        "| spec | input | module | trace + lower | XLA compile | one-time total | vs hand-written "
        "| HLO instructions | not in hand-written's |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
        *compile_rows,
        "",
        *_hlo_notes(compile_rows),
        f"Whole benchmark: {took:.0f} s; the machine's load average was {load}.",
    ]
    text = "\n".join(lines)
    print(text)
    if not (args.quick or args.only):
        write_section("flax", text)


if __name__ == "__main__":
    main()
