"""A jsonschema validator for scenario documents that checks long arrays of simple items in one pass.

Most of a scenario document is arrays of map points (`$defs/point2`) and waypoints (`$defs/waypoint`).
jsonschema descends into every one of them (a few tens of microseconds each): about 50 ms for the demo,
seconds for a real scene's map. `scenario_validator` replaces the `items` keyword: when an array's
items schema is a `$ref` to such a definition, a check compiled from that definition looks at every
item first; when every item is certainly valid, nothing is reported (what jsonschema would report);
otherwise the array goes through jsonschema's own `items` as before. So the errors (paths, messages,
order) are jsonschema's, and only the time of valid documents changes.

The compiled checks are sound, not complete: they accept an item only when jsonschema would, and they
are built only for definitions that use the keywords below (read from the schema, so a schema edit
changes them too; a definition with any other keyword gets no fast check).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

ItemCheck = Callable[[Any], bool]

_NUMBER_KEYS = {"type", "minimum", "maximum"}
_ARRAY_KEYS = {"type", "items", "minItems", "maxItems"}
_OBJECT_KEYS = {"type", "additionalProperties", "required", "properties"}


def _is_number(v: Any) -> bool:
    return type(v) is int or type(v) is float      # JSON numbers; bool is not one


def _number_check(schema: Mapping[str, Any]) -> ItemCheck | None:
    """A check for {"type": "number" | ["number", "null"], "minimum": a, "maximum": b}, else None."""
    if not isinstance(schema, Mapping) or set(schema) - _NUMBER_KEYS:
        return None
    kind = schema.get("type")
    if kind == "number":
        nullable = False
    elif isinstance(kind, list) and sorted(kind) == ["null", "number"]:
        nullable = True
    else:
        return None
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if not all(b is None or _is_number(b) for b in (lo, hi)):
        return None

    def check(v: Any) -> bool:
        if v is None:
            return nullable
        # NaN fails both comparisons and is refused: jsonschema would accept it, the slow path decides
        return _is_number(v) and (lo is None or v >= lo) and (hi is None or v <= hi)
    return check


def _array_check(schema: Mapping[str, Any]) -> ItemCheck | None:
    """A check for {"type": "array", "items": <number schema>, "minItems": m, "maxItems": n}, else None."""
    if set(schema) - _ARRAY_KEYS or schema.get("type") != "array":
        return None
    item = _number_check(schema.get("items", {}))
    lo, hi = schema.get("minItems", 0), schema.get("maxItems")
    if item is None or not _is_number(lo) or not (hi is None or _is_number(hi)):
        return None

    def check(v: Any) -> bool:
        return (type(v) is list and lo <= len(v) and (hi is None or len(v) <= hi)
                and all(item(x) for x in v))
    return check


def _object_check(schema: Mapping[str, Any]) -> ItemCheck | None:
    """A check for an object with number-valued `properties`, `required` and no other keys, else None."""
    if (set(schema) - _OBJECT_KEYS or schema.get("type") != "object"
            or schema.get("additionalProperties") is not False):
        return None
    props = schema.get("properties", {})
    checks = {k: _number_check(s) for k, s in props.items()}
    if any(c is None for c in checks.values()):
        return None
    known = frozenset(checks)
    required = frozenset(schema.get("required", ()))
    if not required <= known:
        return None

    def check(v: Any) -> bool:
        if type(v) is not dict:
            return False
        keys = v.keys()
        if not (required <= keys and keys <= known):
            return False
        return all(checks[k](x) for k, x in v.items())    # type: ignore[misc]  # None ruled out above
    return check


def compile_item_checks(schema: Mapping[str, Any]) -> dict[str, ItemCheck]:
    """`$ref` string -> sound check, for every `$defs` entry simple enough to compile."""
    out: dict[str, ItemCheck] = {}
    for name, sub in schema.get("$defs", {}).items():
        if not isinstance(sub, Mapping):
            continue
        check = _array_check(sub) if sub.get("type") == "array" else _object_check(sub)
        if check is not None:
            out[f"#/$defs/{name}"] = check
    return out


def scenario_validator(schema: dict[str, Any]) -> Any:
    """A Draft 2020-12 validator of `schema` with the one-pass `items` described above."""
    from jsonschema import Draft202012Validator, validators

    checks = compile_item_checks(schema)
    default_items = Draft202012Validator.VALIDATORS["items"]

    def items(validator: Any, items_schema: Any, instance: Any, parent: Mapping[str, Any]) -> Any:
        if (isinstance(items_schema, dict) and len(items_schema) == 1 and type(instance) is list
                and "prefixItems" not in parent):
            check = checks.get(items_schema.get("$ref", ""))
            if check is not None and all(check(x) for x in instance):
                return
        yield from default_items(validator, items_schema, instance, parent)

    fast = validators.extend(Draft202012Validator, {"items": items})
    return fast(schema)
