"""The rendered chart applied with kubectl to the API emulator (every object accepted), and then the chart's
own webhook configurations, Service name and configuration file driving a real webhook: the certificate it
manages is trusted through the `caBundle` it patched into the installed configurations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import ApiError, AsyncClient, KubeConfig
from tests.support.admission_reviews import plugin_host
from tests.support.helm_chart import CHART, RELEASE_NAMESPACE, config_yaml, render
from tests.support.resource_builders import application, with_field

from flink_operator.config import load_declared_options, load_default_configuration
from flink_operator.runtime import KubeApi
from flink_operator.runtime.kinds import Kind
from flink_operator.webhook import WebhookServer
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
FLINK_DEPLOYMENT = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")


async def kubectl(kubeconfig: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "kubectl", "--kubeconfig", str(kubeconfig), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def install(api_kubeconfig: Path, tmp_path: Path, values: JSON, namespaces: list[str]) -> list[JSON]:
    objects = render(values)
    namespace_docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in namespaces]
    (tmp_path / "namespaces.yaml").write_text(yaml.safe_dump_all(namespace_docs))
    (tmp_path / "chart.yaml").write_text(yaml.safe_dump_all(objects))
    for manifest in (tmp_path / "namespaces.yaml", CHART / "crds", tmp_path / "chart.yaml"):
        code, output = await kubectl(api_kubeconfig, "apply", "-f", str(manifest))
        assert code == 0, output
    return objects


@pytest.mark.parametrize(
    ("values", "namespaces"),
    [
        ({}, [RELEASE_NAMESPACE]),
        ({"watchNamespaces": ["team-a", "team-b"]}, [RELEASE_NAMESPACE, "team-a", "team-b"]),
    ],
    ids=["defaults", "watched-namespaces"],
)
async def test_every_rendered_object_is_accepted(
    api_server: EmbeddedApiServer, api_kubeconfig: Path, tmp_path: Path, values: JSON, namespaces: list[str]
) -> None:
    objects = await install(api_kubeconfig, tmp_path, values, namespaces)
    for obj in objects:
        api_version, kind, metadata = obj["apiVersion"], obj["kind"], obj["metadata"]
        stored = api_server.hooks.get(api_version, kind, metadata["name"], metadata.get("namespace", ""))
        assert stored is not None, f"{kind} {metadata.get('namespace', '')}/{metadata['name']} was not stored"
    for crd in ("flinkdeployments", "flinksessionjobs", "flinkstatesnapshots"):
        assert api_server.hooks.get(
            "apiextensions.k8s.io/v1", "CustomResourceDefinition", f"{crd}.flink.apache.org"
        ) is not None


async def test_installed_webhook_configurations_work_with_the_self_managed_certificate(
    api_server: EmbeddedApiServer, api_kubeconfig: Path, tmp_path: Path
) -> None:
    objects = await install(api_kubeconfig, tmp_path, {}, [RELEASE_NAMESPACE, "default"])
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "config.yaml").write_text(config_yaml(objects))
    load_declared_options()
    configuration = load_default_configuration({"FLINK_CONF_DIR": str(conf_dir)}).configuration
    client = AsyncClient(KubeConfig.from_file(api_kubeconfig))
    user = KubeApi(AsyncClient(KubeConfig.from_file(api_kubeconfig)), user_agent="test-user")
    plugins = plugin_host(tmp_path=tmp_path)
    server = WebhookServer.from_config(
        plugins, configuration, client, namespace=RELEASE_NAMESPACE, host="127.0.0.1", port=0
    )
    await server.start()
    api_server.hooks.map_service(RELEASE_NAMESPACE, "flink-operator-webhook-service", 443,
                                 f"127.0.0.1:{server.port}")
    try:
        bad = with_field(application("bad"), "spec.job.parallelism", 0)
        with pytest.raises(ApiError) as refused:
            await user.create(FLINK_DEPLOYMENT, bad, "default")
        assert "spec.job.parallelism" in str(refused.value.status.message)
        created = await user.create(FLINK_DEPLOYMENT, application("good"), "default")
        assert created["metadata"]["name"] == "good"
        # A `helm upgrade` re-applies the configurations without caBundle; the bundle must survive it.
        code, output = await kubectl(api_kubeconfig, "apply", "-f", str(tmp_path / "chart.yaml"))
        assert code == 0, output
        await user.create(FLINK_DEPLOYMENT, application("after-upgrade"), "default")
    finally:
        await server.stop()
        await plugins.aclose()
        await client.close()
        await user.client.close()
