"""Field ownership (`metadata.managedFields`) and server-side apply.

Each write records, per field manager and operation (`Update` or `Apply`, per subresource), the set
of leaf fields it set, in the `FieldsV1` encoding the real server uses (`f:` fields, `k:` keyed list
items, `v:` set values, `.` for an item itself). Server-side apply merges the applied configuration,
reports conflicts with other managers' fields whose values differ (409 unless `force`), and removes
fields the manager applied before but no longer applies and nobody else owns.
List semantics: custom resources follow `x-kubernetes-list-type` (map/set; atomic otherwise);
built-ins use the patch merge keys known to `patching`. Unions, `x-kubernetes-map-type` and
granular/atomic struct markers are not modelled; conflicts are reported per leaf field.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .meta import now
from .patching import merge_key

JSON = dict[str, Any]
Path = tuple[str, ...]

_SYSTEM_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "generateName",
}


class Shape:
    """How lists below a point of the object are merged: by schema (custom resources) or by merge keys."""

    def __init__(self, schema: JSON | None, path: tuple[str, ...] = ()) -> None:
        self.schema = schema
        self.path = path

    def child(self, name: str) -> Shape:
        if self.schema is None:
            return Shape(None, (*self.path, name))
        props = self.schema.get("properties") or {}
        sub = props.get(name)
        if sub is None and isinstance(self.schema.get("additionalProperties"), dict):
            sub = self.schema["additionalProperties"]
        return Shape(sub or {}, (*self.path, name))

    def item(self) -> Shape:
        if self.schema is None:
            return self
        items = self.schema.get("items")
        return Shape(items if isinstance(items, dict) else {}, self.path)

    def list_type(self, name: str) -> tuple[str, tuple[str, ...]]:
        if self.path == ("metadata",):
            if name == "finalizers":
                return "set", ()
            if name == "ownerReferences":
                return "map", ("uid",)
        if self.schema is None:
            if name == "finalizers":
                return "set", ()
            key = merge_key(self.path, name)
            return ("map", (key,)) if key else ("atomic", ())
        sub = self.child(name).schema or {}
        list_type = sub.get("x-kubernetes-list-type")
        if list_type == "map":
            return "map", tuple(sub.get("x-kubernetes-list-map-keys") or ())
        if list_type == "set":
            return "set", ()
        return "atomic", ()


def _key_of(element: JSON, keys: tuple[str, ...]) -> str:
    return "k:" + json.dumps({k: element.get(k) for k in keys}, separators=(",", ":"), sort_keys=True)


def _value_key(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"))


def fields_of(obj: JSON, shape: Shape, scope: str) -> set[Path]:
    """Leaf field paths of an object. `scope`: 'main' (no status), 'status' (only status) or 'all'."""
    out: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if scope == "status" and key != "status":
            continue
        if scope == "main" and key == "status":
            continue
        if key == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in value.items() if k not in _SYSTEM_METADATA}
            if meta:
                _collect(meta, shape.child("metadata"), ("f:metadata",), out)
            continue
        _collect_field(key, value, shape, (), out)
    return out


def _collect_field(key: str, value: Any, shape: Shape, path: Path, out: set[Path]) -> None:
    here = (*path, "f:" + key)
    if isinstance(value, dict):
        if value:
            _collect(value, shape.child(key), here, out)
        else:
            out.add(here)
    elif isinstance(value, list):
        kind, keys = shape.list_type(key)
        if not value or kind == "atomic":
            out.add(here)
        elif kind == "set":
            out.update((*here, _value_key(v)) for v in value)
        else:
            item_shape = shape.child(key).item()
            for element in value:
                if not isinstance(element, dict):
                    out.add(here)
                    continue
                element_path = (*here, _key_of(element, keys))
                out.add((*element_path, "."))
                _collect(element, item_shape, element_path, out)
    else:
        out.add(here)


def _collect(value: JSON, shape: Shape, path: Path, out: set[Path]) -> None:
    for key, item in value.items():
        _collect_field(key, item, shape, path, out)


def _step(node: Any, element: str) -> tuple[bool, Any]:
    if element == ".":
        return True, node
    if element.startswith("f:"):
        if isinstance(node, dict) and element[2:] in node:
            return True, node[element[2:]]
        return False, None
    if element.startswith("k:") and isinstance(node, list):
        want = json.loads(element[2:])
        for item in node:
            if isinstance(item, dict) and all(item.get(k) == v for k, v in want.items()):
                return True, item
        return False, None
    if element.startswith("v:") and isinstance(node, list):
        value = json.loads(element[2:])
        return (value in node), value
    return False, None


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    node = obj
    for element in path:
        found, node = _step(node, element)
        if not found:
            return False, None
    return True, node


def remove_at(obj: Any, path: Path) -> None:
    if not path:
        return
    if path[-1] == ".":
        path = path[:-1]
    found, parent = value_at(obj, path[:-1])
    if not found:
        return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        _, item = _step(parent, last)
        if item is not None:
            parent.remove(item)
    elif last.startswith("v:") and isinstance(parent, list):
        value = json.loads(last[2:])
        if value in parent:
            parent.remove(value)


def encode_fields(paths: set[Path]) -> JSON:
    root: JSON = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    return root


def decode_fields(tree: JSON, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, sub in tree.items():
        path = (*prefix, key)
        if isinstance(sub, dict) and sub:
            out |= decode_fields(sub, path)
        else:
            out.add(path)
    return out


@dataclass
class Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str = ""
    fields: set[Path] = field(default_factory=set)

    def same_owner(self, other: Entry) -> bool:
        return (self.manager, self.operation, self.subresource) == (
            other.manager,
            other.operation,
            other.subresource,
        )

    def render(self) -> JSON:
        out: JSON = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode_fields(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def parse_entries(obj: JSON | None) -> list[Entry]:
    entries = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, dict):
            continue
        entries.append(
            Entry(
                str(raw.get("manager", "")),
                str(raw.get("operation", "Update")),
                str(raw.get("apiVersion", "")),
                str(raw.get("subresource", "")),
                str(raw.get("time", "")),
                decode_fields(raw.get("fieldsV1") or {}),
            )
        )
    return entries


def _render_all(entries: list[Entry]) -> list[JSON]:
    return [e.render() for e in entries if e.fields]


def record_update(
    old: JSON | None,
    new: JSON,
    manager: str,
    api_version: str,
    shape: Shape,
    scope: str,
    subresource: str = "",
) -> list[JSON]:
    """managedFields for `new` after an Update by `manager` (changed fields move to it)."""
    entries = parse_entries(old)
    new_fields = fields_of(new, shape, scope)
    old_fields = fields_of(old, shape, scope) if old else set()
    changed = {p for p in new_fields if p not in old_fields or value_at(old, p) != value_at(new, p)}
    removed = old_fields - new_fields
    mine = Entry(manager, "Update", api_version, subresource)
    existing = next((e for e in entries if e.same_owner(mine)), None)
    if existing is None:
        entries.append(mine)
        existing = mine
    for entry in entries:
        entry.fields -= removed
        if entry is not existing:
            entry.fields -= changed
    if changed or existing.time == "":
        existing.time = now()
        existing.api_version = api_version
    existing.fields |= changed
    return _render_all(entries)


def _display(path: Path) -> str:
    text = ""
    for element in path:
        if element == ".":
            continue
        if element.startswith("f:"):
            text += "." + element[2:]
        elif element.startswith("k:"):
            keys = json.loads(element[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        elif element.startswith("v:"):
            text += f"[{element[2:]}]"
    return text


def _merge(current: Any, applied: Any, shape: Shape) -> Any:
    if not (isinstance(current, dict) and isinstance(applied, dict)):
        return copy.deepcopy(applied)
    out = dict(current)
    for key, value in applied.items():
        if isinstance(value, list) and isinstance(current.get(key), list):
            kind, keys = shape.list_type(key)
            if kind == "set":
                out[key] = list(current[key]) + [v for v in value if v not in current[key]]
            elif kind == "map":
                merged = list(current[key])
                item_shape = shape.child(key).item()
                for element in value:
                    match = next(
                        (
                            i
                            for i, e in enumerate(merged)
                            if isinstance(e, dict)
                            and isinstance(element, dict)
                            and all(e.get(k) == element.get(k) for k in keys)
                        ),
                        None,
                    )
                    if match is None:
                        merged.append(copy.deepcopy(element))
                    else:
                        merged[match] = _merge(merged[match], element, item_shape)
                out[key] = merged
            else:
                out[key] = copy.deepcopy(value)
        elif isinstance(value, dict):
            out[key] = _merge(current.get(key), value, shape.child(key))
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply(
    current: JSON | None,
    applied: JSON,
    manager: str,
    force: bool,
    api_version: str,
    shape: Shape,
    scope: str,
    subresource: str = "",
) -> JSON:
    """The object after `manager` applies `applied` (metadata.managedFields included)."""
    entries = parse_entries(current)
    applied_fields = fields_of(applied, shape, scope)
    mine = Entry(manager, "Apply", api_version, subresource)
    previous = next((e for e in entries if e.same_owner(mine)), None)
    conflicts: list[tuple[Entry, Path]] = []
    for entry in entries:
        if entry is previous:
            continue
        for path in sorted(applied_fields & entry.fields):
            if path[-1] != "." and value_at(current, path) != value_at(applied, path):
                conflicts.append((entry, path))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry, path in conflicts:
        entry.fields.discard(path)
    result = _merge(copy.deepcopy(current) if current else {}, applied, shape)
    others: set[Path] = set()
    for entry in entries:
        if entry is not previous:
            others |= entry.fields
    if previous is not None:
        for path in sorted(previous.fields - applied_fields - others, key=len, reverse=True):
            remove_at(result, path)
        entries.remove(previous)
    mine.fields = applied_fields
    mine.time = now()
    entries.append(mine)
    result.setdefault("metadata", {})["managedFields"] = _render_all(entries)
    return result  # type: ignore[no-any-return]


def _conflict_error(conflicts: list[tuple[Entry, Path]]) -> ApiError:
    managers = {(e.manager, e.api_version) for e, _ in conflicts}
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = (
            f'Apply failed with 1 conflict: conflict with "{entry.manager}" using {entry.api_version}: '
            f"{_display(path)}"
        )
    else:
        lines = []
        for manager, version in sorted(managers):
            lines.append(f'conflicts with "{manager}" using {version}:')
            lines += [
                f"- {_display(p)}" for e, p in conflicts if (e.manager, e.api_version) == (manager, version)
            ]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{e.manager}" using {e.api_version}',
            "field": _display(p),
        }
        for e, p in conflicts
    ]
    return ApiError(409, "Conflict", message, {"causes": causes})
