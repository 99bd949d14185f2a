"""The module tree: the IR's dotted paths as a tree of submodules.

Every path component is a submodule attribute, so parameter names come out as the
canonical weight names (``b3.0.branch2.2.weight``). A tree node is a *leaf* (one op,
no children), or a *composite* (children, and possibly its own merge node: the
``concat``/``add`` of a branches composite carries the composite's path). Each knows
the values it reads from outside itself and the value it produces.

A numbered list that starts by merging several values (a DAG node's ``in: [a, b]`` with
``do: add -> relu``) is still a list: its steps keep their numbers (``c.1.weight``), so it is
written as a Sequential whose first slot passes its input through, and whoever calls it computes
the merge (``self.c(a + b)``); that merge is the list's :attr:`TreeNode.entry`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from archspec.ir import GRAPH_INPUT, Graph, Node, Scope, ScopeKind


class Kind(enum.Enum):
    """How a tree node is written in generated code."""

    LEAF = "leaf"  # one op: an nn.Module constructor or an inline function
    SEQUENTIAL = "sequential"  # an unnamed list of layers: nn.Sequential(...) inline
    SEQUENTIAL_CLASS = "sequential_class"  # a block whose body is such a list: class X(nn.Sequential)
    MODULE_CLASS = "module_class"  # anything with names, branches or a DAG: class X(nn.Module)
    ENTRY = "entry"  # the merge a list starts with, computed by its caller: a pass-through slot


@dataclass(eq=False)
class TreeNode:
    path: str
    key: str
    node: Node | None = None
    scope: Scope | None = None
    children: list[TreeNode] = field(default_factory=list)
    inputs: tuple[str, ...] = ()
    output: str = ""
    names: set[str] = field(default_factory=set)
    kind: Kind = Kind.LEAF
    #: The merge of several values this list starts with (its own first step, or its first
    #: step's entry), which the list's caller computes: the list itself reads that merge's output.
    entry: Node | None = None

    @property
    def is_block(self) -> bool:
        return self.scope is not None and self.scope.kind is ScopeKind.BLOCK

    @property
    def label(self) -> str:
        return self.scope.label if self.scope is not None else ""

    @property
    def merge(self) -> Node | None:
        """The composite's own merge node (concat/add carrying its path), if any."""
        return self.node if self.children else None

    @property
    def call_inputs(self) -> tuple[str, ...]:
        """What the module written for this node is called with: its entry's output, if any."""
        return (self.entry.name,) if self.entry is not None else self.inputs


def build_tree(graph: Graph) -> TreeNode:
    """The module tree of ``graph``, with inputs, outputs and kinds filled in."""
    root = TreeNode("", "")
    by_path: dict[str, TreeNode] = {"": root}
    for node in graph.nodes:
        parts = node.name.split(".")
        parent = root
        for cut in range(1, len(parts) + 1):
            path = ".".join(parts[:cut])
            child = by_path.get(path)
            if child is None:
                child = by_path[path] = TreeNode(path, parts[cut - 1])
                parent.children.append(child)
            parent = child
        parent.node = node
    for scope in graph.scopes:
        if scope.path in by_path:
            while scope.inner is not None:  # the block whose arguments the layers read
                scope = scope.inner
            by_path[scope.path].scope = scope
    _fill(root, graph, is_root=True)
    return root


def _fill(tree: TreeNode, graph: Graph, is_root: bool = False) -> None:
    for child in tree.children:
        _fill(child, graph)
    own = [tree.node] if tree.node is not None else []
    tree.names = {n.name for n in own} | {name for c in tree.children for name in c.names}
    reads: list[str] = []
    for read in [i for c in tree.children for i in c.inputs] + [i for n in own for i in n.inputs]:
        if read not in tree.names and read not in reads:
            reads.append(read)
    tree.inputs = tuple(reads) if tree.children or own else (GRAPH_INPUT,)
    if is_root:
        tree.output = graph.output
    elif tree.node is not None:
        tree.output = tree.node.name
    elif tree.scope is not None:
        tree.output = tree.scope.output
    else:
        tree.output = tree.children[-1].output
    tree.entry = _entry(tree)
    tree.kind = _kind(tree, is_root)
    if tree.entry is None or tree.kind is Kind.MODULE_CLASS:
        tree.entry = None  # a list that does not chain is written with a forward: it merges itself
    elif tree.children[0].kind is Kind.LEAF:
        tree.children[0].kind = Kind.ENTRY


def _kind(tree: TreeNode, is_root: bool) -> Kind:
    if not tree.children:
        return Kind.LEAF
    if _is_list(tree) and (len(tree.inputs) == 1 or tree.entry is not None) and _is_chain(tree):
        return Kind.SEQUENTIAL_CLASS if (tree.is_block or is_root) else Kind.SEQUENTIAL
    return Kind.MODULE_CLASS


def _is_list(tree: TreeNode) -> bool:
    """Numbered steps and no merge of its own: a sequence, not branches."""
    return tree.merge is None and bool(tree.children) and all(c.key.isdigit() for c in tree.children)


def _entry(tree: TreeNode) -> Node | None:
    """The merge of several values list ``tree`` starts with (see :attr:`TreeNode.entry`)."""
    if not _is_list(tree):
        return None
    head = tree.children[0]
    if head.entry is not None:
        return head.entry
    if head.children or head.node is None or type(head.node.op).arity is not None:
        return None
    return head.node if len(head.node.inputs) > 1 else None


def _is_chain(tree: TreeNode) -> bool:
    """Each child reads exactly the previous child's output (the first, the composite's input)."""
    previous = tree.inputs
    for child in tree.children:
        if child.inputs != previous:
            return False
        previous = (child.output,)
    return previous == (tree.output,)
