"""Shorthand to canonical form: the step between a loaded file and the pydantic models.

The shorthand that people write and what it becomes:

=====================================  =============================================
``conv(64, 7, stride=2)``              ``{call: conv, args: [64, 7], kwargs: {stride: 2}}``
``relu``                               ``{call: relu}``
``a -> b -> c``  or ``[a, b, c]``      ``{seq: [a, b, c]}``
``{b1: a, b2: b}`` (plain names)       ``{seq: {b1: a, b2: b}}``
``(a -> b) * n``                       ``{repeat: n, do: {seq: [a, b]}}``
``a if flag else b``                   ``{if: flag, then: a, else: b}``
``a if flag`` (an item of a list)      ``{if: flag, then: a}``
``for: n, c in arch`` + ``do:``        ``{for: [n, c], in: arch, do: ...}``
``blocks: {"vgg(n, c=64)": body}``     ``blocks: {vgg: {params: [n, c=64], body: ...}}``
=====================================  =============================================

Arguments that are not literals become ``{expr: "<source>"}`` and are evaluated by
the expander. Every produced node carries its source location, so later errors
point at the file, line and column of the text that caused them.

Each block definition and each top-level step of the network is desugared on its own:
an error in one is recorded and the others are still read, so that one run reports
every independent mistake (:func:`validate` raises them together with pydantic's).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from archspec.errors import Location, SpecError, did_you_mean, gathered, one_of
from archspec.ops import REGISTRY
from archspec.spec import expr as exprs
from archspec.spec.keywords import misread_keyword
from archspec.spec.loader import Document, Path_
from archspec.spec.model import LAYER_KINDS, Library, Spec

#: The top-level keys whose values are read as they are written, not desugared.
_UNDESUGARED = ("archspec", "name", "doc", "input", "inputs", "outputs", "params", "use")
#: The keywords whose value is branches: a list or a mapping of layers on one input.
_MERGES = ("concat", "add", "mul")
#: The keywords whose value is layers, listed or named.
_LAYER_LISTS = ("seq", *_MERGES)
_STRUCTURED_KEYS = {
    *("call", "args", "kwargs", *_LAYER_LISTS, "axis"),
    *("repeat", "do", "for", "in", "if", "then", "else", "dag"),
}


class Desugarer:
    """Rewrites one loaded document into canonical data (plain dicts with ``loc``), leaving out
    each block or top-level step it cannot read and recording why in ``errors``."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        #: Errors of the parts left out of the result (a block, a top-level step), in source order.
        self.errors: list[SpecError] = []

    # ----------------------------------------------------------------- documents
    def document(self) -> dict[str, Any]:
        data = self.doc.data
        if not isinstance(data, dict):
            raise SpecError(
                "a spec file must be a mapping",
                self.doc.loc(()),
                expected="keys archspec, name, input (or inputs), network "
                "(and optionally doc, params, use, blocks, outputs)",
                found=type(data).__name__,
            )
        locs: dict[str, Location] = {}
        out: dict[str, Any] = {"loc": self.doc.loc(()), "locs": locs}
        if isinstance(data.get("params"), dict):  # for '--set' errors: the params and each value
            locs["params"] = self.key_loc(("params",))
            locs.update({f"params.{k}": self.doc.loc(("params", k)) for k in data["params"]})
        locs.update(self.interface_locs(data))
        for key, value in data.items():
            path: Path_ = (key,)
            if key == "blocks":
                out[key] = self.blocks(value, path)
            elif key == "network":
                out[key] = self.network(value, path)
            else:
                out[key] = value
        return out

    def interface_locs(self, data: dict[str, Any]) -> dict[str, Location]:
        """Where the network's inputs and outputs are declared, for errors about one of them:
        ``input`` and each dim ``input.0``; ``inputs.image`` (the name) and ``inputs.image.0``;
        ``outputs.0`` or ``outputs.aux`` (the name) and ``outputs.aux.step`` (the step it names)."""
        locs: dict[str, Location] = {}

        def dims(prefix: str, path: Path_, value: Any) -> None:
            if isinstance(value, dict):  # {shape: [...], dtype: ...}
                path, value = (*path, "shape"), value.get("shape")
            if isinstance(value, list):
                locs.update({f"{prefix}.{i}": self.doc.loc((*path, i)) for i in range(len(value))})

        if "input" in data:
            locs["input"] = self.doc.loc(("input",))
            dims("input", ("input",), data["input"])
        if isinstance(data.get("inputs"), dict):
            locs["inputs"] = self.key_loc(("inputs",))
            for name, value in data["inputs"].items():
                locs[f"inputs.{name}"] = self.key_loc(("inputs", name))
                dims(f"inputs.{name}", ("inputs", name), value)
        outputs = data.get("outputs")
        if outputs is not None:
            locs["outputs"] = self.key_loc(("outputs",))
        if isinstance(outputs, list):
            locs.update({f"outputs.{i}": self.doc.loc(("outputs", i)) for i in range(len(outputs))})
        elif isinstance(outputs, dict):
            for name in outputs:
                locs[f"outputs.{name}"] = self.key_loc(("outputs", name))
                locs[f"outputs.{name}.step"] = self.doc.loc(("outputs", name))
        return locs

    def blocks(self, value: Any, path: Path_) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic reports the type
        out: dict[str, Any] = {}
        names: set[str] = set()
        for key, body in value.items():
            with self._recorded():
                where = self.key_loc((*path, key))
                name, params = self.signature(str(key), (*path, key))
                if name in names:
                    raise SpecError(f"block '{name}' is defined twice", where)
                if name in REGISTRY:
                    raise SpecError(
                        f"block '{name}' has the name of an op: every call of '{name}' would call the block",
                        where,
                        hint=f"rename the block (e.g. '{name}_block'); ops cannot be redefined",
                    )
                names.add(name)
                out[name] = {"params": params, "body": self.layer(body, (*path, key)), "loc": where}
        return out

    def network(self, value: Any, path: Path_) -> Any:
        """The network layer, each of its top-level steps (named or listed) read on its own."""
        steps: Any
        if isinstance(value, dict) and value and not any(k in value for k in _STRUCTURED_KEYS):
            steps = {}
            for key, step in value.items():
                with self._recorded():
                    steps[key] = self.named_step(key, step, (*path, key))
        elif isinstance(value, list) and value:
            steps = []
            for i, step in enumerate(value):
                with self._recorded():
                    steps.append(self.layer(step, (*path, i)))
        else:
            try:
                return self.layer(value, path)
            except SpecError as exc:
                self.errors.append(exc)
                # Stands in for the network so that pydantic does not also report it missing;
                # validate() raises the recorded error before anything reads it.
                return {"seq": [], "loc": self.doc.loc(path)}
        return {"seq": steps, "loc": self.doc.loc(path)}

    @contextmanager
    def _recorded(self) -> Iterator[None]:
        """Record a SpecError raised inside the block and go on with the next part."""
        try:
            yield
        except SpecError as exc:
            self.errors.append(exc)

    def signature(self, text: str, path: Path_) -> tuple[str, list[dict[str, Any]]]:
        """Parse a block key ``name(a, b=1)`` into its name and parameter list."""
        loc = self.key_loc(path)
        if "(" not in text:
            tree = exprs.parse(text, loc)
            body = tree.body if isinstance(tree, ast.Expression) else None
            if not isinstance(body, ast.Name):
                raise SpecError("a block name must be a plain name", loc, found=text)
            return body.id, []
        tree = exprs.parse(text, loc)
        call = tree.body if isinstance(tree, ast.Expression) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            raise SpecError("invalid block signature", loc, expected="name(param, other=default)", found=text)
        params: list[dict[str, Any]] = []
        seen: set[str] = set()
        for arg in call.args:
            if not isinstance(arg, ast.Name):
                raise SpecError(
                    "block parameters must be plain names",
                    exprs.node_loc(arg, loc),
                    found=ast.unparse(arg),
                    hint="give defaults as name=value, after the parameters without defaults",
                )
            if params and not params[-1]["required"]:
                raise SpecError(
                    f"parameter '{arg.id}' without a default follows one with a default", exprs.node_loc(arg, loc)
                )
            params.append({"name": arg.id, "required": True, "loc": exprs.node_loc(arg, loc)})
        for kw in call.keywords:
            if kw.arg is None:
                raise SpecError("'**' is not allowed in a block signature", exprs.node_loc(kw, loc))
            params.append(
                {
                    "name": kw.arg,
                    "required": False,
                    "default": self.arg_from_ast(kw.value, text, loc),
                    "loc": exprs.node_loc(kw, loc),
                }
            )
        for param in params:
            if param["name"] == exprs.INPUT:
                raise SpecError(
                    f"a block parameter cannot be named '{exprs.INPUT}'",
                    param["loc"],
                    expected="any other name",
                    found=exprs.INPUT,
                    hint=f"in the block's body '{exprs.INPUT}' is the tensor it is called on: read "
                    f"{exprs.INPUT}.channels or {exprs.INPUT}.shape[i] instead of passing them",
                )
            if param["name"] in seen:
                raise SpecError(f"parameter '{param['name']}' is listed twice", param["loc"])
            seen.add(param["name"])
        return call.func.id, params

    # -------------------------------------------------------------------- layers
    def layer(self, value: Any, path: Path_) -> Any:
        loc = self.doc.loc(path)
        if isinstance(value, str):
            try:
                return self.shorthand(value, loc)
            except SpecError as exc:
                raise exc.with_context(trace=_trace(path)) from None
        if isinstance(value, list):
            if not value:
                raise SpecError("empty list where a layer is expected", loc, hint="use 'identity' for a no-op")
            return {"seq": [self.layer(item, (*path, i)) for i, item in enumerate(value)], "loc": loc}
        if isinstance(value, dict):
            if not value:
                raise SpecError("empty mapping where a layer is expected", loc)
            kind = next((k for k in LAYER_KINDS if k in value), None)
            if kind is None:
                structured = [k for k in value if k in _STRUCTURED_KEYS]
                if structured:
                    raise SpecError(
                        f"'{structured[0]}' given without the key it belongs to",
                        self.key_loc((*path, structured[0])),
                        expected="one of " + one_of(LAYER_KINDS),
                    )
                return {"seq": {k: self.named_step(k, v, (*path, k)) for k, v in value.items()}, "loc": loc}
            try:
                return self.structured(kind, value, path)
            except SpecError as exc:
                raise exc.with_context(trace=_trace(path)) from None
        raise SpecError(
            "expected a layer",
            loc,
            expected="a call like 'conv(64, 3)', a list of layers, or a mapping",
            found=repr(value),
        )

    def named_step(self, name: Any, value: Any, path: Path_) -> Any:
        """A step of a mapping of names; one named like a keyword or an op over a list of
        layers is refused (see :mod:`archspec.spec.keywords`): it would not do what it says."""
        listed = len(value) if isinstance(value, list) else self._flow_list_length(value, path)
        if listed >= 2:
            error = misread_keyword(str(name), listed, self.key_loc(path))
            if error is not None:
                raise error.with_context(trace=_trace(path[:-1]))
        return self.layer(value, path)

    def _flow_list_length(self, value: Any, path: Path_) -> int:
        """The items of a flow list the loader kept as text (``[conv(8, 1), relu]``), else 0."""
        if not isinstance(value, str) or not value.lstrip().startswith("["):
            return 0
        try:
            tree = exprs.parse(value, self.doc.loc(path), mode="layer")
        except SpecError:
            return 0  # reported, with its block stack, when the step itself is desugared
        body = tree.body if isinstance(tree, ast.Expression) else None
        return len(body.elts) if isinstance(body, ast.List | ast.Tuple) else 0

    def structured(self, kind: str, value: dict[str, Any], path: Path_) -> dict[str, Any]:
        locs: dict[str, Location] = {}
        out: dict[str, Any] = {"loc": self.doc.loc(path), "locs": locs}
        for key, item in value.items():
            sub = (*path, key)
            if key not in ("do", "then", "else", *_LAYER_LISTS, "dag"):
                locs[key] = self.doc.loc(sub)
            if key in ("do", "then", "else"):
                out[key] = self.layer(item, sub)
            elif key in _LAYER_LISTS and isinstance(item, dict):
                out[key] = {k: self.named_step(k, v, (*sub, k)) for k, v in item.items()}
            elif key in _LAYER_LISTS and isinstance(item, list):
                out[key] = [self.layer(v, (*sub, i)) for i, v in enumerate(item)]
            elif key in _LAYER_LISTS and isinstance(item, str):
                # A flow list the loader kept as text ('concat: [conv(8, 1), conv(8, 3)]'), or one layer.
                parsed = self.shorthand(item, self.doc.loc(sub))
                listed = item.lstrip().startswith("[") and isinstance(parsed.get("seq"), list)
                out[key] = parsed["seq"] if listed else [parsed]
            elif key == "dag" and isinstance(item, dict):
                out[key] = {name: self.dag_node(node, (*sub, name)) for name, node in item.items()}
            elif key == "for" and isinstance(item, str) and "in" not in value:
                out["for"], out["in"] = self.for_clause(item, self.doc.loc(sub))
                locs["in"] = self.doc.loc(sub)
            elif key in ("repeat", "if", "in"):
                out[key] = self.arg(item, sub)
            elif key == "kwargs" and isinstance(item, dict):
                out[key] = {k: self.arg(v, (*sub, k)) for k, v in item.items()}
                locs.update({f"kwargs.{k}": self.doc.loc((*sub, k)) for k in item})
                locs.update({f"keys.{k}": self.key_loc((*sub, k)) for k in item})
            elif key == "args" and isinstance(item, list):
                out[key] = [self.arg(v, (*sub, i)) for i, v in enumerate(item)]
                locs.update({f"args.{i}": self.doc.loc((*sub, i)) for i in range(len(item))})
            else:
                out[key] = item
        return out

    def dag_node(self, value: Any, path: Path_) -> Any:
        if isinstance(value, dict) and "do" in value and set(value) <= {"in", "do", "if"}:
            inputs = value.get("in", [])
            locs = {"in": self.doc.loc((*path, "in")), "in.0": self.doc.loc((*path, "in"))}
            if isinstance(inputs, list):
                locs.update({f"in.{i}": self.doc.loc((*path, "in", i)) for i in range(len(inputs))})
            node = {
                "in": [inputs] if isinstance(inputs, str) else inputs,
                "do": self.layer(value["do"], (*path, "do")),
                "loc": self.doc.loc(path),
                "locs": locs,
            }
            if "if" in value:  # a node there only when its condition holds
                node["if"] = self.arg(value["if"], (*path, "if"))
                locs["if"] = self.doc.loc((*path, "if"))
            return node
        return {"do": self.layer(value, path), "loc": self.doc.loc(path)}

    def for_clause(self, text: str, loc: Location) -> tuple[list[str], Any]:
        """``n, c in conv_arch`` → (["n", "c"], arg for ``conv_arch``)."""
        tree = exprs.parse(text, loc, mode="for")
        loop = tree.body[0] if isinstance(tree, ast.Module) else None
        assert isinstance(loop, ast.For)
        targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
        names = []
        for target in targets:
            if not isinstance(target, ast.Name):
                raise SpecError("a 'for' binds plain names", exprs.node_loc(target, loc), found=ast.unparse(target))
            names.append(target.id)
        return names, self.arg_from_ast(loop.iter, text, loc)

    def shorthand(self, text: str, loc: Location) -> dict[str, Any]:
        """Parse a layer written as a string."""
        if not text.strip():
            raise SpecError("empty string where a layer is expected", loc)
        tree = exprs.parse(text, loc, mode="layer")
        assert isinstance(tree, ast.Expression)
        return self.layer_from_ast(tree.body, text.replace("\n", " "), loc)

    def layer_from_ast(self, node: ast.expr, text: str, loc: Location) -> dict[str, Any]:
        here = exprs.node_loc(node, loc)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            steps: list[ast.expr] = []
            _flatten_arrows(node, steps)
            return {"seq": [self.layer_from_ast(step, text, loc) for step in steps], "loc": here}
        if isinstance(node, ast.List | ast.Tuple):
            if not node.elts:
                raise SpecError("empty list where a layer is expected", here)
            return {"seq": [self.layer_from_ast(item, text, loc) for item in node.elts], "loc": here}
        if isinstance(node, ast.Name):
            return {"call": node.id, "loc": here}
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and here is not None:
            # A quoted item of a flow list the loader kept whole: [conv(c, 1), 'relu']
            return self.shorthand(node.value, here.shifted(1))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise SpecError("only plain names can be called", here, found=ast.unparse(node.func))
            kwargs: dict[str, Any] = {}
            locs = {f"args.{i}": exprs.node_loc(a, loc) for i, a in enumerate(node.args)}
            for kw in node.keywords:
                if kw.arg is None:
                    raise SpecError("'**' is not allowed in a call", exprs.node_loc(kw, loc))
                if kw.arg in kwargs:
                    raise SpecError(f"argument '{kw.arg}' is given twice", exprs.node_loc(kw, loc))
                kwargs[kw.arg] = self.arg_from_ast(kw.value, text, loc)
                locs[f"keys.{kw.arg}"] = exprs.node_loc(kw, loc, len(kw.arg))
                locs[f"kwargs.{kw.arg}"] = exprs.node_loc(kw.value, loc)
            return {
                "call": node.func.id,
                "args": [self.arg_from_ast(a, text, loc) for a in node.args],
                "kwargs": kwargs,
                "loc": exprs.node_loc(node.func, loc),
                "locs": locs,
            }
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            if _looks_like_layer(node.right) and not _looks_like_layer(node.left):
                raise SpecError(
                    "write the layer first and the count second",
                    here,
                    expected=f"{ast.unparse(node.right)} * {ast.unparse(node.left)}",
                    found=ast.unparse(node),
                )
            return {
                "repeat": self.arg_from_ast(node.right, text, loc),
                "do": self.layer_from_ast(node.left, text, loc),
                "loc": here,
                "locs": {"repeat": exprs.node_loc(node.right, loc)},
            }
        if isinstance(node, ast.IfExp):
            conditional = {
                "if": self.arg_from_ast(node.test, text, loc),
                "then": self.layer_from_ast(node.body, text, loc),
                "loc": here,
                "locs": {"if": exprs.node_loc(node.test, loc)},
            }
            if exprs.has_else(node):  # without one, only an item of a list (the expander says so)
                conditional["else"] = self.layer_from_ast(node.orelse, text, loc)
            return conditional
        raise SpecError(
            "expected a layer (an op or block call)",
            here,
            expected="e.g. conv(64, 3) -> relu",
            found=ast.unparse(node),
        )

    # ----------------------------------------------------------------- arguments
    def arg_from_ast(self, node: ast.expr, text: str, loc: Location) -> Any:
        ok, value = exprs.literal(node)
        if ok:
            return value
        start, end = node.col_offset, node.end_col_offset
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            raise SpecError("a layer chain cannot be an argument", exprs.node_loc(node, loc), found=ast.unparse(node))
        source = text[start:end] if end is not None and end <= len(text) else ast.unparse(node)
        return {"expr": source, "loc": loc.shifted(start, len(source))}

    def arg(self, value: Any, path: Path_) -> Any:
        """An argument given as YAML data: strings are expressions, the rest literals."""
        if isinstance(value, str):
            loc = self.doc.loc(path)
            tree = exprs.parse(value, loc)
            assert isinstance(tree, ast.Expression)
            return self.arg_from_ast(tree.body, value.replace("\n", " "), loc)
        if isinstance(value, list):
            return [self.arg(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def key_loc(self, path: Path_) -> Location:
        return self.doc.key_locs.get(path) or self.doc.loc(path)


def _trace(path: Path_) -> tuple[str, ...]:
    """The block stack of a layer's file path, as expansion would name it, for errors found
    before expansion: ``("network", "b3", "x", "concat", 1)`` → ``("b3", "x", "branch 2")``."""
    if path[:1] == ("blocks",) and len(path) > 1:
        trace, rest = [str(path[1]).split("(")[0].strip()], path[2:]
    elif path[:1] == ("network",):
        trace, rest = [], path[1:]
    else:
        return ()
    for before, part in zip((None, *rest), rest, strict=False):
        if isinstance(part, int) and before in _MERGES:
            trace.append(f"branch {part + 1}")
        elif isinstance(part, str) and part not in _STRUCTURED_KEYS:
            trace.append(part)
    return tuple(trace)


def _flatten_arrows(node: ast.expr, out: list[ast.expr]) -> None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
        _flatten_arrows(node.left, out)
        _flatten_arrows(node.right, out)
    else:
        out.append(node)


def _looks_like_layer(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift))


def validate(doc: Document, *, library: bool = False) -> Spec | Library:
    """Desugar ``doc`` and validate it with pydantic; the errors of both are raised together,
    in source order (see :func:`archspec.errors.gathered`)."""
    desugarer = Desugarer(doc)
    data = desugarer.document()
    model: type[Library] = Library if library else Spec
    if library and isinstance(doc.data, dict) and "network" in doc.data:
        model = Spec
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        invalid = [_located(err, data, doc, model) for err in exc.errors()]
        raise gathered(_in_source_order([*desugarer.errors, *invalid])) from None
    if desugarer.errors:
        raise gathered(desugarer.errors)
    return validated


def _in_source_order(errors: list[SpecError]) -> list[SpecError]:
    """Errors of one file by line and column (a stable sort: errors at one spot keep their order)."""
    return sorted(errors, key=lambda e: (e.loc.line, e.loc.column) if e.loc else (0, 0))


def _located(err: Any, data: dict[str, Any], doc: Document, model: type[Library]) -> SpecError:
    """Turn one pydantic error into a SpecError at the nearest located node."""
    loc: Location | None = data.get("loc")
    node: Any = data
    path: list[str | int] = []
    tagged: int | None = None
    for part in err["loc"]:
        if isinstance(node, dict) and id(node) != tagged and part == next((k for k in LAYER_KINDS if k in node), None):
            tagged = id(node)  # pydantic's union tag ('call', 'seq') before the layer's own fields
            continue
        if isinstance(node, dict) and isinstance(node.get("locs"), dict) and node["locs"].get(part):
            loc = node["locs"][part]  # a key of a structured layer: 'axis', 'repeat', ...
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            node = node[part]
        elif part == err["loc"][-1] and err["type"] in ("extra_forbidden", "missing"):
            pass
        else:
            continue  # a union tag such as 'int' or 'seq' in pydantic's error path
        path.append(part)
        if isinstance(node, dict) and isinstance(node.get("loc"), Location):
            loc = node["loc"]
    where = ".".join(str(p) for p in path)
    kind = err["type"]
    if path and path[0] in _UNDESUGARED and kind != "missing":
        loc = doc.loc(tuple(path))  # top-level data is not desugared: the file's own locations hold
    found = err.get("input")
    key = str(path[-1]) if path else "?"
    if kind == "extra_forbidden":
        fields = [f for f in model.model_fields if f not in ("loc", "locs")] if len(path) == 1 else []
        return SpecError(
            f"unknown key '{key}'" + (f" in '{'.'.join(map(str, path[:-1]))}'" if len(path) > 1 else ""),
            doc.key_locs.get(tuple(path)) or loc,
            expected=("one of " + one_of(fields)) if fields else None,
            hint=did_you_mean(key, fields) if fields else None,
        )
    if kind == "missing":
        return SpecError(f"missing required key '{key}'", loc)
    if err["loc"][-1:] == ("[key]",):  # a mapping key that must be a name (params)
        return SpecError(
            f"'{key}' cannot name an entry of '{'.'.join(map(str, path[:-1]))}'",
            doc.key_locs.get(tuple(path)) or loc,
            expected="a name of ASCII letters, digits and '_', not starting with a digit",
            found=repr(key),
        )
    if kind == "literal_error" and path[:1] == ["archspec"]:
        return SpecError("unsupported spec format version", loc, expected="archspec: 1", found=repr(found))
    shown = repr(found) if not isinstance(found, dict | list) else type(found).__name__
    return SpecError(f"invalid value at '{where}': {err['msg']}", loc, found=shown)
