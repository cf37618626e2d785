"""`local status`: what runs in a local-mode state directory, read from the API and the local runtime.

For each FlinkDeployment and FlinkSessionJob: kind, namespace, name, lifecycle state, job state, JobManager
status and the Flink REST / Web UI URL (``status.clusterInfo.rest-url``, else the local cluster record).
Also the local Flink clusters themselves (so clusters kept with `--keep-clusters` show even while the API
is down) and whether `local up` and the emulator run. Reading never changes anything.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from lightkube import AsyncClient, KubeConfig

from flink_operator.flink.local import processes
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.local_mode import emulator_process, instance
from flink_operator.local_mode.layout import LocalPaths
from flink_operator.local_mode.progress import view_of
from flink_operator.local_mode.watcher import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from flink_operator.runtime import KubeApi


@dataclass(frozen=True)
class ResourceStatus:
    kind: str
    namespace: str
    name: str
    lifecycle_state: str | None
    job_state: str | None
    job_manager_status: str | None
    rest_url: str | None
    error: str | None


@dataclass(frozen=True)
class ClusterStatus:
    namespace: str
    name: str
    mode: str
    running: bool
    rest_url: str
    flink_version: str


@dataclass
class StatusReport:
    state_dir: str
    running: bool
    pid: int | None = None
    phase: str | None = None
    api_server: str | None = None
    kubeconfig: str | None = None
    resources: list[ResourceStatus] = field(default_factory=list)
    flink_clusters: list[ClusterStatus] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Camel-cased keys, as Kubernetes tools show fields (`restUrl`, `lifecycleState`)."""
        converted: dict[str, Any] = _camel(asdict(self))
        return converted

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _clusters(paths: LocalPaths) -> list[ClusterStatus]:
    service = LocalFlinkService(LocalFlinkSettings(state_dir=paths.flink))
    found = []
    for record in service.list_clusters():
        jm = record.process("jobmanager")
        found.append(
            ClusterStatus(
                namespace=record.ref.namespace,
                name=record.ref.name,
                mode=str(record.mode.value),
                running=jm is not None and processes.is_running(jm),
                rest_url=record.rest_url,
                flink_version=record.flink_version,
            )
        )
    return found


async def _resources(url_kubeconfig: str) -> list[dict[str, Any]]:
    client = AsyncClient(KubeConfig.from_file(url_kubeconfig))
    try:
        api = KubeApi(client, user_agent="flink-operator-local-status")
        documents: list[dict[str, Any]] = []
        for kind in (FLINK_DEPLOYMENT, FLINK_SESSION_JOB):
            _, items = await api.list_raw(kind)
            for raw in items:
                document = json.loads(raw)
                document.setdefault("kind", kind.kind)
                documents.append(document)
        return documents
    finally:
        await client.close()


async def collect_status(paths: LocalPaths, *, within: float = 10.0) -> StatusReport:
    holder = instance.holder(paths)
    report = StatusReport(
        state_dir=str(paths.root),
        running=holder is not None,
        pid=holder.pid if holder else None,
        phase=holder.phase if holder else None,
    )
    report.flink_clusters = await asyncio.to_thread(_clusters, paths)
    emulator = await asyncio.to_thread(emulator_process.running, paths)
    if emulator is None:
        if report.running:
            report.problems.append("the Kubernetes API emulator does not answer")
        return report
    report.api_server = emulator.url
    report.kubeconfig = str(emulator.kubeconfig)
    try:
        documents = await asyncio.wait_for(_resources(str(emulator.kubeconfig)), within)
    except Exception as error:
        report.problems.append(f"reading resources from {emulator.url} failed: {error}")
        return report
    report.resources = resource_statuses(documents, report.flink_clusters)
    return report


def resource_statuses(documents: list[dict[str, Any]], clusters: list[ClusterStatus]) -> list[ResourceStatus]:
    """One line per resource; the REST URL falls back to the running local cluster of the same name (a
    session job's: its session cluster's)."""
    urls = {(c.namespace, c.name): c.rest_url for c in clusters if c.running}
    found = []
    for document in sorted(documents, key=lambda d: (str(d.get("kind")), *_key(d))):
        view = view_of(document)
        cluster = view.name
        if view.kind == "FlinkSessionJob":
            cluster = str((document.get("spec") or {}).get("deploymentName") or "")
        rest_url = view.rest_url or urls.get((view.namespace, cluster))
        found.append(
            ResourceStatus(
                kind=view.kind,
                namespace=view.namespace,
                name=view.name,
                lifecycle_state=view.lifecycle,
                job_state=view.job_state,
                job_manager_status=view.jobmanager,
                rest_url=rest_url,
                error=view.error,
            )
        )
    return found


def _key(document: dict[str, Any]) -> tuple[str, str]:
    metadata = document.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
