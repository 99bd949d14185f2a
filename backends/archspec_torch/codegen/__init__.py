"""Codegen for the torch backend: a namespace for identifiers (``_namespace``), terms that are
exact expressions or literals (``_terms``), the module tree (``_tree``) and one emitter per
tree-node kind (``_emit``, imported by the backend: it needs the lowerings)."""

from archspec_torch.codegen._namespace import Namespace, camel_case, is_free_identifier
from archspec_torch.codegen._terms import Env, Term, literal
from archspec_torch.codegen._tree import Kind, TreeNode, build_tree

__all__ = ["Env", "Kind", "Namespace", "Term", "TreeNode", "build_tree", "camel_case", "is_free_identifier", "literal"]
