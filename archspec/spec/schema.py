"""The JSON Schema of spec files, for editors (``archspec schema``).

pydantic gives the schema of the canonical form; spec files may also use the
shorthand, so every place that takes a layer accepts a call string, a list of
layers or a mapping of named steps too, and block keys may carry a signature.
"""

from __future__ import annotations

from typing import Any

from archspec.spec.model import LAYER_KINDS, Spec

_LAYER_REF = {"$ref": "#/$defs/Layer"}
_VARIANT_REFS = {f"#/$defs/{cls.__name__}" for cls in LAYER_KINDS.values()}
_STRUCTURED = sorted({*LAYER_KINDS, "args", "kwargs", "axis", "do", "in", "then", "else"})


def _is_layer_union(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    for key in ("oneOf", "anyOf"):
        refs = {item.get("$ref") for item in node.get(key, []) if isinstance(item, dict)}
        if refs and refs <= _VARIANT_REFS and len(refs) == len(_VARIANT_REFS):
            return True
    return False


def _replace_layers(node: Any) -> Any:
    if _is_layer_union(node):
        return dict(_LAYER_REF)
    if isinstance(node, dict):
        return {k: _replace_layers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_layers(v) for v in node]
    return node


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) accepting every valid spec file, shorthand included."""
    schema = _replace_layers(Spec.model_json_schema(mode="validation"))
    defs = schema.setdefault("$defs", {})
    defs["Layer"] = {
        "description": "A layer: a call string like 'conv(64, 3) -> relu', a list of layers run in "
        "sequence, a mapping of named steps, or one of the structured forms.",
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": _LAYER_REF, "minItems": 1},
            {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"not": {"enum": _STRUCTURED}},
                "additionalProperties": _LAYER_REF,
            },
            *({"$ref": ref} for ref in sorted(_VARIANT_REFS)),
        ],
    }
    # 'for' may be written as one string: "n, c in conv_arch".
    defs["For"]["properties"]["for"] = {"anyOf": [{"type": "string"}, defs["For"]["properties"]["for"]]}
    defs["For"]["required"] = ["for", "do"]
    # DAG nodes may be written as just a layer.
    defs["DagNode"] = {"anyOf": [defs["DagNode"], _LAYER_REF]}
    schema["properties"]["blocks"] = {
        "description": "Blocks by signature, e.g. 'inception(c1, c2, c3, c4)' or 'stem'.",
        "type": "object",
        "propertyNames": {"pattern": r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*(\(.*\))?\s*$"},
        "additionalProperties": _LAYER_REF,
    }
    schema["properties"]["params"]["description"] = "Network params, overridable with --set name=value."
    schema["properties"]["input"]["description"] = (
        "The input's shape in NCHW (names such as N are symbolic), or {shape, dtype}."
    )
    schema["properties"]["inputs"]["description"] = "Named inputs, each a shape or {shape, dtype}; instead of input."
    schema["properties"]["outputs"]["description"] = (
        "The steps the network returns, as a dict: a list of step names, or {output name: step name}."
    )
    # One schema for networks and for block libraries (files with only blocks).
    schema["required"] = ["archspec"]
    schema["dependentRequired"] = {
        "network": ["name"],
        "name": ["network"],
        "input": ["network"],
        "inputs": ["network"],
        "outputs": ["network"],
    }
    schema["anyOf"] = [{"required": ["network"]}, {"required": ["blocks"]}]
    schema["dependentSchemas"] = {
        "network": {"oneOf": [{"required": ["input"]}, {"required": ["inputs"]}]},
    }
    defs.pop("Block", None)
    defs.pop("Param", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec spec file"
    return schema
