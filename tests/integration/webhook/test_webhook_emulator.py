"""The webhook behind the API emulator, over real TLS verified against the `caBundle` the webhook patched in:
refusals shown by kubectl with the field named, mutations stored (default mutator and an installed plugin
package), certificates created, renewed and restored by the webhook itself, and two replicas agreeing."""

from __future__ import annotations

import asyncio
import base64
import datetime
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType
from tests.support.admission_reviews import plugin_host, webhook_configurations
from tests.support.conditions import until
from tests.support.resource_builders import application, session_cluster, session_job, with_field

from flink_operator.config import Configuration
from flink_operator.plugins._host import PluginHost
from flink_operator.webhook import WebhookServer, WebhookSettings
from flink_operator.webhook.certificates import CertificateSet, issue_serving, new_ca, serial_number
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
REPO = Path(__file__).resolve().parents[3]
NAMESPACE = "flink-ops"
SERVICE = "flink-operator-webhook-service"
CONFIGURATION = f"flink-operator-{NAMESPACE}-webhook-configuration"
DAY = datetime.timedelta(days=1)

RESOURCES = {
    "FlinkDeployment": create_namespaced_resource("flink.apache.org", "v1beta1", "FlinkDeployment",
                                                  "flinkdeployments"),
    "FlinkSessionJob": create_namespaced_resource("flink.apache.org", "v1beta1", "FlinkSessionJob",
                                                  "flinksessionjobs"),
}


async def create(client: AsyncClient, document: JSON) -> JSON:
    """Create a Flink resource through the API (so through the webhooks); the stored object."""
    created = await client.create(RESOURCES[document["kind"]].from_dict(document))
    return dict(created.to_dict())


@pytest.fixture
async def cluster(api_server: EmbeddedApiServer) -> EmbeddedApiServer:
    for crd in sorted((REPO / "deploy" / "crds").glob("*.yaml")):
        await api_server.hooks.create(yaml.safe_load(crd.read_text()))
    await api_server.hooks.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    for configuration in webhook_configurations(NAMESPACE):
        await api_server.hooks.create(configuration)
    return api_server


@pytest.fixture
async def client(api_kubeconfig: Path) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(KubeConfig.from_file(api_kubeconfig))
    yield client
    await client.close()


def settings(**overrides: Any) -> WebhookSettings:
    base = WebhookSettings.from_config(Configuration({}), NAMESPACE)
    return replace(base, host="127.0.0.1", port=0, **overrides)


async def start_webhook(
    cluster: EmbeddedApiServer, client: AsyncClient, plugins: PluginHost, **overrides: Any
) -> WebhookServer:
    server = WebhookServer(plugins, settings(**overrides), client=client)
    await server.start()
    cluster.hooks.map_service(NAMESPACE, SERVICE, 443, f"127.0.0.1:{server.port}")
    return server


def ca_bundles(cluster: EmbeddedApiServer) -> list[bytes]:
    bundles = []
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        stored = cluster.hooks.get("admissionregistration.k8s.io/v1", kind, CONFIGURATION)
        assert stored is not None
        for webhook in stored["webhooks"]:
            bundles.append(base64.b64decode(webhook["clientConfig"].get("caBundle") or ""))
    return bundles


def stored_secret(cluster: EmbeddedApiServer) -> CertificateSet:
    secret = cluster.hooks.get("v1", "Secret", "flink-operator-webhook-cert", NAMESPACE)
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    return CertificateSet.from_secret_data({k: base64.b64decode(v) for k, v in secret["data"].items()})


async def kubectl(kubeconfig: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "kubectl", "--kubeconfig", str(kubeconfig), *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(stdin.encode())
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_refusals_and_mutations_through_the_api_server(
    cluster: EmbeddedApiServer, client: AsyncClient, api_kubeconfig: Path, tmp_path: Path
) -> None:
    plugins = plugin_host(tmp_path=tmp_path)
    server = await start_webhook(cluster, client, plugins)
    try:
        # The certificate was created in a Secret and its CA announced to both configurations.
        certificates = stored_secret(cluster)
        assert ca_bundles(cluster) == [certificates.ca_cert, certificates.ca_cert]

        bad = with_field(application("orders"), "spec.job.parallelism", 0)
        bad = with_field(bad, "spec.serviceAccount", "")
        code, output = await kubectl(api_kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(bad))
        assert code != 0
        assert 'admission webhook "validationwebhook.flink.apache.org" denied the request' in output
        assert "spec.job.parallelism" in output and "spec.serviceAccount" in output, output
        assert cluster.hooks.get("flink.apache.org/v1beta1", "FlinkDeployment", "orders", "default") is None

        session = yaml.safe_dump(session_cluster())
        code, output = await kubectl(api_kubeconfig, "apply", "-f", "-", stdin=session)
        assert code == 0, output
        created = await create(client, session_job())
        assert created["metadata"]["labels"] == {"target.session": "session"}
        stored = cluster.hooks.get("flink.apache.org/v1beta1", "FlinkSessionJob", "job", "default")
        assert stored is not None and stored["metadata"]["labels"] == {"target.session": "session"}

        # A session job on an application cluster is refused: the webhook read the FlinkDeployment.
        await create(client, application("app"))
        with pytest.raises(ApiError) as refused:
            await create(client, session_job("on-app", deployment="app"))
        assert "spec.deploymentName" in str(refused.value.status.message)
        # Five creations, each through both webhooks once (the refused ones included).
        calls = [call["webhook"] for call in cluster.hooks.webhook_calls()]
        assert calls == ["mutationwebhook.flink.apache.org", "validationwebhook.flink.apache.org"] * 5
    finally:
        await server.stop()
        await plugins.aclose()


async def test_an_installed_plugin_mutators_change_is_stored(
    cluster: EmbeddedApiServer, client: AsyncClient, tmp_path: Path
) -> None:
    # The sample package (tests/plugin_packages/sample_plugins) is found through its entry points.
    plugins = plugin_host(
        {"kubernetes.operator.plugins.mutators.sample-team-annotation.team": "streaming"},
        tmp_path=tmp_path, entry_points=None,
    )
    server = await start_webhook(cluster, client, plugins)
    try:
        enforced = with_field(application("billing"), "metadata.labels",
                              {"sample-plugins/enforce": "true", "owner": "ana"})
        await create(client, enforced)
        stored = cluster.hooks.get("flink.apache.org/v1beta1", "FlinkDeployment", "billing", "default")
        assert stored is not None
        assert stored["metadata"]["annotations"] == {"sample-plugins/team": "streaming"}
        # And the sample validator's refusal comes back attributed to it.
        ownerless = with_field(application("nobody"), "metadata.labels", {"sample-plugins/enforce": "true"})
        with pytest.raises(ApiError) as refused:
            await create(client, ownerless)
        assert "[sample-owner-label] FlinkDeployment nobody needs an 'owner' label" in str(
            refused.value.status.message
        )
    finally:
        await server.stop()
        await plugins.aclose()


async def test_expired_certificate_is_replaced_at_start(
    cluster: EmbeddedApiServer, client: AsyncClient, tmp_path: Path
) -> None:
    names = settings().dns_names
    then = datetime.datetime.now(datetime.UTC) - 3 * DAY
    ca_cert, ca_key = new_ca("old", then, 2 * DAY)
    tls_cert, tls_key = issue_serving(ca_cert, ca_key, names, then, DAY)
    expired = CertificateSet(ca_cert, ca_key, tls_cert, tls_key)
    await client.create(Secret(
        metadata=ObjectMeta(name="flink-operator-webhook-cert", namespace=NAMESPACE),
        type="kubernetes.io/tls",
        data={k: base64.b64encode(v).decode() for k, v in expired.to_secret_data().items()},
    ))
    plugins = plugin_host(tmp_path=tmp_path)
    server = await start_webhook(cluster, client, plugins)
    try:
        renewed = stored_secret(cluster)
        assert renewed.ca_cert != ca_cert and renewed.previous_ca_cert is None  # expired CAs are not kept
        assert ca_bundles(cluster) == [renewed.ca_cert, renewed.ca_cert]
        await create(client, application("after"))
    finally:
        await server.stop()
        await plugins.aclose()


async def test_rotation_while_serving(
    cluster: EmbeddedApiServer, client: AsyncClient, tmp_path: Path
) -> None:
    plugins = plugin_host(tmp_path=tmp_path)
    server = await start_webhook(cluster, client, plugins)
    secret_api = server.certificates
    assert secret_api is not None
    names = server.settings.dns_names
    now = datetime.datetime.now(datetime.UTC)

    async def store(certificates: CertificateSet) -> None:
        current = await secret_api.secret.read()
        assert current is not None
        await secret_api.secret.replace(certificates, current.resource_version)

    try:
        first = stored_secret(cluster)
        # 1. The serving certificate is about to expire: a new one from the same CA, caBundle unchanged.
        hour = datetime.timedelta(hours=1)
        tls_cert, tls_key = issue_serving(first.ca_cert, first.ca_key, names, now, hour)
        await store(CertificateSet(first.ca_cert, first.ca_key, tls_cert, tls_key))
        await server.check_certificates()
        second = stored_secret(cluster)
        assert second.ca_cert == first.ca_cert and second.tls_cert not in (first.tls_cert, tls_cert)
        assert server.tls.loaded_certificate == second.tls_cert
        assert ca_bundles(cluster) == [first.ca_cert, first.ca_cert]
        await create(client, application("one"))

        # 2. The CA is about to expire: a new CA, and the bundle trusts both until the old one expires.
        ca_cert, ca_key = new_ca("short-lived", now, datetime.timedelta(hours=2))
        tls_cert, tls_key = issue_serving(ca_cert, ca_key, names, now, datetime.timedelta(hours=1))
        await store(CertificateSet(ca_cert, ca_key, tls_cert, tls_key))
        await server.check_certificates()
        third = stored_secret(cluster)
        assert third.ca_cert != ca_cert and third.previous_ca_cert == ca_cert
        bundle = ca_bundles(cluster)[0]
        assert third.ca_cert.strip() in bundle and ca_cert.strip() in bundle
        assert serial_number(server.tls.loaded_certificate or b"") == serial_number(third.tls_cert)
        await create(client, application("two"))
    finally:
        await server.stop()
        await plugins.aclose()


async def test_wiped_ca_bundle_is_restored_by_the_periodic_check(
    cluster: EmbeddedApiServer, client: AsyncClient, tmp_path: Path
) -> None:
    plugins = plugin_host(tmp_path=tmp_path)
    server = await start_webhook(cluster, client, plugins, check_interval=datetime.timedelta(seconds=0.1))
    try:
        from lightkube.resources.admissionregistration_v1 import ValidatingWebhookConfiguration

        await client.patch(
            ValidatingWebhookConfiguration, CONFIGURATION,
            [{"op": "replace", "path": "/webhooks/0/clientConfig/caBundle", "value": "Cg=="}],
            patch_type=PatchType.JSON,
        )
        ca = stored_secret(cluster).ca_cert
        await until(lambda: ca_bundles(cluster)[0] == ca, within=5, what="caBundle restored")
        await create(client, application("restored"))
    finally:
        await server.stop()
        await plugins.aclose()


async def test_two_replicas_starting_together_serve_one_certificate(
    cluster: EmbeddedApiServer, client: AsyncClient, tmp_path: Path
) -> None:
    plugins = plugin_host(tmp_path=tmp_path)
    first = WebhookServer(plugins, settings(), client=client)
    second = WebhookServer(plugins, settings(), client=client)
    await asyncio.gather(first.start(), second.start())
    try:
        assert first.certificates is not None and second.certificates is not None
        assert first.certificates.renewals + second.certificates.renewals == 1
        stored = stored_secret(cluster)
        assert first.tls.loaded_certificate == second.tls.loaded_certificate == stored.tls_cert
        cluster.hooks.map_service(NAMESPACE, SERVICE, 443, f"127.0.0.1:{second.port}")
        await create(client, application("replicated"))
    finally:
        await asyncio.gather(first.stop(), second.stop())
        await plugins.aclose()
