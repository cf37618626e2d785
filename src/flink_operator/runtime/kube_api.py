"""Raw-JSON access to the Kubernetes API through lightkube's configured HTTP client, with a write gate.

lightkube owns configuration, authentication, TLS and its `ApiError`; this module adds what the runtime
needs and lightkube's typed calls do not give: lists and watches as undecoded bytes (for the compact
cache), watch bookmarks (`allowWatchBookmarks`), patches of any type on any subresource, and a *write gate*
checked before every modifying request, so that a replica which is not (or no longer) the leader cannot
write (`NotLeader`). Custom resources are patched with JSON merge patches by default (strategic merge patch
is not defined for them).

Every failed request raises lightkube's `ApiError` (also for non-JSON error bodies); transport failures
raise httpx2's `TransportError`. Not guaranteed: fencing beyond this process. A write already sent when
leadership is lost cannot be recalled; the gate only closes the door for the next one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import httpx2
import msgspec
from lightkube import ApiError, AsyncClient
from lightkube.models.meta_v1 import Status
from lightkube.types import PatchType

from flink_operator.runtime.kinds import Kind

JSON = dict[str, Any]
WriteGate = Callable[[], None]
"""Called before every modifying request; raises (normally `NotLeader`) to refuse it."""


class NotLeader(Exception):
    """A write was refused because this replica does not hold the leader lease."""


class _WatchLine(msgspec.Struct):
    type: str
    object: msgspec.Raw


class _ListMeta(msgspec.Struct):
    resourceVersion: str = ""
    # `continue` is a Python keyword; msgspec maps it by name.
    continue_: str | None = msgspec.field(default=None, name="continue")


class _ListPage(msgspec.Struct):
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)
    items: list[msgspec.Raw] | None = None


_watch_line = msgspec.json.Decoder(_WatchLine)
_list_page = msgspec.json.Decoder(_ListPage)
_json_dict = msgspec.json.Decoder(dict[str, Any])
_encode = msgspec.json.encode

WATCH_BOOKMARK = "BOOKMARK"
WATCH_ERROR = "ERROR"


def status_code(error: BaseException) -> int | None:
    """The HTTP status of an API error, or None for other errors."""
    if isinstance(error, ApiError):
        code = error.status.code if error.status is not None else None
        if code:
            return int(code)
        if error.response is not None:
            return int(error.response.status_code)
    return None


def is_transient(error: BaseException) -> bool:
    """Worth retrying as is: transport failures, 429, 5xx (not 501)."""
    if isinstance(error, httpx2.TransportError):
        return True
    code = status_code(error)
    return code is not None and (code == 429 or (code >= 500 and code != 501))


def api_error(code: int, message: str, reason: str = "") -> ApiError:
    """An `ApiError` built from a status (for in-stream watch errors and for tests)."""
    return ApiError(status=Status(code=code, message=message, reason=reason or None, status="Failure"))


class KubeApi:
    """Raw-JSON Kubernetes API calls on top of a lightkube `AsyncClient`."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        user_agent: str = "flink-operator",
        gate: WriteGate | None = None,
        watch_read_slack: float = 30.0,
        request_counts: Counter[str] | None = None,
    ) -> None:
        self.client = client
        # lightkube's configured httpx2 client (base URL, auth, TLS); lightkube has no public accessor.
        self._http: httpx2.AsyncClient = client._client._client
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._gate = gate
        self._watch_read_slack = watch_read_slack
        self.user_agent = user_agent
        self.request_counts: Counter[str] = Counter() if request_counts is None else request_counts
        """Requests sent, by HTTP method (watches count as GET), shared with `with_gate` copies."""

    def with_gate(self, gate: WriteGate | None) -> KubeApi:
        """The same connection with another write gate (None: ungated, e.g. for the Lease itself)."""
        return KubeApi(
            self.client, user_agent=self.user_agent, gate=gate, watch_read_slack=self._watch_read_slack,
            request_counts=self.request_counts,
        )

    @property
    def default_namespace(self) -> str:
        return str(self.client.namespace or "default")

    # --- plumbing -------------------------------------------------------------------------------------

    async def request_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> bytes:
        if method != "GET" and self._gate is not None:
            self._gate()
        self.request_counts[method] += 1
        headers = dict(self._headers)
        content: bytes | None = None
        if body is not None:
            content = body if isinstance(body, bytes) else _encode(body)
            headers["Content-Type"] = content_type
        response = await self._http.request(
            method, path, params=dict(params or {}), content=content, headers=headers
        )
        if response.status_code >= 400:
            raise _error_of(response)
        return response.content

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> JSON:
        raw = await self.request_raw(method, path, params=params, body=body, content_type=content_type)
        return _json_dict.decode(raw) if raw else {}

    # --- reads ----------------------------------------------------------------------------------------

    async def get(self, kind: Kind, name: str, namespace: str | None = None) -> JSON:
        return await self.request("GET", kind.object_path(name, namespace))

    async def get_raw(self, kind: Kind, name: str, namespace: str | None = None) -> bytes:
        return await self.request_raw("GET", kind.object_path(name, namespace))

    async def list_raw(
        self,
        kind: Kind,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        page_size: int = 500,
    ) -> tuple[str, list[bytes]]:
        """All objects as raw JSON and the list's resourceVersion (paged with `limit`/`continue`)."""
        items: list[bytes] = []
        params: dict[str, str] = {"limit": str(page_size)}
        if label_selector:
            params["labelSelector"] = label_selector
        path = kind.collection_path(namespace)
        while True:
            page = _list_page.decode(await self.request_raw("GET", path, params=params))
            items.extend(bytes(raw) for raw in page.items or ())
            if not page.metadata.continue_:
                return page.metadata.resourceVersion, items
            params["continue"] = page.metadata.continue_

    async def watch_raw(
        self,
        kind: Kind,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        timeout_seconds: int = 300,
        bookmarks: bool = True,
        on_connected: Callable[[], None] | None = None,
    ) -> AsyncGenerator[tuple[str, bytes], None]:
        """One watch connection: yields `(type, raw object)` until the server ends the stream.

        BOOKMARK events are yielded (their object carries only the resourceVersion). An in-stream ERROR
        event raises `ApiError` with its status (410 when the resourceVersion is too old). `on_connected`
        is called once the server accepted the watch."""
        params = {"watch": "true", "timeoutSeconds": str(timeout_seconds)}
        if resource_version:
            params["resourceVersion"] = resource_version
        if bookmarks:
            params["allowWatchBookmarks"] = "true"
        if label_selector:
            params["labelSelector"] = label_selector
        timeout = httpx2.Timeout(10.0, read=timeout_seconds + self._watch_read_slack)
        self.request_counts["GET"] += 1
        async with self._http.stream(
            "GET", kind.collection_path(namespace), params=params, headers=self._headers, timeout=timeout
        ) as response:
            if response.status_code >= 400:
                await response.aread()
                raise _error_of(response)
            if on_connected is not None:
                on_connected()
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                event = _watch_line.decode(line)
                if event.type == WATCH_ERROR:
                    status = _json_dict.decode(event.object)
                    raise api_error(
                        int(status.get("code") or 500), str(status.get("message") or ""),
                        str(status.get("reason") or ""),
                    )
                yield event.type, bytes(event.object)

    # --- writes ---------------------------------------------------------------------------------------

    async def create(self, kind: Kind, obj: Mapping[str, Any], namespace: str | None = None) -> JSON:
        ns = namespace or (obj.get("metadata") or {}).get("namespace") or self.default_namespace
        body = {"apiVersion": kind.api_version, "kind": kind.kind, **obj}
        return await self.request("POST", kind.collection_path(ns if kind.namespaced else None), body=body)

    async def replace(self, kind: Kind, obj: Mapping[str, Any], *, subresource: str | None = None) -> JSON:
        """PUT the object (or its subresource); optimistic locking applies when it carries a
        resourceVersion (409 Conflict when stale)."""
        metadata = obj.get("metadata") or {}
        path = kind.object_path(metadata["name"], metadata.get("namespace"), subresource)
        body = {"apiVersion": kind.api_version, "kind": kind.kind, **obj}
        return await self.request("PUT", path, body=body)

    async def patch(
        self,
        kind: Kind,
        name: str,
        namespace: str | None,
        patch: Any,
        *,
        patch_type: PatchType = PatchType.MERGE,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
    ) -> JSON:
        params: dict[str, str] = {}
        if field_manager:
            params["fieldManager"] = field_manager
        if force:
            params["force"] = "true"
        return await self.request(
            "PATCH", kind.object_path(name, namespace, subresource), params=params, body=patch,
            content_type=patch_type.value,
        )

    async def delete(
        self,
        kind: Kind,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str | None = None,
        resource_version: str | None = None,
    ) -> JSON:
        body: JSON = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation:
            body["propagationPolicy"] = propagation
        if resource_version:
            body["preconditions"] = {"resourceVersion": resource_version}
        return await self.request("DELETE", kind.object_path(name, namespace), body=body)


def _error_of(response: httpx2.Response) -> ApiError:
    try:
        return ApiError(request=response.request, response=response)
    except (ValueError, TypeError, KeyError, msgspec.DecodeError):
        text = response.text[:500] if response.content else response.reason_phrase
        return api_error(response.status_code, text or f"HTTP {response.status_code}")
