"""Framework-free Python code generation, shared by the backends that emit source.

A namespace for identifiers (``_namespace``), terms that are exact spec expressions or
literals (``_terms``), what a lowering rule may know about its node (``_context``), the walk
over a spec's block definitions that writes them as classes (``_emitter``), drafts of those
classes merged and named (``_drafts``), the text of generated code (``_text``) and running
generated source (``_load``). Nothing here imports a framework; each backend's emitter
(``archspec_torch.codegen``, ``archspec_flax.codegen``) is a :class:`ClassEmitter` with the
framework's vocabulary.
"""

from archspec.codegen._context import LoweringContext
from archspec.codegen._emitter import ClassEmitter, View
from archspec.codegen._load import load_source
from archspec.codegen._namespace import MODULE_NAMES, Namespace, camel_case, is_free_identifier
from archspec.codegen._terms import Env, Expression, Term, factor_source, literal, same_value, tuple_term
from archspec.codegen._text import INDENT, MAX_LINE, call_source, docstring

__all__ = [
    "INDENT",
    "MAX_LINE",
    "MODULE_NAMES",
    "ClassEmitter",
    "Env",
    "Expression",
    "LoweringContext",
    "Namespace",
    "Term",
    "View",
    "call_source",
    "camel_case",
    "docstring",
    "factor_source",
    "is_free_identifier",
    "literal",
    "load_source",
    "same_value",
    "tuple_term",
]
