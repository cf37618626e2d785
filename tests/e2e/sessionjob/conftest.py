"""One `flink-operator local up` per module, with kubectl bound to it, and builders for session clusters and
session jobs of the counter job (small enough for a 2-core machine).

Safety net: after the module no process whose command line names its directory may remain (emulator,
operator, Flink)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.local_mode import Kubectl, LocalUp, poll
from tests.support.local_stack import USRLIB_KEY, Stack, describe, event_lines, stop_stack

from flink_operator.flink.local import build_counter_job
from flink_operator.flink.local.distribution import installed_flink_home

JAR = "local:///opt/flink/usrlib/counter-job.jar"
OPTIONS = (
    "kubernetes.operator.session.deletion.job-cancel.timeout=20 s",
    "kubernetes.operator.session.deletion.unmanaged-jobs.timeout=20 s",
    # Manual savepoints recorded in the job status (as upstream's e2e checks them), not as resources.
    "kubernetes.operator.snapshot.resource.enabled=false",
)


@pytest.fixture(scope="session")
def usrlib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = installed_flink_home()
    if home is None:
        pytest.fail("no Flink distribution installed (scripts/setup.sh installs apache-flink)")
    directory = tmp_path_factory.mktemp("usrlib")
    build_counter_job(home, directory)
    return directory


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, usrlib: Path) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("sessionjob-e2e")
    home = root / "home"
    home.mkdir()
    args = ["-D", f"{USRLIB_KEY}={usrlib}"]
    for option in OPTIONS:
        args += ["-D", option]
    up = LocalUp(root / "state", home, *args)
    up.start()
    started = Stack(root, up, Kubectl(up.kubeconfig, home))
    try:
        yield started
    finally:
        stop_stack(started)


def session_cluster(name: str, data: Path, *, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "image": "flink-examples:2.3",
            "flinkVersion": "v2_3",
            "serviceAccount": "flink",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "4",
                "execution.checkpointing.interval": "1 s",
                "execution.checkpointing.dir": f"file://{data}/checkpoints",
                "execution.checkpointing.savepoint-dir": f"file://{data}/savepoints",
                "metrics.fetcher.update-interval": "500 ms",
                "web.refresh-interval": "500 ms",
            },
            "jobManager": {"resource": {"memory": "768m", "cpu": 1}},
            "taskManager": {"resource": {"memory": "1024m", "cpu": 1}},
        },
    }


def counter_session_job(
    name: str,
    session: str,
    *,
    namespace: str = "default",
    upgrade_mode: str = "savepoint",
    parallelism: int = 1,
) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "deploymentName": session,
            "job": {
                "jarURI": JAR,
                "entryClass": "demo.CounterJob",
                "args": ["--sleepMs", "5"],
                "parallelism": parallelism,
                "upgradeMode": upgrade_mode,
            },
        },
    }


def get(kubectl: Kubectl, kind: str, name: str, namespace: str = "default") -> dict[str, Any] | None:
    result = kubectl.run("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found", check=False)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def events_in(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(
        kubectl.run("get", "events", "-n", namespace, "-o", "json").stdout
    )["items"]
    return items


def all_jobs(rest_url: str) -> dict[str, str]:
    """Every job the session cluster knows (id -> state), terminal ones included."""
    response = httpx.get(f"{rest_url}/jobs/overview", timeout=5.0, trust_env=False)
    response.raise_for_status()
    return {job["jid"]: job["state"] for job in response.json()["jobs"]}


def wait_session_job(
    kubectl: Kubectl,
    name: str,
    *,
    generation: int,
    namespace: str = "default",
    other_than: str | None = None,
    within: float = 180.0,
) -> dict[str, Any]:
    """Until the session job is STABLE and RUNNING at `generation` (with a job id other than `other_than`)."""
    last: dict[str, Any] = {}

    def probe() -> dict[str, Any] | None:
        resource = get(kubectl, "flinksessionjob", name, namespace)
        last["status"] = status = (resource or {}).get("status") or {}
        job = status.get("jobStatus") or {}
        reached = (
            status.get("observedGeneration") == generation
            and status.get("lifecycleState") == "STABLE"
            and job.get("state") == "RUNNING"
            and (other_than is None or job.get("jobId") not in (None, other_than))
        )
        return resource if reached else None

    try:
        return poll(probe, within=within, what=f"{namespace}/{name}: generation {generation} STABLE/RUNNING")
    except AssertionError as error:
        shown = describe(last.get("status") or {})
        raise AssertionError(f"{error}\nlast status: {shown}\nevents: {event_lines(kubectl, name)}") from None


def wait_gone(
    kubectl: Kubectl, kind: str, name: str, *, namespace: str = "default", within: float = 120.0
) -> None:
    poll(
        lambda: True if get(kubectl, kind, name, namespace) is None else None,
        within=within,
        what=f"{kind} {namespace}/{name} deleted",
    )
