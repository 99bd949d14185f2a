"""Draw the pictures in docs/ that the README shows: ``python docs/pictures.py``.

Each is what ``archspec draw`` renders as PNG (Graphviz's ``dot`` must be installed), reduced to
32 colours with Pillow (installed with torchvision, a dev dependency) so that each file stays well
under 200 KB: the drawings have a few flat colours and anti-aliased text, and lose nothing visible.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

import archspec

ROOT = Path(__file__).resolve().parents[1]

#: (file in docs/, spec, depth, counts): `archspec draw specs/SPEC -o FILE --depth DEPTH [--counts]`.
PICTURES = [
    ("googlenet_depth1.png", "googlenet.yaml", 1, True),
    ("googlenet_depth2.png", "googlenet.yaml", 2, False),
    ("resnet18.png", "resnet18.yaml", None, False),
    ("squeezenet1_1_dag.png", "squeezenet1_1.yaml", None, False),  # Fire modules are DAGs with named nodes
    ("unet_depth2.png", "unet.yaml", 2, False),  # a DAG whose skip connections span the network
]


def main() -> None:
    for name, spec, depth, counts in PICTURES:
        png = archspec.draw(ROOT / "specs" / spec, depth=depth, counts=counts).render("png")
        image = Image.open(io.BytesIO(png)).convert("RGB")
        small = image.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(ROOT / "docs" / name, optimize=True)
        print(f"docs/{name}: {image.width}x{image.height}, {(ROOT / 'docs' / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
