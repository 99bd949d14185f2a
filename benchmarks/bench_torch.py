"""PyTorch backend speed: the compiled module against its hand-written twin, forward and build.

Run: python benchmarks/bench_torch.py [--threads 1] [--quick]
(rewrites the "torch" section of benchmarks/RESULTS.md; --quick runs fewer rounds and writes nothing)

Targets (issue 3): the compiled module's forward time is at most 1.02x the hand-written
module's (compiled code is hand-written code), and building it from the spec
(``archspec.build``: load, expand, infer shapes, emit, run the source, construct) takes at most
1.5x constructing the hand-written module. The build's overhead over that constructor is
reported in milliseconds next to the ratio: it is a fixed cost per build, so the ratio says
more about the network's size than about archspec.

The twins are the test fixtures in ``tests/backends/torch/fixtures/`` (seed 001's
InceptionNet, hand ports of seeds 002 and 003, torchvision-style ResNet-18), loaded with the
same canonical weights as the compiled module. Forward passes run in eval mode under
``torch.inference_mode`` with a fixed number of intra-op threads (1 by default: on a shared
machine a second OpenMP thread that has to wait for a busy core makes times swing by 10x and
more), at each spec's own input size. What is compared runs interleaved, in rotating order,
and each timed sample is as many calls as fill about 25 ms of this thread's CPU time (wall time
with more threads), so drift in the machine's speed hits both alike; the tables give medians
over the rounds, and each ratio is the median of the rounds' own ratios (with its middle half,
to show the machine's noise).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _results import Timed, ms, timed, verdict, write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends" / "torch" / "fixtures"))

SPECS = ("googlenet", "inception_small", "lenet_bn", "resnet18")
BATCHES = (1, 32)
FORWARD_TARGET = 1.02
BUILD_TARGET = 1.5
SAMPLE_SECONDS = 0.025
#: The clock timed samples are read from: this thread's CPU time when torch computes on this
#: thread alone (--threads 1), so time the scheduler gives other processes is not counted.
CLOCK: Callable[[], float] = time.thread_time


def twins(name: str, weights: Path):
    """The compiled module and the hand-written one, with the same canonical weights, in eval mode."""
    from archspec_torch import canonical_state
    from safetensors.torch import load_file
    from torch_handwritten import HANDWRITTEN, load_canonical, weight_mapping

    import archspec

    compiled = archspec.build(ROOT / "specs" / f"{name}.yaml", weights=weights)
    handwritten = HANDWRITTEN[name].make()
    load_canonical(handwritten, load_file(str(weights)), weight_mapping(canonical_state(compiled), handwritten))
    return compiled.eval(), handwritten.eval()


def rounds_for(seconds_per_call: float, quick: bool) -> int:
    """About 25 s per configuration (4 s with --quick): 7 to 41 rounds (5 to 15)."""
    budget, low, high = (4.0, 5, 15) if quick else (25.0, 7, 41)
    return max(low, min(high, int(budget / (2 * max(seconds_per_call, SAMPLE_SECONDS)))))


def forward_rows(tmp: Path, quick: bool) -> tuple[list[str], list[float]]:
    import torch
    from archspec_torch import save_weights
    from torch_handwritten import draw_weights

    import archspec
    from archspec import api

    rows, ratios = [], []
    for name in SPECS:
        spec = ROOT / "specs" / f"{name}.yaml"
        weights = tmp / f"{name}.safetensors"
        model = archspec.build(spec)
        draw_weights(model, seed=0)
        save_weights(model, weights)
        compiled, handwritten = twins(name, weights)
        shape = [d for d in api.shapes(spec).graph.input.shape if not isinstance(d, str)]
        for batch in BATCHES:
            x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(0))
            t = forward_side_by_side(handwritten, compiled, x, quick)
            ratios.append(t.ratios[1])
            rows.append(forward_row(name, x, t))
            print(rows[-1], flush=True)
    return rows, ratios


def forward_side_by_side(reference: Any, compiled: Any, x: Any, quick: bool, tolerance: float = 0.0) -> Timed:
    """Forward time of ``reference`` (first) and ``compiled`` on ``x`` under ``torch.inference_mode``,
    timed side by side, after checking that they compute the same output: bit for bit by default, or
    ``max|compiled - reference| <= tolerance * max|reference|`` where the two compute it by different
    kernels (archspec parity's convention)."""
    import torch

    with torch.inference_mode():
        ours, theirs = compiled(x), reference(x)
        assert ours.shape == theirs.shape, f"the compiled module's output is {ours.shape}, not {theirs.shape}"
        difference = float((ours - theirs).abs().max())
        assert difference <= tolerance * theirs.abs().max(), f"the compiled module is {difference} off"
        start = time.perf_counter()
        reference(x)
        rounds = rounds_for(time.perf_counter() - start, quick)
        return timed([lambda: reference(x), lambda: compiled(x)], rounds, CLOCK, SAMPLE_SECONDS)


def forward_row(name: str, x: Any, t: Timed, *extra: str) -> str:
    """A forward table's row: spec, input size, both times, the ratio with its spread, the rounds, any
    ``extra`` cells, and the verdict against :data:`FORWARD_TARGET`."""
    size = "x".join(str(d) for d in x.shape)
    cells = [
        name, size, ms(t.medians[0]), ms(t.medians[1]), f"{t.ratios[1]:.3f}", f"{t.q1[1]:.3f} to {t.q3[1]:.3f}",
        f"{t.best[1]:.3f}", str(t.rounds), *extra, verdict(t.ratios[1] <= FORWARD_TARGET, t.q1[1]),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def use_threads(threads: int) -> str:
    """Run torch on ``threads`` intra-op threads and time by the clock that suits them (this thread's CPU
    time for one, wall-clock time for more); say which, for the results' text."""
    import torch

    global CLOCK
    torch.set_num_threads(threads)
    if threads == 1:
        CLOCK = time.thread_time
        return (
            "this thread's CPU time (torch computes on it alone, and time the scheduler gives other processes "
            "on a shared machine is not counted)"
        )
    CLOCK = time.perf_counter  # other threads compute too
    return "wall-clock time"


def forgetting(module_name: str) -> Callable[[], None]:
    """A function that makes this process forget what earlier builds left in memory: archspec's
    memos (parsed and analysed expressions, generated docstrings: keyed by text, they would
    otherwise be warm from the previous round's build of the same spec) and the generated module
    ``module_name`` (so its source is compiled again). A build after it pays what the first build
    of a spec pays in a process that has built other specs."""
    memos = [
        value
        for name, mod in list(sys.modules.items())
        if name == "archspec" or name.startswith(("archspec.", "archspec_torch"))
        for value in vars(mod).values()
        if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name
    ]

    def forget() -> None:
        for memo in memos:
            memo.cache_clear()
        sys.modules.pop(module_name, None)

    return forget


def build_rows(quick: bool) -> tuple[list[str], list[float]]:
    from torch_handwritten import HANDWRITTEN

    import archspec
    from archspec import api
    from archspec.codegen import load_source

    rows, ratios = [], []
    for name in SPECS:
        spec = ROOT / "specs" / f"{name}.yaml"
        make = HANDWRITTEN[name].make
        start = time.perf_counter()
        make()
        rounds = rounds_for(time.perf_counter() - start, quick)
        report = api.shapes(spec)
        emitted = build_emit(report)  # what archspec.build runs
        forget = forgetting(load_source(emitted).__name__)

        def first_build(spec: Path = spec, forget: Callable[[], None] = forget) -> object:
            forget()
            return archspec.build(spec)

        t = timed([make, first_build], rounds, CLOCK, SAMPLE_SECONDS)
        # Where a build's time goes: each part from cold memos, timed in rotation with the
        # hand-written constructor (so the machine's drift moves them alike), medians.
        module = load_source(emitted)
        parts = timed(
            [
                make,
                lambda spec=spec, f=forget: (f(), api.shapes(spec)),
                lambda r=report, f=forget: (f(), build_emit(r)),
                lambda m=module, e=emitted: getattr(m, e.entry)(),
                lambda e=emitted: exec(compile(e.source, e.filename, "exec"), {}),
            ],
            rounds,
            CLOCK,
            SAMPLE_SECONDS,
        )
        shapes, emit, construct, run_source = parts.medians[1:]
        ratios.append(t.ratios[1])
        rows.append(
            f"| {name} | {ms(t.medians[0])} | {ms(t.medians[1])} | {ms(t.medians[1] - t.medians[0])} "
            f"| {t.ratios[1]:.2f} | {t.q1[1]:.2f} to {t.q3[1]:.2f} | {verdict(t.ratios[1] <= BUILD_TARGET)} "
            f"| {ms(shapes)} | {ms(emit)} | {ms(construct)} | {ms(run_source)} |"
        )
        print(rows[-1], flush=True)
    return rows, ratios


def build_emit(report: Any) -> Any:
    """The source ``archspec.build`` runs: ``compile``'s classes, without its check of which params
    the network class takes (which expands the spec again; see ``ClassEmitter.emit``)."""
    from archspec_torch._backend import RESERVED_ATTRIBUTES
    from archspec_torch.codegen._emit import ModuleEmitter

    return ModuleEmitter(report.graph, report, RESERVED_ATTRIBUTES).emit(checked_signature=False)


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds; print only, RESULTS.md untouched")
    args = parser.parse_args()

    import torch

    clock = use_threads(args.threads)
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        forward, ratios = forward_rows(Path(tmp), args.quick)
        build, _ = build_rows(args.quick)
    took = time.perf_counter() - began
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    threads = f"{args.threads} intra-op thread" + ("s" if args.threads != 1 else "")
    lines = [
        "## PyTorch backend: compiled module vs hand-written module (`benchmarks/bench_torch.py`)",
        "",
        f"torch {torch.__version__}, {threads}, eval mode, `torch.inference_mode`, each "
        "spec's own input size. The hand-written modules are the test fixtures (tests/backends/torch/fixtures/: "
        "seed 001's InceptionNet, hand ports of the Gluon seeds 002 and 003, torchvision-style ResNet-18) "
        "holding the same canonical weights; their outputs equal the compiled modules' bit for bit. "
        "The modules run interleaved, rotating which goes first; a sample averages the calls that fill "
        f"about {SAMPLE_SECONDS * 1e3:.0f} ms of {clock}. Times are medians over the rounds; a ratio is the "
        "median of the rounds' compiled / hand-written ratios; the middle half of those ratios shows how much the "
        "shared machine's noise moves them, and the ratio of the two fastest calls is the least disturbed view.",
        "",
        f"Forward time (target: compiled / hand-written at most {FORWARD_TARGET}):",
        "",
        "| spec | input | hand-written | compiled | ratio | middle half of ratios | ratio of best times | rounds | |",
        "|---|---|---:|---:|---:|---|---:|---:|---|",
        *forward,
        "",
        f"Forward ratios range from {min(ratios):.3f} to {max(ratios):.3f}. Generated ReLUs run in place "
        "where that is safe (after a convolution, norm, pool, add or concat whose output nothing else reads), "
        "as torchvision's do; the d2l-style GoogLeNet port calls `F.relu`, which allocates, hence ratios "
        "below 1 at batch 32.",
        "",
        f"Build time (target at most {BUILD_TARGET}x): a spec file to a ready module with `archspec.build`, "
        "against constructing the hand-written module (the two run interleaved, as above). A build goes "
        "through the spec every time (nothing is kept on disk): the core's spec to shapes (load, validate, "
        "expand, infer), the backend's emit, running the generated source (compiling it), then constructing "
        "the generated classes, which costs what constructing the hand-written ones does (mostly torch's random "
        "initialisation). *Overhead* is the build's median time less the constructor's: the fixed cost of going "
        "through a spec. Each build starts with the process's memos of earlier builds cleared (analysed "
        "expressions, the generated module), so repeating it does not flatter it; the last four columns are its "
        "parts, each timed the same way, in rotation with the hand-written constructor.",
        "",
        "| spec | hand-written | build | overhead | ratio | middle half | | spec to shapes | emit | construct "
        "| run source |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
        *build,
        "",
        "The overhead is a fixed cost which a hand-written constructor does not pay (its counterpart for the "
        "hand-written module is compiling its `.py` file, which Python does once and keeps in `__pycache__`, "
        "and which these times leave out): small next to constructing a large network (resnet18), dominant "
        "for small ones.",
        "",
        f"Whole benchmark: {took:.0f} s; the machine's load average was {load}.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        write_section("torch", text)


if __name__ == "__main__":
    main()
