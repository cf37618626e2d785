"""HTTP routing of the Kubernetes API: URL parsing, content negotiation, verbs, watch streaming.

Maps `/api/v1/...` and `/apis/<group>/<version>/...` paths onto resource types and calls the read
and write paths; renders objects, lists, tables and `Status` errors the way a real API server does;
streams watches as newline-delimited JSON with bookmarks and `timeoutSeconds`. Also serves
discovery, OpenAPI and health endpoints, records every request in the request log and applies
injected faults before handling.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import yaml
from aiohttp import web

from . import discovery, errors, reads, writes
from .errors import ApiError
from .faults import Faults
from .media import Negotiated, content_type, decode_body, decode_patch, negotiate
from .resources import ResourceType
from .scale import from_scale, patch_scale, scale_of
from .state import ClusterState, served_raw
from .store import Stored, encode
from .tables import partial_metadata, to_table
from .watch_stream import stream_watch

JSON = dict[str, Any]


@dataclass
class RequestRecord:
    """One handled request, as kept in the request log."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    user_agent: str
    content_type: str
    body: bytes
    started: float
    duration: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Target:
    group: str
    version: str
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str
    watch_path: bool = False


@dataclass
class HttpApi:
    state: ClusterState
    faults: Faults = field(default_factory=Faults)
    address: str = "127.0.0.1:0"
    request_log: collections.deque[RequestRecord] = field(
        default_factory=lambda: collections.deque(maxlen=20_000)
    )

    # ------------------------------------------------------------------------------------ app

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.monotonic()
        body = await request.read() if request.can_read_body else b""
        record = RequestRecord(
            request.method,
            request.path,
            dict(request.query),
            0,
            request.headers.get("User-Agent", ""),
            request.headers.get("Content-Type", ""),
            body[: 256 * 1024],
            time.time(),
        )
        self.request_log.append(record)
        try:
            for rule in self.faults.take(request.method, request.path):
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if rule.drop:
                    if request.transport is not None:
                        request.transport.abort()
                    record.status = -1
                    return web.Response(status=499)  # never reaches the client: the connection is gone
                if rule.status:
                    raise rule.error()
            response: web.StreamResponse = await handler(request)
        except ApiError as exc:
            response = self.error_response(exc)
        except (web.HTTPException, ConnectionResetError):
            raise
        except Exception as exc:  # a bug must still answer like a server, and be visible in the body
            response = self.error_response(errors.internal(f"{type(exc).__name__}: {exc}"))
        record.status = response.status
        record.duration = time.monotonic() - started
        return response

    @staticmethod
    def error_response(exc: ApiError) -> web.Response:
        return web.Response(status=exc.code, body=encode(exc.status()), content_type="application/json")

    # ------------------------------------------------------------------------------------ routing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        parts = [unquote(p) for p in path.strip("/").split("/")] if path != "/" else []
        if not parts:
            return self._json(
                {
                    "paths": [
                        "/api",
                        "/api/v1",
                        "/apis",
                        "/healthz",
                        "/livez",
                        "/openapi/v3",
                        "/readyz",
                        "/version",
                    ]
                }
            )
        head = parts[0]
        if head == "version" and len(parts) == 1:
            return self._json(discovery.version_info(self.state.options.server_version))
        if head in ("healthz", "livez", "readyz"):
            return web.Response(text="ok", content_type="text/plain")
        if head == "openapi":
            return self._openapi(parts, request.headers.get("Accept", ""))
        if head == "api":
            if len(parts) == 1:
                return self._discovery_root(request, core=True)
            if len(parts) == 2:
                if parts[1] != "v1":
                    raise errors.unknown_resource()
                return self._json(discovery.resource_list(self.state.registry, "", "v1"))
            return await self._resource(request, "", parts[1], parts[2:])
        if head == "apis":
            if len(parts) == 1:
                return self._discovery_root(request, core=False)
            if len(parts) == 2:
                group = discovery.api_group(self.state.registry, parts[1])
                if group is None:
                    raise errors.unknown_resource()
                return self._json(group)
            if len(parts) == 3:
                if not self.state.registry.has_group_version(parts[1], parts[2]):
                    raise errors.unknown_resource()
                return self._json(discovery.resource_list(self.state.registry, parts[1], parts[2]))
            return await self._resource(request, parts[1], parts[2], parts[3:])
        raise errors.unknown_resource()

    def _discovery_root(self, request: web.Request, core: bool) -> web.Response:
        wanted = negotiate(request.headers.get("Accept", ""), allow_discovery=True)
        if wanted.as_kind == "APIGroupDiscoveryList":
            body = discovery.aggregated(self.state.registry, core, wanted.version)
            return web.Response(
                body=encode(body),
                headers={
                    "Content-Type": (
                        f"application/json;g=apidiscovery.k8s.io;v={wanted.version};as=APIGroupDiscoveryList"
                    )
                },
            )
        if core:
            return self._json(discovery.api_versions(self.address))
        return self._json(discovery.api_group_list(self.state.registry))

    def _openapi(self, parts: list[str], accept: str) -> web.Response:
        server_version = self.state.options.server_version
        if parts[1:] == ["v2"]:
            if "protobuf" in accept:
                return web.Response(
                    body=discovery.openapi_v2_protobuf(server_version),
                    content_type="application/octet-stream",
                )
            return self._json(discovery.openapi_v2(server_version))
        if parts[1:] == ["v3"]:
            return self._json(discovery.openapi_index(self.state.registry, server_version))
        if len(parts) >= 4 and parts[1] == "v3":
            rest = parts[2:]
            group, version = (
                ("", rest[1])
                if rest[0] == "api" and len(rest) == 2
                else ((rest[1], rest[2]) if rest[0] == "apis" and len(rest) == 3 else ("", ""))
            )
            doc = (
                discovery.openapi_document(self.state.registry, group, version, server_version)
                if version
                else None
            )
            if doc is not None:
                return self._json(doc)
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _target(self, group: str, version: str, segments: list[str]) -> Target:
        registry = self.state.registry
        watch_path = False
        if segments and segments[0] == "watch":
            watch_path, segments = True, segments[1:]
        namespace: str | None = None
        if (
            len(segments) >= 3
            and segments[0] == "namespaces"
            and not (group == "" and len(segments) == 3 and segments[2] in ("status", "finalize"))
        ):
            namespace, segments = segments[1], segments[2:]
        if not segments or len(segments) > 3:
            raise errors.unknown_resource()
        plural = segments[0]
        rt = registry.get(group, version, plural)
        if rt is None:
            raise errors.unknown_resource()
        name = segments[1] if len(segments) > 1 else None
        sub = segments[2] if len(segments) > 2 else ""
        if sub and sub not in rt.subresources:
            raise errors.unknown_resource()
        if namespace is not None and not rt.namespaced:
            raise errors.unknown_resource()
        if rt.namespaced and namespace is None and name is not None:
            raise errors.unknown_resource()
        return Target(group, version, rt, namespace, name, sub, watch_path)

    # ------------------------------------------------------------------------------------ verbs

    async def _resource(
        self, request: web.Request, group: str, version: str, segments: list[str]
    ) -> web.StreamResponse:
        if not self.state.registry.has_group_version(group, version):
            raise errors.unknown_resource()
        target = self._target(group, version, segments)
        method = request.method
        params = request.query
        rt = target.rt
        if method == "GET":
            wants_watch = target.watch_path or params.get("watch", "") in ("true", "1")
            if target.name is None or wants_watch:
                if wants_watch:
                    return await stream_watch(self.state, request, target.rt, target.namespace, target.name)
                return self._list(request, target)
            wanted = negotiate(request.headers.get("Accept", ""), allow_table=True)
            stored = reads.get(self.state, rt, target.namespace or "", target.name)
            if target.subresource == "scale":
                return self._render(scale_of(stored), wanted)
            return self._render_object(rt, stored, wanted)
        ctx = self._write_context(request)
        namespace = target.namespace or ""
        if method == "POST":
            if target.name is not None:
                raise errors.method_not_allowed("create", rt.plural, rt.group)
            if rt.namespaced and target.namespace is None:
                raise errors.method_not_allowed("create", rt.plural, rt.group)
            body = decode_body(await request.read(), content_type(request.headers.get("Content-Type")))
            result = await writes.create(self.state, rt, namespace, body, ctx)
        elif method == "PUT":
            if target.name is None:
                raise errors.method_not_allowed("update", rt.plural, rt.group)
            body = decode_body(await request.read(), content_type(request.headers.get("Content-Type")))
            if target.subresource == "scale":
                body = from_scale(reads.get(self.state, rt, namespace, target.name), body)
                target.subresource = ""
            result = await writes.update(
                self.state, rt, namespace, target.name, body, _status_only(target.subresource), ctx
            )
        elif method == "PATCH":
            if target.name is None:
                raise errors.method_not_allowed("patch", rt.plural, rt.group)
            media = content_type(request.headers.get("Content-Type"))
            patch_body = decode_patch(await request.read(), media, rt.custom)
            if target.subresource == "scale":
                result = await patch_scale(self.state, rt, namespace, target.name, media, patch_body, ctx)
            else:
                result = await writes.patch(
                    self.state,
                    rt,
                    namespace,
                    target.name,
                    media,
                    patch_body,
                    _status_only(target.subresource),
                    ctx,
                )
        elif method == "DELETE":
            options = await self._delete_options(request)
            if target.name is None:
                return await self._delete_collection(request, target, options, ctx)
            result = await writes.delete(self.state, rt, namespace, target.name, options, ctx)
        else:
            raise errors.method_not_allowed(method.lower(), rt.plural, rt.group)
        wanted = negotiate(request.headers.get("Accept", ""), allow_table=True)
        response = self._render_result(rt, result, wanted)
        for warning in ctx.warnings:
            escaped = warning.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
            response.headers.add("Warning", f'299 - "{escaped}"')
        return response

    def _write_context(self, request: web.Request) -> writes.WriteContext:
        params = request.query
        dry_run = params.getall("dryRun", [])
        for value in dry_run:
            if value != "All":
                raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        validation = params.get("fieldValidation", "")
        if validation not in ("", "Strict", "Warn", "Ignore"):
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{validation}": supported values: '
                f'"Ignore", "Strict", "Warn"'
            )
        return writes.WriteContext(
            dry_run=bool(dry_run),
            field_manager=params.get("fieldManager", ""),
            field_validation=validation,
            force=params.get("force", "") in ("true", "1"),
            user_agent=request.headers.get("User-Agent", ""),
        )

    async def _delete_options(self, request: web.Request) -> JSON:
        raw = await request.read()
        options: JSON = {}
        if raw.strip():
            decoded = decode_body(raw, content_type(request.headers.get("Content-Type")))
            if not isinstance(decoded, dict):
                raise errors.bad_request("DeleteOptions must be an object")
            options = decoded
        params = request.query
        if "propagationPolicy" in params:
            options["propagationPolicy"] = params["propagationPolicy"]
        if "orphanDependents" in params:
            options["orphanDependents"] = params["orphanDependents"] in ("true", "1")
        if params.get("dryRun") == "All":
            options["dryRun"] = ["All"]
        return options

    async def _delete_collection(
        self, request: web.Request, target: Target, options: JSON, ctx: writes.WriteContext
    ) -> web.Response:
        rt = target.rt
        query = reads.parse_query(rt, target.namespace, request.query)
        items, metadata = reads.list_objects(self.state, rt, query)
        deleted = []
        for stored in items:
            try:
                result = await writes.delete(self.state, rt, stored.namespace, stored.name, options, ctx)
            except ApiError as exc:
                if exc.code != 404:
                    raise
                continue
            deleted.append(result.obj if rt.returns_deleted_object else stored.obj)
        body = {"kind": rt.list_kind, "apiVersion": rt.group_version, "metadata": metadata, "items": deleted}
        return self._json(body)

    # ------------------------------------------------------------------------------------ lists

    def _list(self, request: web.Request, target: Target) -> web.Response:
        rt = target.rt
        wanted = negotiate(request.headers.get("Accept", ""), allow_table=True)
        query = reads.parse_query(rt, target.namespace, request.query)
        items, metadata = reads.list_objects(self.state, rt, query)
        if wanted.as_kind == "Table":
            include = request.query.get("includeObject", "Metadata")
            table = to_table(
                rt,
                (json.loads(served_raw(rt, s)) if include == "Object" else s.obj for s in items),
                metadata,
                include,
            )
            return self._render(table, wanted)
        if wanted.as_kind == "PartialObjectMetadataList":
            body = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
                "items": [partial_metadata(s.obj) for s in items],
            }
            return self._render(body, wanted)
        if wanted.format == "yaml":
            body = {
                "kind": rt.list_kind,
                "apiVersion": rt.group_version,
                "metadata": metadata,
                "items": [json.loads(self._item_raw(rt, s)) for s in items],
            }
            return self._render(body, wanted)
        head = (
            b'{"kind":"'
            + rt.list_kind.encode()
            + b'","apiVersion":"'
            + rt.group_version.encode()
            + b'","metadata":'
            + encode(metadata)
            + b',"items":['
        )
        payload = head + b",".join(self._item_raw(rt, s) for s in items) + b"]}"
        return web.Response(body=payload, content_type="application/json")

    @staticmethod
    def _item_raw(rt: ResourceType, stored: Stored) -> bytes:
        raw = served_raw(rt, stored)
        if rt.custom:
            return raw
        # Lists of built-in kinds carry their items without apiVersion/kind, as typed lists do.
        prefix = b'{"apiVersion":"' + rt.group_version.encode() + b'","kind":"' + rt.kind.encode() + b'",'
        return b"{" + raw[len(prefix) :] if raw.startswith(prefix) else raw

    # ------------------------------------------------------------------------------------ rendering

    @staticmethod
    def _json(body: JSON) -> web.Response:
        return web.Response(body=encode(body), content_type="application/json")

    @staticmethod
    def _render(body: JSON, wanted: Negotiated, status: int = 200) -> web.Response:
        if wanted.format == "yaml":
            return web.Response(
                status=status, text=yaml.safe_dump(body, sort_keys=False), content_type="application/yaml"
            )
        return web.Response(status=status, body=encode(body), content_type="application/json")

    def _render_object(
        self, rt: ResourceType, stored: Stored, wanted: Negotiated, status: int = 200
    ) -> web.Response:
        if wanted.as_kind == "Table":
            table = to_table(rt, [stored.obj], {"resourceVersion": str(stored.rv)})
            return self._render(table, wanted, status)
        if wanted.as_kind == "PartialObjectMetadata":
            return self._render(partial_metadata(stored.obj), wanted, status)
        if wanted.format == "yaml":
            return self._render(json.loads(served_raw(rt, stored)), wanted, status)
        return web.Response(status=status, body=served_raw(rt, stored), content_type="application/json")

    def _render_result(self, rt: ResourceType, result: writes.Result, wanted: Negotiated) -> web.Response:
        if result.stored is not None and result.obj.get("kind") == rt.kind:
            return self._render_object(rt, result.stored, wanted, result.code)
        if wanted.as_kind == "Table" and result.obj.get("kind") == rt.kind:
            return self._render(to_table(rt, [result.obj], {}), wanted, result.code)
        return self._render(result.obj, Negotiated(wanted.format), result.code)


def _status_only(subresource: str) -> str:
    return "status" if subresource == "status" else ""
