"""Resources served as a view of another resource's objects (events.k8s.io/v1 Events over core/v1 Events).

On a real cluster both Event APIs read and write the same objects; the newer API renames fields
(`regarding` for `involvedObject`, `note` for `message`, `deprecated*` for the old counters...).
The store keeps the core form; this module converts objects, and field-selector paths, between the
two forms. Unknown fields are carried over unchanged.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

# events.k8s.io/v1 name -> core/v1 name
_EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_CORE_FIELDS = {core: new for new, core in _EVENT_FIELDS.items()}

EVENTS_VIEW = "events.k8s.io/v1"


def _rename(obj: JSON, names: dict[str, str], api_version: str) -> JSON:
    out: JSON = {"apiVersion": api_version, "kind": "Event"}
    for key, value in obj.items():
        if key not in ("apiVersion", "kind"):
            out[names.get(key, key)] = value
    return out


def to_storage(view: str, obj: JSON) -> JSON:
    """The stored (core) form of an object written through a view."""
    if view == EVENTS_VIEW:
        return _rename(obj, _EVENT_FIELDS, "v1")
    return obj


def from_storage(view: str, obj: JSON) -> JSON:
    """The view's form of a stored (core) object."""
    if view == EVENTS_VIEW:
        return _rename(obj, _CORE_FIELDS, "events.k8s.io/v1")
    return obj


def storage_field_path(view: str, path: str) -> str:
    """A field-selector path of the view, as a path into the stored form."""
    if view == EVENTS_VIEW:
        head, dot, rest = path.partition(".")
        return _EVENT_FIELDS.get(head, head) + dot + rest
    return path
