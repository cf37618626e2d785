"""RFC 6902 JSON patches between two JSON documents: `diff(old, new)` and `apply(document, patch)`.

`diff` walks objects key by key and emits `add`/`remove`/`replace` for the leaves that differ; a list that
differs is replaced whole (mutators rarely touch lists, and a whole-list replace can never be applied at the
wrong index when the API server's copy differs in order). Equal documents give an empty patch: the webhook
then sends no patch at all, so the API server records no modification.

`apply` implements the operations `diff` emits (and `test`), for checking patches in tests and before use.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

Operation = dict[str, Any]


def escape(segment: str) -> str:
    """A JSON Pointer reference token: `~` → `~0`, `/` → `~1` (in that order)."""
    return segment.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def diff(old: Any, new: Any, path: str = "") -> list[Operation]:
    """The operations that turn `old` into `new` (empty when equal)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        operations: list[Operation] = []
        for key in old:
            if key not in new:
                operations.append({"op": "remove", "path": f"{path}/{escape(str(key))}"})
        for key, value in new.items():
            child = f"{path}/{escape(str(key))}"
            if key not in old:
                operations.append({"op": "add", "path": child, "value": copy.deepcopy(value)})
            else:
                operations.extend(diff(old[key], value, child))
        return operations
    if old == new and type(old) is type(new):
        return []
    if path == "":
        raise ValueError("cannot patch the document root; only its members")
    return [{"op": "replace", "path": path, "value": copy.deepcopy(new)}]


class PatchError(ValueError):
    """A patch does not apply to the document."""


def _walk(document: Any, tokens: Sequence[str], pointer: str) -> Any:
    node = document
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"{pointer}: {token!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            try:
                node = node[int(token)]
            except (ValueError, IndexError):
                raise PatchError(f"{pointer}: no list index {token!r}") from None
        else:
            raise PatchError(f"{pointer}: cannot descend into a {type(node).__name__}")
    return node


def apply(document: Any, operations: Sequence[Mapping[str, Any]]) -> Any:
    """A patched copy of `document`; raises `PatchError` naming the operation that does not apply."""
    result = copy.deepcopy(document)
    for operation in operations:
        op, pointer = operation.get("op"), str(operation.get("path", ""))
        if not pointer.startswith("/"):
            raise PatchError(f"{pointer!r}: a path must start with '/'")
        tokens = [_unescape(t) for t in pointer[1:].split("/")]
        parent = _walk(result, tokens[:-1], pointer)
        last = tokens[-1]
        if op == "test":
            if _walk(result, tokens, pointer) != operation.get("value"):
                raise PatchError(f"{pointer}: test failed")
            continue
        if isinstance(parent, dict):
            if op in ("remove", "replace") and last not in parent:
                raise PatchError(f"{pointer}: {op} of a member that does not exist")
            if op == "remove":
                del parent[last]
            elif op in ("add", "replace"):
                parent[last] = copy.deepcopy(operation.get("value"))
            else:
                raise PatchError(f"{pointer}: unsupported op {op!r}")
        elif isinstance(parent, list):
            if last == "-" and op == "add":
                parent.append(copy.deepcopy(operation.get("value")))
                continue
            try:
                index = int(last)
            except ValueError:
                raise PatchError(f"{pointer}: no list index {last!r}") from None
            if op == "add" and 0 <= index <= len(parent):
                parent.insert(index, copy.deepcopy(operation.get("value")))
            elif op == "remove" and 0 <= index < len(parent):
                del parent[index]
            elif op == "replace" and 0 <= index < len(parent):
                parent[index] = copy.deepcopy(operation.get("value"))
            else:
                raise PatchError(f"{pointer}: {op} at index {index} is out of range")
        else:
            raise PatchError(f"{pointer}: the parent is a {type(parent).__name__}")
    return result
