"""The read path: get, list (selectors, pagination, resourceVersion semantics) and watch set-up.

Lists are served from the current state; `resourceVersion=""`/`"0"`/`N` (not older than) are
honoured, `resourceVersionMatch=Exact` only for the current version (older exact versions answer
410: no MVCC snapshots are kept). Continue tokens carry the list's resourceVersion; the following
pages show the current state of the remaining keys (the real server shows the snapshot), and a token
older than the kept history answers 410 as a compacted one does. Watches start with synthetic ADDED
events when no resourceVersion is given, or replay the history after the given one (410 when it is
older than the kept history).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import errors
from .resources import ResourceType
from .selectors import (
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    Matcher,
    object_matcher,
    parse_field_selector,
    parse_label_selector,
)
from .state import ClusterState
from .store import Stored
from .views import storage_field_path
from .watch import Watcher, WatchEvent

JSON = dict[str, Any]


@dataclass
class Query:
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    limit: int
    continue_token: str
    resource_version: str
    rv_match: str

    @property
    def matcher(self) -> Matcher | None:
        return object_matcher(self.labels, self.fields)


def parse_query(rt: ResourceType, namespace: str | None, params: Mapping[str, str]) -> Query:
    labels = parse_label_selector(params.get("labelSelector", ""))
    fields = parse_field_selector(params.get("fieldSelector", ""), rt.field_selectors, rt.custom)
    if rt.view:
        fields = tuple(
            FieldRequirement(storage_field_path(rt.view, f.path), f.negate, f.value) for f in fields
        )
    try:
        limit = int(params.get("limit") or 0)
    except ValueError:
        raise errors.bad_request(f"invalid limit: {params.get('limit')!r} is not an integer") from None
    rv_match = params.get("resourceVersionMatch", "")
    if rv_match not in ("", "Exact", "NotOlderThan"):
        raise errors.bad_request(
            f'resourceVersionMatch: Unsupported value: "{rv_match}": supported values: '
            f'"Exact", "NotOlderThan"'
        )
    return Query(
        namespace,
        labels,
        fields,
        max(limit, 0),
        params.get("continue", ""),
        params.get("resourceVersion", ""),
        rv_match,
    )


def _parse_rv(value: str) -> int:
    try:
        rv = int(value)
    except ValueError:
        raise errors.bad_request(f'invalid resource version "{value}"') from None
    if rv < 0:
        raise errors.bad_request(f'invalid resource version "{value}"')
    return rv


def encode_continue(rv: int, namespace: str, name: str) -> str:
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": [namespace, name]}, separators=(",", ":"))
    return base64.b64encode(token.encode()).decode()


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.b64decode(token, validate=True))
        start = data["start"]
        return int(data["rv"]), (str(start[0]), str(start[1]))
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError):
        raise errors.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ) from None


def get(state: ClusterState, rt: ResourceType, namespace: str, name: str) -> Stored:
    stored = state.store.get(rt.key, namespace if rt.namespaced else "", name)
    if stored is None:
        raise errors.not_found(rt.plural, rt.group, name)
    return stored


def list_objects(state: ClusterState, rt: ResourceType, query: Query) -> tuple[list[Stored], JSON]:
    store = state.store
    list_rv = store.rv
    after: tuple[str, str] | None = None
    if query.continue_token:
        list_rv, after = _decode_continue(query.continue_token)
        if list_rv < store.floor:
            raise errors.gone(
                "The provided continue parameter is too old to display a consistent list result. "
                "You can start a new list without the continue parameter."
            )
    elif query.resource_version not in ("", "0"):
        wanted = _parse_rv(query.resource_version)
        if query.rv_match == "Exact" and wanted != store.rv:
            raise errors.gone("The resourceVersion for the provided list is too old.")
        if wanted > store.rv:
            raise errors.timeout(f"Too large resource version: {wanted}, current: {store.rv}")
    matcher = query.matcher
    items: list[Stored] = []
    remaining = 0
    last_key: tuple[str, str] | None = None
    for stored in store.items(rt.key, query.namespace):
        if after is not None and (stored.namespace, stored.name) <= after:
            continue
        if matcher is not None and not matcher(stored.obj):
            continue
        if query.limit and len(items) >= query.limit:
            remaining += 1
            continue
        items.append(stored)
        last_key = (stored.namespace, stored.name)
    metadata: JSON = {"resourceVersion": str(list_rv)}
    if remaining and last_key is not None:
        metadata["continue"] = encode_continue(list_rv, *last_key)
        if matcher is None:
            metadata["remainingItemCount"] = remaining
    return items, metadata


@dataclass
class WatchStart:
    initial: list[WatchEvent]
    watcher: Watcher
    error: errors.ApiError | None = None
    initial_events_end: bool = False


def start_watch(state: ClusterState, rt: ResourceType, query: Query, send_initial: bool | None) -> WatchStart:
    """Register a watcher and compute the events it must be sent first (atomically, on the loop)."""
    watcher = Watcher(rt.key, query.namespace, query.matcher)
    rv_text = query.resource_version
    initial: list[WatchEvent] = []
    if send_initial is None:
        send_initial = rv_text in ("", "0")
    if rv_text in ("", "0") or send_initial:
        matcher = query.matcher
        for stored in state.store.items(rt.key, query.namespace):
            if matcher is None or matcher(stored.obj):
                initial.append(WatchEvent("ADDED", stored))
        state.hub.register(watcher)
        return WatchStart(initial, watcher, initial_events_end=bool(send_initial))
    rv = _parse_rv(rv_text)
    changes = state.store.changes_since(rv)
    if changes is None:
        return WatchStart([], watcher, errors.gone(f"too old resource version: {rv} ({state.store.floor})"))
    if rv > state.store.rv:
        return WatchStart(
            [], watcher, errors.timeout(f"Too large resource version: {rv}, current: {state.store.rv}")
        )
    for change in changes:
        if change.resource != watcher.resource:
            continue
        event = watcher.translate(change)
        if event is not None:
            initial.append(event)
    state.hub.register(watcher)
    return WatchStart(initial, watcher)
