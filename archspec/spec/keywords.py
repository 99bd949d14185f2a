"""Step names that would misread a layer keyword.

A mapping without a layer keyword is a sequence of named steps, so a keyword spelt the way
another framework spells it (``cat:``, ``Concat:``, ``multiply:``) or misspelt (``concta:``)
would silently make a step that runs its branches one after another: a network with the
right parameters and the wrong shapes. :func:`misread_keyword` tells the desugarer when a
named step whose value is a list of two or more layers has such a name.

The rule, kept simple enough to state in one sentence of the README: the name, lower-cased
and without a dotted prefix (``nn.Sequential``), is a keyword, an op, or a word listed in
:data:`ALIASES`, or is one edit (a letter added, dropped, changed, or two swapped) from a
keyword or alias of five letters or more and does not end in a digit (``concat1`` numbers a
step; it is no typo).
"""

from __future__ import annotations

from archspec.errors import Location, SpecError
from archspec.ops import REGISTRY
from archspec.spec.model import LAYER_KINDS

#: What each keyword that takes a list of layers does, for messages.
LIST_KEYWORDS: dict[str, str] = {
    "concat": "branches on one input, joined on channels",
    "add": "branches on one input, summed",
    "mul": "branches on one input, multiplied element-wise (a gate's size-1 axes broadcast)",
    "seq": "layers one after another",
}

#: Every word of the structured form; ``Repeat:`` or ``DO:`` over a list is no step name either.
KEYWORDS: frozenset[str] = frozenset(
    {*LAYER_KINDS, "do", "in", "then", "else", "args", "kwargs", "axis"},
)

#: The words PyTorch, Keras, Flax and NumPy use for archspec's keywords (lower-cased), and
#: the keywords they mean.
ALIASES: dict[str, tuple[str, ...]] = {
    "cat": ("concat",),  # torch.cat
    "concatenate": ("concat",),  # keras.layers.Concatenate, jnp.concatenate
    "sum": ("add",),
    "plus": ("add",),
    "residual": ("add",),
    "sequential": ("seq",),  # nn.Sequential, keras.Sequential, nnx.Sequential
    "sequence": ("seq",),
    "branches": ("concat", "add"),
    "parallel": ("concat", "add"),
    "merge": ("concat", "add"),
    "multiply": ("mul",),  # keras.layers.Multiply, jnp.multiply
    "prod": ("mul",),
    "product": ("mul",),
}

_TYPO_MIN_LENGTH = 5  # one edit from a shorter word is a common name: 'se' and 'seq', 'pad' and 'add'


def misread_keyword(name: str, layers: int, loc: Location | None) -> SpecError | None:
    """The error for a step ``name`` over a list of ``layers`` layers that looks like a keyword
    or an op, or None for a name that is just a name."""
    meant = _resembled(name.rsplit(".", 1)[-1].lower())
    if not meant:
        return None
    keywords = [m for m in meant if m in KEYWORDS]
    explicit = f"to name a sequence '{name}', write '{name}: {{seq: [...]}}'"
    if keywords:
        what = "the keyword " + " or ".join(f"'{m}'" for m in keywords)
        uses = "; ".join(f"'{m}:' is {LIST_KEYWORDS[m]}" for m in keywords if m in LIST_KEYWORDS)
        hint = f"{uses}; {explicit}" if uses else explicit
    else:  # an op
        what = f"the op '{meant[0]}'"
        hint = f"call the op as a layer of the list or chain; {explicit}"
    listed = [m for m in keywords if m in LIST_KEYWORDS]
    return SpecError(
        f"'{name}' looks like {what}, but as a step name it would run its {layers} layers one after another",
        loc,
        expected=" or ".join(f"{m}: [branch, ...]" for m in listed) or None,
        found=f"{name}: a list of {layers} layers",
        hint=hint,
    )


def _resembled(word: str) -> tuple[str, ...]:
    """The keywords or ops that ``word`` (lower-case) looks like; empty when none."""
    if word in ALIASES:
        return ALIASES[word]
    if word in KEYWORDS or word in REGISTRY:
        return (word,)
    if word[-1:].isdigit():
        return ()
    for candidate in (*KEYWORDS, *ALIASES):
        if len(candidate) >= _TYPO_MIN_LENGTH and _one_edit_apart(word, candidate):
            return ALIASES.get(candidate, (candidate,))
    return ()


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by adding, dropping or changing one letter, or swapping two
    neighbours (``a != b``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i, j = diffs if len(diffs) == 2 else (0, 0)
        return j == i + 1 and (a[i], a[j]) == (b[j], b[i])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1 :]
