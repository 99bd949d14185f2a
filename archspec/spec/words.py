"""Bare words as op attributes: ``gelu(approximate=tanh)``, ``{kwargs: {padding: same}}``.

An argument that is not a literal is an expression, so ``tanh`` on its own would be a name
to look up. A bare name given to an op attribute is read as follows:

- a name bound in scope (a network param, a block parameter, a ``for`` variable) is the
  expression: its value, so that a parameter can choose the string;
- ``true``, ``false``, ``null`` and ``none`` (in any case) are constants where the
  attribute takes their value (``bias=false``);
- any other name is the word itself, as a string: ``tanh`` is ``'tanh'``, ``none`` is
  ``'none'`` for an attribute that takes no null. Whether the attribute takes that string
  is the op model's to say (by its type or its validators: ``padding`` turns ``'same'`` into
  pairs); where it does not and the attribute takes no string at all (``conv(chans, 3)``),
  the error is an undefined name, as it would have been.

Anything more than a bare name (``'a' + b``, ``x if c else 'y'``) is an expression as ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from archspec.ops import Op
from archspec.spec.model import Call, Expr

#: The constant words of the expression language and their values (see ``archspec.spec.expr``).
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}

#: Where a word stands in a call (a position in ``args`` or a key of ``kwargs``), and the
#: attribute it is given to.
Word = tuple[int | str, str]


def words_in(cls: type[Op], call: Call, env: Mapping[str, Any]) -> tuple[Word, ...]:
    """The arguments of ``call`` (an op call of ``cls``) that are bare words."""
    given: list[tuple[int | str, str, Any]] = [
        (i, field, arg) for i, (field, arg) in enumerate(zip(cls.positional(), call.args, strict=False))
    ]
    given += [(key, key, arg) for key, arg in call.kwargs.items() if key in cls.model_fields]
    return tuple((spot, field) for spot, field, arg in given if _is_word(arg, env, accepted(cls, field)))


def spelled_out(call: Call, words: tuple[Word, ...]) -> Call:
    """``call`` with the arguments at ``words`` (see :func:`words_in`) as literal strings."""
    spots = {spot for spot, _ in words}
    args = [_word(a) if i in spots else a for i, a in enumerate(call.args)]
    kwargs = {k: _word(a) if k in spots else a for k, a in call.kwargs.items()}
    return call.model_copy(update={"args": args, "kwargs": kwargs})


def takes_strings(cls: type[Op], field: str) -> bool:
    """Whether attribute ``field`` of ``cls`` is typed to take a string."""
    return str in accepted(cls, field)


@cache
def accepted(cls: type[Op], field: str) -> frozenset[type]:
    """The Python types attribute ``field`` of ``cls`` is typed to take (none for an unknown field)."""
    info = cls.model_fields.get(field)
    return _types(info.annotation) if info is not None else frozenset()


def _types(annotation: Any) -> frozenset[type]:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _types(args[0])
    if origin in (Union, UnionType):
        return frozenset().union(*(_types(a) for a in args))
    if origin is Literal:
        return frozenset(type(a) for a in args)
    if annotation is None:
        return frozenset({NoneType})
    if isinstance(origin, type):
        return frozenset({origin})
    return frozenset({annotation}) if isinstance(annotation, type) else frozenset()


def _is_word(arg: Any, env: Mapping[str, Any], types: frozenset[type]) -> bool:
    if not isinstance(arg, Expr) or not arg.expr.isidentifier() or arg.expr in env:
        return False
    lowered = arg.expr.lower()
    return lowered not in _CONSTANTS or type(_CONSTANTS[lowered]) not in types


def _word(arg: Any) -> Any:
    return arg.expr if isinstance(arg, Expr) else arg
