"""Streaming of watch responses: newline-delimited events, bookmarks, timeouts and cut streams.

Events are encoded once per event and watcher format (plain objects share the stored encoding;
`kubectl get -w` gets one-row Tables). Queued events are written in batches, so a burst of changes
costs one write per watcher. The stream ends at `timeoutSeconds` (default: a random 30-60 minutes,
as on a real server), when the watcher is closed (cut, slow consumer, shutdown) or when the client
disconnects.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from aiohttp import web

from . import errors, reads
from .media import Negotiated, negotiate
from .resources import ResourceType
from .selectors import FieldRequirement
from .state import ClusterState, served_raw
from .store import encode
from .tables import to_table
from .watch import CLOSE, WatchEvent

JSON = dict[str, Any]


async def stream_watch(
    state: ClusterState, request: web.Request, rt: ResourceType, namespace: str | None, name: str | None
) -> web.StreamResponse:
    """Serve one watch request until its timeout, a cut, or the client going away."""
    params = request.query
    wanted = negotiate(request.headers.get("Accept", ""), allow_table=True)
    query = reads.parse_query(rt, namespace, params)
    if name is not None:
        query.fields = (*query.fields, FieldRequirement("metadata.name", False, name))
    bookmarks = params.get("allowWatchBookmarks", "") in ("true", "1")
    send_initial = params.get("sendInitialEvents")
    try:
        timeout = (
            float(params["timeoutSeconds"])
            if "timeoutSeconds" in params
            else state.options.min_watch_timeout * (1 + random.random())  # noqa: S311
        )
    except ValueError:
        raise errors.bad_request(f"invalid timeoutSeconds: {params['timeoutSeconds']!r}") from None
    start = reads.start_watch(
        state, rt, query, None if send_initial is None else send_initial in ("true", "1")
    )
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    watcher = start.watcher
    encoder = _EventEncoder(rt, wanted, params.get("includeObject", "Metadata"))
    try:
        if start.error is not None:
            await response.write(b'{"type":"ERROR","object":' + encode(start.error.status()) + b"}\n")
            return response
        chunk = [encoder.event(e) for e in start.initial]
        if start.initial_events_end and bookmarks:
            chunk.append(encoder.bookmark(state.store.rv, initial_end=True))
        if chunk:
            await response.write(b"".join(chunk))
        deadline = time.monotonic() + timeout
        interval = state.options.bookmark_interval
        next_bookmark = time.monotonic() + interval
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            wait = deadline - now
            if bookmarks:
                if now >= next_bookmark:
                    await response.write(encoder.bookmark(state.store.rv))
                    next_bookmark = now + interval
                wait = min(wait, max(next_bookmark - now, 0.0))
            try:
                item = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
            except TimeoutError:
                continue
            if item is CLOSE:
                break
            batch = [encoder.event(item)]
            while not watcher.queue.empty():
                more = watcher.queue.get_nowait()
                if more is CLOSE:
                    watcher.closed = True
                    break
                batch.append(encoder.event(more))
            await response.write(b"".join(batch))
            if watcher.closed:
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        state.hub.unregister(watcher)
    return response


class _EventEncoder:
    """Encodes watch events once per event, as plain objects or as one-row Tables."""

    def __init__(self, rt: ResourceType, wanted: Negotiated, include_object: str) -> None:
        self.rt = rt
        self.table = wanted.as_kind == "Table"
        self.include_object = include_object
        self._type_prefix = {
            t: b'{"type":"' + t.encode() + b'","object":'
            for t in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR")
        }

    def event(self, event: WatchEvent) -> bytes:
        if self.table:
            body = encode(
                to_table(
                    self.rt, [event.obj.obj], {"resourceVersion": str(event.obj.rv)}, self.include_object
                )
            )
        else:
            body = served_raw(self.rt, event.obj)
        return self._type_prefix[event.type] + body + b"}\n"

    def bookmark(self, rv: int, initial_end: bool = False) -> bytes:
        metadata: JSON = {"resourceVersion": str(rv)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": self.rt.kind, "apiVersion": self.rt.group_version, "metadata": metadata}
        return self._type_prefix["BOOKMARK"] + encode(obj) + b"}\n"
