"""Session clusters and session jobs with identical names in two namespaces both run (upstream's
test_multi_sessionjob.sh), then each namespace is torn down in another order — session and job deleted
at once, and session first — and both converge with every job cancelled and no Flink process left."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.local_mode import poll, running_jobs, wait_counting
from tests.support.local_stack import Stack, rest_url

from .conftest import (
    all_jobs,
    counter_session_job,
    events_in,
    get,
    session_cluster,
    wait_gone,
    wait_session_job,
)

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

NAMESPACES = ("default", "flink")


def test_same_names_in_two_namespaces_run_and_are_deleted_in_any_order(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    kubectl = stack.kubectl
    kubectl.run("create", "namespace", "flink")
    for namespace in NAMESPACES:
        data: Path = tmp_path_factory.mktemp(f"data-{namespace}")
        kubectl.apply(session_cluster("session", data, namespace=namespace))
    for namespace in NAMESPACES:
        kubectl.run(
            "wait",
            "--for=condition=Ready",
            "flinkdeployment/session",
            "-n",
            namespace,
            "--timeout=180s",
            timeout=200,
        )
        kubectl.apply(counter_session_job("job", "session", namespace=namespace, upgrade_mode="stateless"))

    urls: dict[str, str] = {}
    ids: dict[str, str] = {}
    for namespace in NAMESPACES:
        resource = wait_session_job(kubectl, "job", generation=1, namespace=namespace)
        session = get(kubectl, "flinkdeployment", "session", namespace)
        assert session is not None
        urls[namespace] = rest_url(session)
        ids[namespace] = resource["status"]["jobStatus"]["jobId"]
    assert urls["default"] != urls["flink"], "each namespace has its own session cluster"
    assert ids["default"] != ids["flink"]
    for namespace in NAMESPACES:
        assert running_jobs(urls[namespace]) == [ids[namespace]]
        wait_counting(urls[namespace], ids[namespace], 50)

    # default: session and job at once; flink: the session first, then its job.
    kubectl.run("delete", "flinkdeployment/session", "flinksessionjob/job", "--wait=false")
    kubectl.run("delete", "flinkdeployment", "session", "-n", "flink", "--wait=false")
    poll(
        lambda: True if get(kubectl, "flinkdeployment", "session", "flink") is not None else None,
        within=5,
        what="the flink session waits for its job",
    )
    before_deletion = all_jobs(urls["flink"])
    assert before_deletion[ids["flink"]] == "RUNNING"
    kubectl.run("delete", "flinksessionjob", "job", "-n", "flink", "--wait=false")
    for namespace in NAMESPACES:
        wait_gone(kubectl, "flinksessionjob", "job", namespace=namespace)
        wait_gone(kubectl, "flinkdeployment", "session", namespace=namespace)
    for namespace in NAMESPACES:
        warnings = [
            e
            for e in events_in(kubectl, namespace)
            if e.get("reason") == "CleanupFailed"
            and (e.get("involvedObject") or {}).get("kind") == "FlinkSessionJob"
        ]
        assert warnings == [], f"every job was cancelled normally (its session waited for it): {warnings}"
    poll(
        lambda: (
            True
            if not stack.cluster_processes("session") and not stack.cluster_processes("session", "flink")
            else None
        ),
        within=60,
        what="no Flink process of either session left",
    )
