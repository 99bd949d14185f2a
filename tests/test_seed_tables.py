"""The shape tables printed in the seeds, reproduced stage by stage by ``archspec shapes``.

Each table is copied from the tutorial output in ``shared/seeds/`` (the Gluon layer
name, then the output shape it printed) and compared with the depth-1 rows of
``archspec shapes SPEC --input ... --depth 1 --format json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archspec.cli.main import app

SPECS = Path(__file__).resolve().parents[1] / "specs"

# Seed 002 (d2l GoogLeNet in Gluon), input (1, 1, 96, 96).
GOOGLENET = [
    ("sequential0", (1, 64, 24, 24)),
    ("sequential1", (1, 192, 12, 12)),
    ("sequential4", (1, 480, 6, 6)),
    ("sequential5", (1, 832, 3, 3)),
    ("sequential6", (1, 1024, 1, 1)),
    ("dense0", (1, 10)),
]

# Seed 003 (d2l NiN in Gluon), input (1, 1, 224, 224).
NIN = [
    ("sequential1", (1, 96, 54, 54)),
    ("pool0", (1, 96, 26, 26)),
    ("sequential2", (1, 256, 26, 26)),
    ("pool1", (1, 256, 12, 12)),
    ("sequential3", (1, 384, 12, 12)),
    ("pool2", (1, 384, 5, 5)),
    ("dropout0", (1, 384, 5, 5)),
    ("sequential4", (1, 10, 5, 5)),
    ("pool3", (1, 10, 1, 1)),
    ("flatten0", (1, 10)),
]

# Seed 003 (d2l VGG-11 in Gluon, conv_arch ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))),
# input (1, 1, 224, 224).
VGG11 = [
    ("sequential1", (1, 64, 112, 112)),
    ("sequential2", (1, 128, 56, 56)),
    ("sequential3", (1, 256, 28, 28)),
    ("sequential4", (1, 512, 14, 14)),
    ("sequential5", (1, 512, 7, 7)),
    ("dense0", (1, 4096)),
    ("dropout0", (1, 4096)),
    ("dense1", (1, 4096)),
    ("dropout1", (1, 4096)),
    ("dense2", (1, 10)),
]

# Seed 003: ratio = 8; small_conv_arch = [(1, 8), (1, 16), (2, 32), (2, 64), (2, 64)].
SMALL_CONV_ARCH = [(1, 8), (1, 16), (2, 32), (2, 64), (2, 64)]


def shapes_json(spec: str, input_shape: str, *extra: str, depth: int | None = 1) -> dict[str, Any]:
    """Run ``archspec shapes SPEC --input ... [--depth D] --format json`` and parse its output."""
    args = ["shapes", str(SPECS / spec), "--input", input_shape, "--format", "json", *extra]
    if depth is not None:
        args += ["--depth", str(depth)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def table(report: dict[str, Any]) -> list[tuple[int, ...]]:
    return [tuple(row["shape"]) for row in report["nodes"]]


@pytest.mark.parametrize(
    ("spec", "input_shape", "seed_table", "paths"),
    [
        ("googlenet.yaml", "1x1x96x96", GOOGLENET, ["b1", "b2", "b3", "b4", "b5", "head"]),
        ("nin.yaml", "1x1x224x224", NIN, [str(i) for i in range(10)]),
        ("vgg11.yaml", "1x1x224x224", VGG11, [str(i) for i in range(10)]),
    ],
    ids=["googlenet", "nin", "vgg11"],
)
def test_seed_table(spec: str, input_shape: str, seed_table: list[Any], paths: list[str]) -> None:
    report = shapes_json(spec, input_shape)
    assert [row["path"] for row in report["nodes"]] == paths
    assert table(report) == [shape for _, shape in seed_table]
    assert tuple(report["input"]) == tuple(int(d) for d in input_shape.split("x"))
    assert tuple(report["output"]) == seed_table[-1][1]


def test_vgg11_small_variant() -> None:
    """``--set ratio=8`` divides every block's channels by 8, as the seed's small_conv_arch."""
    report = shapes_json("vgg11.yaml", "1x1x224x224", "--set", "ratio=8", depth=None)
    rows = report["nodes"]
    top = [row for row in rows if "." not in row["path"]]
    assert [tuple(row["shape"]) for row in top] == [
        (1, 8, 112, 112),
        (1, 16, 56, 56),
        (1, 32, 28, 28),
        (1, 64, 14, 14),
        (1, 64, 7, 7),
        (1, 4096),
        (1, 4096),
        (1, 4096),
        (1, 4096),
        (1, 10),
    ]
    for block, (num_convs, channels) in enumerate(SMALL_CONV_ARCH):
        convs = [row for row in rows if row["path"].startswith(f"{block}.") and row["op"] == "conv"]
        assert len(convs) == num_convs
        assert all(row["shape"][1] == channels for row in convs)


def test_vgg11_blocks_follow_conv_arch() -> None:
    rows = shapes_json("vgg11.yaml", "1x1x224x224", depth=None)["nodes"]
    arch = [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)]
    for block, (num_convs, channels) in enumerate(arch):
        convs = [row for row in rows if row["path"].startswith(f"{block}.") and row["op"] == "conv"]
        assert [row["shape"][1] for row in convs] == [channels] * num_convs
