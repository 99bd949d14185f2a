"""Framework-free pieces of Python code generation, shared by the backends that emit source.

A namespace for identifiers (``_namespace``), terms that are exact spec expressions or
literals (``_terms``) and the module tree of a graph (``_tree``). Nothing here imports
a framework; each backend's emitter (``archspec_torch.codegen``, ``archspec_flax.codegen``) writes its own classes.
"""

from archspec.codegen._namespace import MODULE_NAMES, Namespace, camel_case, is_free_identifier
from archspec.codegen._terms import Env, Term, literal, same_value
from archspec.codegen._tree import Kind, TreeNode, build_tree

__all__ = [
    "MODULE_NAMES",
    "Env",
    "Kind",
    "Namespace",
    "Term",
    "TreeNode",
    "build_tree",
    "camel_case",
    "is_free_identifier",
    "literal",
    "same_value",
]
