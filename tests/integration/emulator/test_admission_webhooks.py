"""Admission through real TLS webhook servers started by the test (AdmissionReview v1, caBundle, policies)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from tests.support.emulator_http import WIDGETS, Http, widget
from tests.support.self_signed import Authority, new_authority, serving_context

from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

MUTATING = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
VALIDATING = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"


@dataclass
class WebhookServer:
    port: int
    authority: Authority
    reviews: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ca_bundle(self) -> str:
        return base64.b64encode(self.authority.pem).decode()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"


def _answer(review: dict[str, Any], allowed: bool, **extra: Any) -> web.Response:
    return web.json_response(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], "allowed": allowed, **extra},
        }
    )


@pytest_asyncio.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[WebhookServer]:
    authority = new_authority()
    server = WebhookServer(0, authority)

    async def validate(request: web.Request) -> web.Response:
        review = await request.json()
        server.reviews.append({"path": "/validate", **review})
        obj = review["request"]["object"] or {}
        if (obj.get("spec") or {}).get("size", 0) > 5:
            return _answer(review, False, status={"code": 403, "message": "spec.size must be at most 5"})
        return _answer(review, True, warnings=["validated by the test webhook"])

    async def mutate(request: web.Request) -> web.Response:
        review = await request.json()
        server.reviews.append({"path": "/mutate", **review})
        ops = [
            {"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}},
            {"op": "replace", "path": "/spec/mode", "value": "slow"},
        ]
        return _answer(
            review, True, patchType="JSONPatch", patch=base64.b64encode(json.dumps(ops).encode()).decode()
        )

    app = web.Application()
    app.router.add_post("/validate", validate)
    app.router.add_post("/mutate", mutate)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = serving_context(authority, ["127.0.0.1", "admission.flink.svc"], tmp_path)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield server
    await runner.cleanup()


def configuration(kind: str, name: str, client_config: dict[str, Any], **hook: Any) -> dict[str, Any]:
    webhook_entry = {
        "name": name,
        "clientConfig": client_config,
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "rules": [
            {
                "apiGroups": ["example.com"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["widgets"],
            }
        ],
        **hook,
    }
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": [webhook_entry],
    }


async def register(http: Http, kind: str, name: str, client_config: dict[str, Any], **hook: Any) -> None:
    path = MUTATING if kind.startswith("Mutating") else VALIDATING
    status, body = await http.post(path, configuration(kind, name, client_config, **hook))
    assert status == 201, body


async def test_validating_webhook_denial_is_surfaced_like_the_real_api_server(
    crd_http: Http, webhook: WebhookServer
) -> None:
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "size.example.com",
        {"url": webhook.url("/validate"), "caBundle": webhook.ca_bundle},
    )
    status, body = await crd_http.post(WIDGETS, widget("big", 9))
    assert status == 403
    assert (
        body["message"]
        == 'admission webhook "size.example.com" denied the request: spec.size must be at most 5'
    )
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert (await crd_http.get(f"{WIDGETS}/big"))[0] == 404
    review = webhook.reviews[-1]
    assert review["apiVersion"] == "admission.k8s.io/v1" and review["kind"] == "AdmissionReview"
    request = review["request"]
    assert (request["operation"], request["name"], request["namespace"]) == ("CREATE", "big", "default")
    assert request["kind"] == {"group": "example.com", "version": "v1", "kind": "Widget"}
    assert request["resource"] == {"group": "example.com", "version": "v1", "resource": "widgets"}


async def test_validating_webhook_runs_on_update_and_passes_warnings(
    crd_http: Http, webhook: WebhookServer
) -> None:
    await crd_http.post(WIDGETS, widget("w", 1))
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "size.example.com",
        {"url": webhook.url("/validate"), "caBundle": webhook.ca_bundle},
    )
    status, _ = await crd_http.patch(f"{WIDGETS}/w", {"spec": {"size": 8}})
    assert status == 403
    assert webhook.reviews[-1]["request"]["oldObject"]["spec"]["size"] == 1
    async with crd_http.session.patch(
        crd_http.base + f"{WIDGETS}/w",
        data=json.dumps({"spec": {"size": 2}}),
        headers={"Content-Type": "application/merge-patch+json"},
    ) as response:
        assert response.status == 200
        assert response.headers.getall("Warning") == ['299 - "validated by the test webhook"']


async def test_mutating_webhook_patch_is_applied_before_validation_and_storage(
    crd_http: Http, webhook: WebhookServer
) -> None:
    await register(
        crd_http,
        "MutatingWebhookConfiguration",
        "defaults.example.com",
        {"url": webhook.url("/mutate"), "caBundle": webhook.ca_bundle},
    )
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "size.example.com",
        {"url": webhook.url("/validate"), "caBundle": webhook.ca_bundle},
    )
    status, body = await crd_http.post(WIDGETS, widget("w", 1))
    assert status == 201
    assert body["metadata"]["labels"] == {"mutated": "yes"} and body["spec"]["mode"] == "slow"
    assert [r["path"] for r in webhook.reviews] == ["/mutate", "/validate"]
    assert webhook.reviews[1]["request"]["object"]["spec"]["mode"] == "slow"


async def test_service_reference_is_resolved_through_the_service_address_map(
    crd_http: Http, webhook: WebhookServer, api_server: EmbeddedApiServer
) -> None:
    api_server.hooks.map_service("flink", "admission", 443, f"127.0.0.1:{webhook.port}")
    service = {"namespace": "flink", "name": "admission", "path": "/validate"}
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "size.example.com",
        {"service": service, "caBundle": webhook.ca_bundle},
    )
    status, body = await crd_http.post(WIDGETS, widget("big", 9))
    assert status == 403 and "denied the request" in body["message"]
    assert api_server.hooks.webhook_calls()[-1]["url"] == webhook.url("/validate")


async def test_service_reference_is_resolved_through_its_endpoints(
    crd_http: Http, webhook: WebhookServer
) -> None:
    await crd_http.post("/api/v1/namespaces", {"metadata": {"name": "flink"}})
    await crd_http.post(
        "/api/v1/namespaces/flink/services",
        {
            "metadata": {"name": "admission"},
            "spec": {"ports": [{"port": 443, "targetPort": "https", "name": "https"}]},
        },
    )
    await crd_http.post(
        "/api/v1/namespaces/flink/endpoints",
        {
            "metadata": {"name": "admission"},
            "subsets": [
                {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": webhook.port}]}
            ],
        },
    )
    await register(
        crd_http,
        "MutatingWebhookConfiguration",
        "defaults.example.com",
        {
            "service": {"namespace": "flink", "name": "admission", "path": "/mutate"},
            "caBundle": webhook.ca_bundle,
        },
    )
    status, body = await crd_http.post(WIDGETS, widget("w", 1))
    assert status == 201 and body["spec"]["mode"] == "slow"


async def test_untrusted_certificate_fails_the_call_with_failure_policy_fail(
    crd_http: Http, webhook: WebhookServer
) -> None:
    other = base64.b64encode(new_authority("other-ca").pem).decode()
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "size.example.com",
        {"url": webhook.url("/validate"), "caBundle": other},
    )
    status, body = await crd_http.post(WIDGETS, widget("w", 1))
    assert status == 500 and body["reason"] == "InternalError"
    assert body["message"].startswith(
        'Internal error occurred: failed calling webhook "size.example.com": '
        f'failed to call webhook: Post "{webhook.url("/validate")}"'
    )
    assert webhook.reviews == []


async def test_failure_policy_ignore_admits_when_the_webhook_is_unreachable(crd_http: Http) -> None:
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "down.example.com",
        {"url": "https://127.0.0.1:1/validate"},
        failurePolicy="Ignore",
    )
    assert (await crd_http.post(WIDGETS, widget("w", 1)))[0] == 201


async def test_namespace_selector_limits_which_requests_are_sent(
    crd_http: Http, webhook: WebhookServer
) -> None:
    await crd_http.post("/api/v1/namespaces", {"metadata": {"name": "guarded", "labels": {"guard": "on"}}})
    await register(
        crd_http,
        "ValidatingWebhookConfiguration",
        "size.example.com",
        {"url": webhook.url("/validate"), "caBundle": webhook.ca_bundle},
        namespaceSelector={"matchLabels": {"guard": "on"}},
    )
    assert (await crd_http.post(WIDGETS, widget("free", 9)))[0] == 201
    status, _ = await crd_http.post("/apis/example.com/v1/namespaces/guarded/widgets", widget("big", 9))
    assert status == 403
    assert [r["request"]["namespace"] for r in webhook.reviews] == ["guarded"]


async def test_rules_match_operations_and_subresources(crd_http: Http, webhook: WebhookServer) -> None:
    config = configuration(
        "ValidatingWebhookConfiguration",
        "status.example.com",
        {"url": webhook.url("/validate"), "caBundle": webhook.ca_bundle},
    )
    config["webhooks"][0]["rules"] = [
        {"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["UPDATE"], "resources": ["widgets/status"]}
    ]
    assert (await crd_http.post(VALIDATING, config))[0] == 201
    await crd_http.post(WIDGETS, widget("w", 1))
    await crd_http.patch(f"{WIDGETS}/w", {"spec": {"size": 2}})
    assert webhook.reviews == []
    await crd_http.patch(f"{WIDGETS}/w/status", {"status": {"state": "up"}})
    assert [(r["request"]["operation"], r["request"]["subResource"]) for r in webhook.reviews] == [
        ("UPDATE", "status")
    ]
