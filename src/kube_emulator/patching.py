"""The patch formats of PATCH requests: JSON merge patch, JSON patch and strategic merge patch.

All functions are pure: they take the current object and the patch and return a new object, never
mutating their inputs. Strategic merge knows the patch merge keys of the built-in list fields the
operator, kubectl and Flink touch (containers, volumes, env, ports, conditions, ownerReferences...);
lists it does not know are replaced, as for fields without a patch strategy on a real server.
Custom resources do not accept strategic merge (415), which the HTTP layer enforces.
"""

from __future__ import annotations

import copy
from typing import Any

JSON = dict[str, Any]


class PatchError(Exception):
    """The patch cannot be applied; `bad_request` tells a malformed patch from a failed one."""

    def __init__(self, message: str, bad_request: bool = False) -> None:
        super().__init__(message)
        self.bad_request = bad_request


# ---------------------------------------------------------------- JSON merge patch (RFC 7386)


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------- JSON patch (RFC 6902)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer "{path}" must start with "/"', bad_request=True)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:  # noqa: S105 - the RFC 6902 end-of-array token
        return len(container)
    try:
        idx = int(token)
    except ValueError:
        raise PatchError(f"invalid array index {token!r} in {path}") from None
    if idx < 0 or idx > len(container) or (idx == len(container) and not allow_end):
        raise PatchError(f"Unable to access invalid index: {idx}: invalid index referenced")
    return idx


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f'doc is missing path: "{path}": missing value')
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, allow_end=False)]
        else:
            raise PatchError(f'doc is missing path: "{path}": missing value')
    return node


def _get(doc: Any, path: str) -> Any:
    node = doc
    for token in _pointer(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, allow_end=False)]
        else:
            raise PatchError(f'doc is missing path: "{path}": missing value')
    return node


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise PatchError(f'doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    tokens = _pointer(path)
    parent = _parent(doc, tokens, path)
    last = tokens[-1] if tokens else ""
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(
                f"Unable to remove nonexistent key: {last}: missing value"
                if op == "remove"
                else f"{op} operation does not apply: doc is missing key: {path}: missing value"
            )
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path, allow_end=False))
    raise PatchError(f'doc is missing path: "{path}": missing value')


def json_patch(target: JSON, operations: Any) -> JSON:
    if not isinstance(operations, list):
        raise PatchError(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch", bad_request=True
        )
    doc: Any = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise PatchError("Unexpected kind: missing op", bad_request=True)
        op, path = operation["op"], operation.get("path", "")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            if not _pointer(path):
                doc = copy.deepcopy(operation.get("value"))
                continue
            _remove(doc, path, "replace")
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "move":
            value = _remove(doc, operation.get("from", ""), "move")
            doc = _add(doc, path, value)
        elif op == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, operation.get("from", ""))))
        elif op == "test":
            try:
                current = _get(doc, path)
            except PatchError:
                current = None
            if current != operation.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {op}", bad_request=True)
    if not isinstance(doc, dict):
        raise PatchError("the patch replaced the whole object with a non-object", bad_request=True)
    return doc


# ---------------------------------------------------------------- strategic merge patch

_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "resourceClaims": "name",
    "readinessGates": "conditionType",
    "ports": "port",
}
_PRIMITIVE_MERGE = {"finalizers"}


def merge_key(path: tuple[str, ...], field: str) -> str | None:
    """The patch merge key of a list field at `path`, or None when the list is replaced as a whole."""
    if field == "ports":
        if path and path[-1] in _CONTAINER_LISTS:
            return "containerPort"
        return "port" if path[-1:] == ("spec",) else None
    return _MERGE_KEYS.get(field)


def strategic_merge_patch(target: JSON, patch: JSON) -> JSON:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object", bad_request=True)
    result = _smp_map(target, patch, ())
    if not isinstance(result, dict):
        raise PatchError("the patch deleted the whole object", bad_request=True)
    return result


def _smp_map(target: Any, patch: JSON, path: tuple[str, ...]) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    body = {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "replace":
        return _strip_directives(body)
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}", bad_request=True)
    result = dict(target) if isinstance(target, dict) else {}
    retain = body.pop("$retainKeys", None)
    for key, value in body.items():
        if key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key), value, (*path, key))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(result.get(key), value, path, key)
        else:
            result[key] = value
    for key, value in body.items():
        if key.startswith("$setElementOrder/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = _ordered(result[field], value, merge_key(path, field))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(current: Any, patch: list[Any], path: tuple[str, ...], field: str) -> list[Any]:
    key = merge_key(path, field)
    existing = list(current) if isinstance(current, list) else []
    if field in _PRIMITIVE_MERGE:
        return existing + [v for v in patch if v not in existing]
    if key is None:
        return _strip_directives(patch)  # type: ignore[no-any-return]
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [
            _strip_directives(e) for e in patch if not (isinstance(e, dict) and e.get("$patch") == "replace")
        ]
    for element in patch:
        if not isinstance(element, dict) or key not in element:
            raise PatchError(f"map: {element} does not contain declared merge key: {key}")
        idx = next(
            (i for i, e in enumerate(existing) if isinstance(e, dict) and e.get(key) == element[key]), None
        )
        if element.get("$patch") == "delete":
            if idx is not None:
                existing.pop(idx)
            continue
        if idx is None:
            existing.append(_strip_directives(element))
        else:
            existing[idx] = _smp_map(existing[idx], element, (*path, field))
    return existing


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    order_ids = [ident(o) for o in order]
    ranked = [i for i in items if ident(i) in order_ids]
    ranked.sort(key=lambda i: order_ids.index(ident(i)))
    return ranked + [i for i in items if ident(i) not in order_ids]


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not (
                k.startswith("$setElementOrder/")
                or k.startswith("$deleteFromPrimitiveList/")
                or k in ("$patch", "$retainKeys")
            )
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value
