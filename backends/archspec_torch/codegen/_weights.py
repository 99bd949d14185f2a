"""The ``load_weights`` helper that ``archspec compile --weights W.safetensors`` adds to a model.py.

The file stays standalone: importing it needs only torch (and the standard library); the helper
imports ``safetensors`` when called. ``WEIGHTS`` remembers the file compiled with, relative to
the generated file, so the pair can move together::

    from model import Resnet18, load_weights
    model = load_weights(Resnet18()).eval()           # the weights given to compile
    other = load_weights(Resnet18(), "finetuned.safetensors")

Nothing here changes the classes: building in memory (``archspec.build``) runs the same classes
without the helper.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from archspec.backends import EmittedSource
from archspec.weights import NON_CANONICAL_SUFFIXES

_HELPER = '''


#: The canonical weights this file was compiled with (archspec compile --weights), found relative to it.
WEIGHTS = {weights}


def load_weights(model: nn.Module, path: str | pathlib.Path = WEIGHTS) -> nn.Module:
    """Load canonical archspec weights into ``model`` (e.g. ``{entry}()``) and return it.

    ``path`` is a safetensors file whose tensor names are ``model``'s state_dict keys, in PyTorch
    layouts (archspec compile --weights checked ``WEIGHTS`` against this network). The whole file
    is checked first: every tensor there, with its shape and dtype, and nothing else. A file that
    does not fit raises ValueError naming every problem and leaves ``model`` unchanged. Nothing is
    unpickled. Needs ``pip install safetensors``.
    """
    from safetensors import safe_open

    # BatchNorm's num_batches_tracked counters are torch bookkeeping, not canonical weights (as is
    # a window attention's relative_position_index, a function of its window); a parameter two
    # modules share (a tied lm_head) is canonical under its first name only.
    bookkeeping = {non_canonical}
    canonical = {{name for name, _ in model.named_parameters()}} | {{name for name, _ in model.named_buffers()}}
    expected = {{k: v for k, v in model.state_dict().items() if k in canonical and not k.endswith(bookkeeping)}}
    with safe_open(path, framework="pt") as file:
        names = {{k for k in file.keys() if not k.endswith(bookkeeping)}}  # noqa: SIM118
        problems = [f"missing: {{k}}" for k in expected if k not in names]
        problems += [f"unexpected: {{k}}" for k in sorted(names) if k not in expected]
        for k in (k for k in expected if k in names):
            shape = tuple(file.get_slice(k).get_shape())
            if shape != tuple(expected[k].shape):
                problems.append(f"wrong shape: {{k}} is {{shape}}, expected {{tuple(expected[k].shape)}}")
        tensors = {{}} if problems else {{k: file.get_tensor(k) for k in expected}}
    problems += [
        f"wrong dtype: {{k}} is {{t.dtype}}, expected {{expected[k].dtype}}"
        for k, t in tensors.items()
        if t.dtype != expected[k].dtype
    ]
    if problems:
        raise ValueError(f"{{path}} does not fit {{type(model).__name__}}, nothing loaded: " + "; ".join(problems))
    model.load_state_dict(tensors, strict=False)  # every canonical tensor is there; a tie's other names share it
    return model
'''


def weights_reference(weights: str | Path, output: str | Path) -> str:
    """Python source for ``weights`` as seen from the file ``output``: relative where possible."""
    target = Path(weights).resolve()
    try:
        relative = Path(os.path.relpath(target, Path(output).resolve().parent))
    except ValueError:  # another drive (Windows): no relative path exists
        return f"pathlib.Path({json.dumps(target.as_posix())})"
    return f"pathlib.Path(__file__).parent / {json.dumps(relative.as_posix())}"


def add_weights_loader(emitted: EmittedSource, weights: str | Path, output: str | Path) -> EmittedSource:
    """``emitted`` with ``import pathlib`` and a ``load_weights`` helper that defaults to ``weights``."""
    lines = emitted.source.splitlines(keepends=True)
    first_import = next(i for i, line in enumerate(lines) if line.startswith(("import ", "from ")))
    lines.insert(first_import, "import pathlib\n\n")
    helper = _HELPER.format(
        weights=weights_reference(weights, output),
        entry=emitted.entry,
        non_canonical=tuple("." + suffix for suffix in NON_CANONICAL_SUFFIXES),
    )
    source = "".join(lines).rstrip("\n") + "\n" + helper
    return dataclasses.replace(emitted, source=source, imports=("import pathlib", *emitted.imports))
