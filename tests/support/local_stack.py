"""A local-mode stack for end-to-end tests: `flink-operator local up` as a subprocess with kubectl bound to
its kubeconfig, counter-job FlinkDeployments, and waits on their status through kubectl."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.local_mode import Kubectl, LocalUp, kill_all, poll, processes_with

USRLIB_KEY = "kubernetes.operator.local.usrlib-dir"


@dataclass
class Stack:
    root: Path
    up: LocalUp
    kubectl: Kubectl

    @property
    def clusters(self) -> Path:
        return self.up.state_dir / "flink" / "clusters"

    def cluster_processes(self, name: str, namespace: str = "default") -> list[tuple[int, str]]:
        return processes_with(str(self.clusters / namespace / name) + "/")


def start_stack(root: Path, usrlib: Path) -> Stack:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    up = LocalUp(root / "state", home, "-D", f"{USRLIB_KEY}={usrlib}")
    up.start()
    return Stack(root, up, Kubectl(up.kubeconfig, home))


def stop_stack(stack: Stack) -> None:
    try:
        if stack.up.alive():
            code = stack.up.stop()
            assert code == 0, f"local up exited with {code}:\n{stack.up.output()[-3000:]}"
    finally:
        left = processes_with(str(stack.root))
        kill_all(left)
        assert not left, f"processes left after local up stopped: {left}"


def counter_deployment(
    name: str,
    data_dir: Path,
    *,
    upgrade_mode: str = "savepoint",
    parallelism: int = 1,
    state: str = "running",
    ha: bool = False,
) -> dict[str, Any]:
    """The counter job as an application FlinkDeployment, small enough for a 2-core machine."""
    config = {
        "taskmanager.numberOfTaskSlots": "2",
        "execution.checkpointing.interval": "1 s",
        "execution.checkpointing.dir": f"file://{data_dir}/checkpoints",
        "execution.checkpointing.savepoint-dir": f"file://{data_dir}/savepoints",
        "metrics.fetcher.update-interval": "500 ms",
    }
    if ha:
        config["high-availability.type"] = "kubernetes"
        config["high-availability.storageDir"] = f"file://{data_dir}/ha"
    resources = {"resource": {"memory": "384m", "cpu": 1}}
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "image": "flink-examples:2.3",
            "flinkVersion": "v2_3",
            "serviceAccount": "flink",
            "flinkConfiguration": config,
            "jobManager": resources,
            "taskManager": resources,
            "job": {
                "jarURI": "local:///opt/flink/usrlib/counter-job.jar",
                "entryClass": "demo.CounterJob",
                "args": ["--sleepMs", "5"],
                "parallelism": parallelism,
                "upgradeMode": upgrade_mode,
                "state": state,
            },
        },
    }


def wait_reconciled(
    kubectl: Kubectl,
    name: str,
    *,
    generation: int,
    lifecycle: str = "STABLE",
    job_state: str | None = "RUNNING",
    other_than_job: str | None = None,
    within: float = 180.0,
) -> dict[str, Any]:
    """Until the resource's status reflects `generation` with that lifecycle state and job state (and a
    job id other than `other_than_job`); returns the resource."""

    last: dict[str, Any] = {}

    def probe() -> dict[str, Any] | None:
        resource = kubectl.get("flinkdeployment", name)
        last["status"] = status = resource.get("status") or {}
        job = status.get("jobStatus") or {}
        reached = (
            status.get("observedGeneration") == generation
            and status.get("lifecycleState") == lifecycle
            and (job_state is None or job.get("state") == job_state)
            and (other_than_job is None or job.get("jobId") not in (None, other_than_job))
        )
        return resource if reached else None

    try:
        return poll(probe, within=within, what=f"{name}: generation {generation} {lifecycle}/{job_state}")
    except AssertionError as error:
        raise AssertionError(
            f"{error}\nlast status: {describe(last.get('status') or {})}\n"
            f"events: {event_lines(kubectl, name)}"
        ) from None


def describe(status: dict[str, Any]) -> str:
    job = status.get("jobStatus") or {}
    reconciliation = status.get("reconciliationStatus") or {}
    return (
        f"lifecycle {status.get('lifecycleState')}, observedGeneration {status.get('observedGeneration')}, "
        f"reconciliation {reconciliation.get('state')}, "
        f"JobManager {status.get('jobManagerDeploymentStatus')}, "
        f"job {job.get('state')} {job.get('jobId')}, upgradeSavepointPath {job.get('upgradeSavepointPath')}, "
        f"error {status.get('error')}"
    )


def event_lines(kubectl: Kubectl, name: str) -> list[str]:
    try:
        events = kubectl.events(name)
    except AssertionError as error:
        return [f"(events unreadable: {error})"]
    return [f"{e.get('type')} {e.get('reason')}: {e.get('message')}" for e in events]


def rest_url(resource: dict[str, Any]) -> str:
    url = resource["status"]["clusterInfo"]["rest-url"]
    assert isinstance(url, str) and url.startswith("http://127.0.0.1:"), url
    return url


def job_id(resource: dict[str, Any]) -> str:
    job = resource["status"]["jobStatus"]["jobId"]
    assert isinstance(job, str)
    return job


@dataclass
class Deployments:
    """Creates counter-job deployments for one test and deletes them afterwards."""

    stack: Stack
    data: Path
    names: list[str] = field(default_factory=list)

    def apply(self, name: str, **options: Any) -> dict[str, Any]:
        document = counter_deployment(name, self.data / name, **options)
        self.stack.kubectl.apply(document)
        if name not in self.names:
            self.names.append(name)
        return document

    def delete_all(self) -> None:
        for name in self.names:
            self.stack.kubectl.run(
                "delete",
                "flinkdeployment",
                name,
                "--ignore-not-found",
                "--wait=true",
                "--timeout=120s",
                timeout=150,
            )
