"""Framework-free Python code generation, shared by the backends that emit source.

A namespace for identifiers (``_namespace``), terms that are exact spec expressions or
literals (``_terms``), the module tree of a graph (``_tree``), what a lowering rule may know
about its node (``_context``), the walk that writes the tree as classes (``_emitter``) and
running generated source (``_load``). Nothing here imports a framework; each backend's emitter
(``archspec_torch.codegen``, ``archspec_flax.codegen``) is a :class:`ClassEmitter` with the
framework's vocabulary.
"""

from archspec.codegen._context import LoweringContext
from archspec.codegen._emitter import INDENT, MAX_LINE, ClassEmitter, ClassState, call_source, docstring
from archspec.codegen._load import load_source
from archspec.codegen._namespace import MODULE_NAMES, Namespace, camel_case, is_free_identifier
from archspec.codegen._terms import Env, Expression, Term, literal, same_value, tuple_term
from archspec.codegen._tree import Kind, TreeNode, build_tree

__all__ = [
    "INDENT",
    "MAX_LINE",
    "MODULE_NAMES",
    "ClassEmitter",
    "ClassState",
    "Env",
    "Expression",
    "Kind",
    "LoweringContext",
    "Namespace",
    "Term",
    "TreeNode",
    "build_tree",
    "call_source",
    "camel_case",
    "docstring",
    "is_free_identifier",
    "literal",
    "load_source",
    "same_value",
    "tuple_term",
]
