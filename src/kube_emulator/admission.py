"""Admission webhooks: calls Mutating- then ValidatingWebhookConfiguration webhooks before a write is stored.

For every CREATE, UPDATE and DELETE (custom and built-in resources, except the webhook
configurations themselves) the matching webhooks are called with an `admission.k8s.io/v1`
AdmissionReview: matching honours `rules` (operations, groups, versions, resources with
subresources, scope), `namespaceSelector` and `objectSelector`. Mutating webhooks run in order, each
seeing the previous one's JSONPatch; validating webhooks run after the object validation. Endpoints
are `clientConfig.url` or `clientConfig.service`, verified against `caBundle` (system roots when it
is empty); a Service reference is resolved, in order, through the explicit address map given to the
emulator (`service_addresses`, keyed by namespace, name and port) and then through the Service's
Endpoints object (its targetPort on the first address), since there is no cluster network. TLS
server names are checked against the URL host, or `<service>.<namespace>.svc` for services. Failures
follow `failurePolicy` (Fail: 500 InternalError; Ignore: the webhook is skipped). Denials surface as
`admission webhook "<name>" denied the request: <message>`.
Not modelled: `matchConditions` (CEL), `matchPolicy: Equivalent` across versions, reinvocation.
"""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from . import errors
from .errors import ApiError
from .patching import PatchError, json_patch
from .selectors import from_label_selector_object, match_labels
from .state import NAMESPACES, ClusterState
from .writes import AdmissionRequest

JSON = dict[str, Any]
MUTATING = ("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
VALIDATING = ("admissionregistration.k8s.io", "validatingwebhookconfigurations")
ServiceKey = tuple[str, str, int]


class WebhookCallError(Exception):
    """The webhook could not be called or answered nonsense (subject to `failurePolicy`)."""


def _rule_matches(rule: JSON, request: AdmissionRequest) -> bool:
    rt = request.rt
    operations = rule.get("operations") or []
    if "*" not in operations and request.operation not in operations:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and rt.group not in groups:
        return False
    versions = rule.get("apiVersions") or []
    if "*" not in versions and rt.version not in versions:
        return False
    scope = rule.get("scope", "*")
    if (scope == "Cluster" and rt.namespaced) or (scope == "Namespaced" and not rt.namespaced):
        return False
    wanted = f"{rt.plural}/{request.subresource}" if request.subresource else rt.plural
    for resource in rule.get("resources") or []:
        if resource == wanted or resource == "*/*":
            return True
        if resource == "*" and not request.subresource:
            return True
        plural, _, sub = resource.partition("/")
        if sub and request.subresource and (plural in ("*", rt.plural)) and sub in ("*", request.subresource):
            return True
    return False


@dataclass
class WebhookAdmission:
    state: ClusterState
    service_addresses: dict[ServiceKey, str] = field(default_factory=dict)
    calls: list[JSON] = field(default_factory=list)
    _session: aiohttp.ClientSession | None = None
    _contexts: dict[str, ssl.SSLContext] = field(default_factory=dict)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ selection

    def _webhooks(self, resource: tuple[str, str], request: AdmissionRequest) -> list[JSON]:
        if request.rt.group == "admissionregistration.k8s.io":
            return []
        hooks = []
        for config in sorted(self.state.store.items(resource), key=lambda s: s.name):
            for hook in config.obj.get("webhooks") or []:
                if self._matches(hook, request):
                    hooks.append(hook)
        return hooks

    def _matches(self, hook: JSON, request: AdmissionRequest) -> bool:
        if not any(_rule_matches(rule, request) for rule in hook.get("rules") or []):
            return False
        objects = [o for o in (request.obj, request.old) if o is not None]
        object_selector = from_label_selector_object(hook.get("objectSelector"))
        if object_selector and not any(
            match_labels(object_selector, (o.get("metadata") or {}).get("labels")) for o in objects
        ):
            return False
        namespace_selector = from_label_selector_object(hook.get("namespaceSelector"))
        if namespace_selector:
            if request.rt.group == "" and request.rt.plural == "namespaces":
                labels = ((objects[0] if objects else {}).get("metadata") or {}).get("labels")
            elif request.rt.namespaced:
                namespace = self.state.store.get(NAMESPACES, "", request.namespace)
                labels = (namespace.obj["metadata"].get("labels") if namespace else None) or {}
            else:
                return True
            if not match_labels(namespace_selector, labels):
                return False
        return True

    # ------------------------------------------------------------------ phases

    async def mutate(self, request: AdmissionRequest) -> JSON:
        obj = request.obj
        assert obj is not None
        for hook in self._webhooks(MUTATING, request):
            request.obj = obj
            response = await self._call_with_policy(hook, request)
            if response is None:
                continue
            patch = response.get("patch")
            if patch:
                if response.get("patchType", "JSONPatch") != "JSONPatch":
                    raise errors.internal(
                        f'failed calling webhook "{hook.get("name")}": unsupported patch '
                        f"type {response.get('patchType')!r}"
                    )
                try:
                    operations = json.loads(base64.b64decode(patch))
                    obj = json_patch(obj, operations)
                except (ValueError, PatchError) as exc:
                    raise errors.internal(
                        f'failed calling webhook "{hook.get("name")}": invalid patch: {exc}'
                    ) from None
        return obj

    async def validate(self, request: AdmissionRequest) -> None:
        for hook in self._webhooks(VALIDATING, request):
            await self._call_with_policy(hook, request)

    async def _call_with_policy(self, hook: JSON, request: AdmissionRequest) -> JSON | None:
        name = str(hook.get("name", ""))
        try:
            response = await self._call(hook, request)
        except WebhookCallError as exc:
            if hook.get("failurePolicy", "Fail") == "Ignore":
                return None
            raise ApiError(
                500,
                "InternalError",
                f'Internal error occurred: failed calling webhook "{name}": {exc}',
                {"causes": [{"message": f'failed calling webhook "{name}": {exc}'}]},
            ) from None
        request.warnings.extend(str(w) for w in response.get("warnings") or [])
        if not response.get("allowed"):
            raise _denial(name, response.get("status"))
        return response

    # ------------------------------------------------------------------ transport

    def _endpoint(self, client_config: JSON) -> tuple[str, str]:
        """(URL to post to, TLS server name to verify)."""
        if client_config.get("url"):
            url = str(client_config["url"])
            return url, URL(url).host or ""
        service = client_config.get("service")
        if not isinstance(service, dict):
            raise WebhookCallError("clientConfig has neither url nor service")
        namespace, name = service.get("namespace", ""), service.get("name", "")
        port = int(service.get("port", 443))
        path = service.get("path") or "/"
        address = self.service_addresses.get((namespace, name, port)) or self._from_endpoints(
            namespace, name, port
        )
        if not address:
            raise WebhookCallError(
                f'failed to call webhook: service "{namespace}/{name}" port {port} has no '
                f"address: map it with the emulator's service addresses or give it Endpoints"
            )
        return f"https://{address}{path}", f"{name}.{namespace}.svc"

    def _from_endpoints(self, namespace: str, name: str, port: int) -> str:
        service = self.state.store.get(("", "services"), namespace, name)
        endpoints = self.state.store.get(("", "endpoints"), namespace, name)
        if service is None or endpoints is None:
            return ""
        target: Any = port
        for entry in (service.obj.get("spec") or {}).get("ports") or []:
            if entry.get("port") == port:
                target = entry.get("targetPort", port)
        for subset in endpoints.obj.get("subsets") or []:
            addresses = subset.get("addresses") or []
            for entry in subset.get("ports") or []:
                if addresses and (entry.get("port") == target or entry.get("name") == target):
                    return f"{addresses[0].get('ip')}:{entry.get('port')}"
        return ""

    def _ssl(self, ca_bundle: str) -> ssl.SSLContext:
        context = self._contexts.get(ca_bundle)
        if context is None:
            if ca_bundle:
                try:
                    pem = base64.b64decode(ca_bundle).decode()
                    context = ssl.create_default_context(cadata=pem)
                except (ValueError, ssl.SSLError) as exc:
                    raise WebhookCallError(f"invalid caBundle: {exc}") from None
            else:
                context = ssl.create_default_context()
            self._contexts[ca_bundle] = context
        return context

    def _review(self, request: AdmissionRequest) -> JSON:
        rt = request.rt
        kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        resource = {"group": rt.group, "version": rt.version, "resource": rt.plural}
        body: JSON = {
            "uid": str(uuid.uuid4()),
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": request.name,
            "operation": request.operation,
            "userInfo": {
                "username": "kubernetes-admin",
                "groups": ["system:masters", "system:authenticated"],
            },
            "object": request.obj,
            "oldObject": request.old,
            "dryRun": request.dry_run,
            "options": request.options,
        }
        if request.subresource:
            body["subResource"] = body["requestSubResource"] = request.subresource
        if rt.namespaced:
            body["namespace"] = request.namespace
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": body}

    async def _call(self, hook: JSON, request: AdmissionRequest) -> JSON:
        versions = hook.get("admissionReviewVersions") or []
        if "v1" not in versions:
            raise WebhookCallError(f"admissionReviewVersions {versions} does not include v1")
        client_config = hook.get("clientConfig") or {}
        url, server_name = self._endpoint(client_config)
        review = self._review(request)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        context: ssl.SSLContext | bool = (
            self._ssl(str(client_config.get("caBundle") or "")) if url.startswith("https://") else False
        )
        timeout = aiohttp.ClientTimeout(total=float(hook.get("timeoutSeconds", 10)))
        self.calls.append({"webhook": hook.get("name"), "url": url, "review": review})
        try:
            async with self._session.post(
                url,
                json=review,
                ssl=context,
                timeout=timeout,
                server_hostname=server_name if context else None,
            ) as response:
                text = await response.text()
                if response.status != 200:
                    raise WebhookCallError(
                        f"failed to call webhook: the server responded with status "
                        f"{response.status}: {text[:200]}"
                    )
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as exc:
            detail = (
                "context deadline exceeded"
                if isinstance(exc, TimeoutError)
                else str(exc) or type(exc).__name__
            )
            raise WebhookCallError(f'failed to call webhook: Post "{url}": {detail}') from None
        try:
            answer = json.loads(text)
            result = answer["response"]
        except (ValueError, KeyError, TypeError):
            raise WebhookCallError(
                "received invalid webhook response: expected an AdmissionReview with a response"
            ) from None
        if result.get("uid") != review["request"]["uid"]:
            raise WebhookCallError(
                f"received invalid webhook response: expected response.uid="
                f"{review['request']['uid']!r}, got {result.get('uid')!r}"
            )
        return result  # type: ignore[no-any-return]


def _denial(name: str, status: Any) -> ApiError:
    status = status if isinstance(status, dict) else {}
    code = int(status.get("code") or 0)
    if code < 400:
        code = 400
    denied = f'admission webhook "{name}" denied the request'
    if status.get("message"):
        message = f"{denied}: {status['message']}"
    elif status.get("reason"):
        message = f"{denied}: {status['reason']}"
    else:
        message = f"{denied} without explanation"
    return ApiError(code, str(status.get("reason") or ""), message, status.get("details"))
