"""`/validate` and `/mutate` through aiohttp's test client: every validator message with its field, canaries,
operations that are not checked, patches (and no patch when nothing changed), malformed requests, unknown
paths, failed lookups and secrets kept out of answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.support.admission_reviews import decoded_patch, plugin_host, review_request
from tests.support.resource_builders import (
    application,
    savepoint_snapshot,
    session_cluster,
    session_job,
    with_config,
    with_field,
)

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot, parse_resource
from flink_operator.plugins._host import PluginHost
from flink_operator.webhook import Admission, LookupFailed, build_app
from flink_operator.webhook.json_patch import apply

pytestmark = pytest.mark.unit

CLASSES = "tests.support.plugin_classes"

JSON = dict[str, Any]


class FakeLookup:
    """Related resources from a dict; `fail` makes every lookup fail as a timed-out GET would."""

    def __init__(self, *documents: JSON, fail: bool = False) -> None:
        self.found: dict[tuple[str, str], Any] = {}
        for document in documents:
            parsed = parse_resource(document, check_pod_templates=False)
            assert not isinstance(parsed, list)
            self.found[(document["kind"], document["metadata"]["name"])] = parsed
        self.fail = fail

    def _get(self, kind: str, name: str, namespace: str) -> Any:
        if self.fail:
            raise LookupFailed(f"{kind} {namespace}/{name}", "no answer within 2 s")
        return self.found.get((kind, name))

    async def session_of(self, session_job: FlinkSessionJob, namespace: str) -> FlinkDeployment | None:
        name = session_job.spec.deployment_name or ""
        return self._get("FlinkDeployment", name, namespace)  # type: ignore[no-any-return]

    async def target_of(self, snapshot: FlinkStateSnapshot, namespace: str) -> Any:
        reference = snapshot.spec.job_reference
        assert reference is not None and reference.kind is not None
        return self._get(reference.kind.value, reference.name or "", namespace)


async def client_for(plugins: PluginHost, lookup: Any = None) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(Admission(plugins, lookup))))
    await client.start_server()
    return client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    plugins = plugin_host(tmp_path=tmp_path)
    client = await client_for(plugins, FakeLookup(session_cluster()))
    yield client
    await client.close()
    await plugins.aclose()


async def post(client: TestClient[Any, Any], path: str, review: JSON) -> JSON:
    response = await client.post(path, json=review)
    assert response.status == 200, await response.text()
    answer: JSON = await response.json()
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    assert answer["response"]["uid"] == review["request"]["uid"]
    decided: JSON = answer["response"]
    return decided


# --- /validate ------------------------------------------------------------------------------------------


async def test_valid_deployment_is_allowed(client: TestClient[Any, Any]) -> None:
    response = await post(client, "/validate", review_request(application()))
    assert response["allowed"] is True and "status" not in response


async def test_every_problem_is_reported_with_its_field(client: TestClient[Any, Any]) -> None:
    bad = with_field(application(), "spec.job.parallelism", 0)
    bad = with_field(bad, "spec.jobManager.replicas", 0)
    bad = with_config(bad, {"kubernetes.cluster-id": "x"})
    response = await post(client, "/validate", review_request(bad))
    assert response["allowed"] is False
    status = response["status"]
    assert status["code"] == 400 and status["reason"] == "Invalid"
    message = status["message"]
    cluster_id = 'spec.flinkConfiguration["kubernetes.cluster-id"]'
    fields = ("spec.job.parallelism", "spec.jobManager.replicas", cluster_id)
    for field in fields:
        assert field in message, message


async def test_schema_problems_name_their_fields(client: TestClient[Any, Any]) -> None:
    bad = with_field(application(), "spec.job.parallelism", "two")
    bad = with_field(bad, "spec.unknownField", 1)
    response = await post(client, "/validate", review_request(bad))
    assert response["allowed"] is False
    assert "spec.job.parallelism: expected an integer" in response["status"]["message"]
    assert "spec.unknownField: unknown field" in response["status"]["message"]


async def test_plugin_validator_messages_are_reported_alongside_the_default_ones(tmp_path: Path) -> None:
    plugins = plugin_host(
        {
            "kubernetes.operator.plugins.validators.strict.class": f"{CLASSES}:RejectingValidator",
            "kubernetes.operator.plugins.validators.strict.message": "team policy: no deployments today",
        },
        tmp_path=tmp_path,
    )
    client = await client_for(plugins)
    try:
        bad = with_field(application(), "spec.job.parallelism", 0)
        message = (await post(client, "/validate", review_request(bad)))["status"]["message"]
    finally:
        await client.close()
        await plugins.aclose()
    assert "spec.job.parallelism" in message
    assert "[strict] team policy: no deployments today" in message


async def test_canary_is_always_allowed(client: TestClient[Any, Any]) -> None:
    canary = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "canary", "namespace": "default", "labels": {"flink.apache.org/canary": "true"}},
        "spec": {"job": {"parallelism": "not even a number"}},
    }
    assert (await post(client, "/validate", review_request(canary)))["allowed"] is True
    assert decoded_patch({"response": await post(client, "/mutate", review_request(canary))}) == []


@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
async def test_delete_and_connect_are_allowed(client: TestClient[Any, Any], operation: str) -> None:
    bad = with_field(application(), "spec.job.parallelism", 0)
    request = review_request(None, old=bad, operation=operation)
    assert (await post(client, "/validate", request))["allowed"] is True
    assert (await post(client, "/mutate", request))["allowed"] is True


async def test_other_kinds_are_refused(client: TestClient[Any, Any]) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}}
    response = await post(client, "/validate", review_request(pod, group=""))
    assert response["allowed"] is False
    assert response["status"]["message"] == "Unexpected resource: Pod"


async def test_session_job_is_validated_against_its_session_cluster(client: TestClient[Any, Any]) -> None:
    assert (await post(client, "/validate", review_request(session_job())))["allowed"] is True
    orphan = session_job(deployment="missing")
    # Without the cluster only the cluster-independent rules apply; the job itself is fine.
    assert (await post(client, "/validate", review_request(orphan)))["allowed"] is True
    on_application = session_job(deployment="app")
    plugins = plugin_host()
    other = await client_for(plugins, FakeLookup(application("app")))
    try:
        response = await post(other, "/validate", review_request(on_application))
    finally:
        await other.close()
        await plugins.aclose()
    assert response["allowed"] is False and "spec.deploymentName" in response["status"]["message"]


async def test_snapshot_without_its_target_is_refused(client: TestClient[Any, Any]) -> None:
    response = await post(client, "/validate", review_request(savepoint_snapshot(target="nothing")))
    assert response["allowed"] is False
    assert "nothing" in response["status"]["message"] and "not found" in response["status"]["message"]


async def test_failed_lookup_refuses_with_a_retryable_status(tmp_path: Path) -> None:
    plugins = plugin_host(tmp_path=tmp_path)
    client = await client_for(plugins, FakeLookup(fail=True))
    try:
        response = await post(client, "/validate", review_request(session_job()))
        mutated = await post(client, "/mutate", review_request(session_job()))
    finally:
        await client.close()
        await plugins.aclose()
    assert response["allowed"] is False
    assert response["status"]["code"] == 503
    assert "FlinkDeployment default/session" in response["status"]["message"]
    # Mutation still happens (the default mutator needs no session) and says what it missed.
    assert mutated["allowed"] is True and decoded_patch({"response": mutated})
    assert any("without the session cluster" in w for w in mutated["warnings"])


async def test_secrets_do_not_appear_in_refusals(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flink_operator")
    bad = with_config(application(), {"s3.secret-key": "hunter2-very-secret"})
    bad = with_field(bad, "spec.job.parallelism", "hunter2-very-secret")
    response = await post(client, "/validate", review_request(bad))
    assert response["allowed"] is False
    assert "spec.job.parallelism" in response["status"]["message"]
    assert "hunter2-very-secret" not in response["status"]["message"]
    assert "hunter2-very-secret" not in caplog.text


# --- /mutate --------------------------------------------------------------------------------------------


async def test_session_job_gets_its_target_session_label(client: TestClient[Any, Any]) -> None:
    document = session_job()
    response = await post(client, "/mutate", review_request(document))
    assert response["allowed"] is True
    operations = decoded_patch({"response": response})
    assert operations == [{"op": "add", "path": "/metadata/labels", "value": {"target.session": "session"}}]
    assert apply(document, operations)["metadata"]["labels"] == {"target.session": "session"}


async def test_nothing_changed_means_no_patch_at_all(client: TestClient[Any, Any]) -> None:
    labelled = with_field(session_job(), "metadata.labels", {"target.session": "session"})
    for document in (application(), labelled):
        response = await post(client, "/mutate", review_request(document, operation="UPDATE", old=document))
        assert response == {"uid": response["uid"], "allowed": True}


async def test_plugin_mutator_change_is_patched_and_a_failing_one_is_named(tmp_path: Path) -> None:
    plugins = plugin_host(
        {
            "kubernetes.operator.plugins.mutators.team.class": f"{CLASSES}:LabelMutator",
            "kubernetes.operator.plugins.mutators.team.label": "team",
            "kubernetes.operator.plugins.mutators.team.value": "data-platform",
            "kubernetes.operator.plugins.mutators.broken.class": f"{CLASSES}:HalfWayRaisingMutator",
        },
        tmp_path=tmp_path,
    )
    client = await client_for(plugins)
    try:
        document = application()
        response = await post(client, "/mutate", review_request(document))
    finally:
        await client.close()
        await plugins.aclose()
    operations = decoded_patch({"response": response})
    assert apply(document, operations)["metadata"]["labels"] == {"team": "data-platform"}
    assert any("broken" in warning for warning in response["warnings"])


async def test_unparsable_document_is_left_to_the_validating_webhook(client: TestClient[Any, Any]) -> None:
    bad = with_field(session_job(), "spec.job.parallelism", "two")
    response = await post(client, "/mutate", review_request(bad))
    assert response["allowed"] is True and "patch" not in response
    refused = await post(client, "/validate", review_request(bad))
    assert refused["allowed"] is False and "spec.job.parallelism" in refused["status"]["message"]


# --- HTTP errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "expected an AdmissionReview object"),
        (b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {}}',
         "apiVersion"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "request"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", '
         b'"request": {"operation": "CREATE"}}', "request.uid"),
    ],
)
async def test_malformed_reviews_get_400_naming_the_fault(
    client: TestClient[Any, Any], body: bytes, fault: str
) -> None:
    response = await client.post("/validate", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert fault in await response.text()


async def test_unknown_path_is_404_and_wrong_method_405(client: TestClient[Any, Any]) -> None:
    response = await client.post("/validatee", json=review_request(application()))
    assert response.status == 404 and "/validate" in await response.text()
    response = await client.get("/mutate")
    assert response.status == 405 and response.headers["Allow"] == "POST"


async def test_an_unexpected_failure_is_500_without_details(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    class Exploding(Admission):
        async def validate(self, request: Any) -> JSON:
            raise RuntimeError("secret-laden detail")

    plugins = plugin_host()
    broken: TestClient[Any, Any] = TestClient(TestServer(build_app(Exploding(plugins))))
    await broken.start_server()
    try:
        response = await broken.post("/validate", json=review_request(application()))
        text = await response.text()
    finally:
        await broken.close()
        await plugins.aclose()
    assert response.status == 500 and text.strip() == "admission failed: RuntimeError"
    assert "secret-laden detail" in caplog.text  # the trace goes to the log only
