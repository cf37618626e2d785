"""`local status` rows and JSON, and the one-`local up`-per-state-directory claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flink_operator.local_mode import instance
from flink_operator.local_mode.layout import LocalPaths
from flink_operator.local_mode.status import ClusterStatus, StatusReport, resource_statuses

pytestmark = pytest.mark.unit


def test_rows_take_the_url_from_the_status_else_from_the_running_local_cluster() -> None:
    documents = [
        {
            "kind": "FlinkDeployment",
            "metadata": {"name": "reported", "namespace": "default"},
            "status": {
                "lifecycleState": "STABLE",
                "jobStatus": {"state": "RUNNING"},
                "jobManagerDeploymentStatus": "READY",
                "clusterInfo": {"rest-url": "http://127.0.0.1:1"},
            },
        },
        {"kind": "FlinkDeployment", "metadata": {"name": "session", "namespace": "default"}},
        {
            "kind": "FlinkSessionJob",
            "metadata": {"name": "job", "namespace": "default"},
            "spec": {"deploymentName": "session"},
            "status": {"lifecycleState": "UPGRADING", "error": "boom"},
        },
    ]
    clusters = [
        ClusterStatus("default", "session", "session", True, "http://127.0.0.1:2", "2.3.0"),
        ClusterStatus("default", "stopped", "application", False, "http://127.0.0.1:3", "2.3.0"),
    ]
    rows = resource_statuses(documents, clusters)
    assert [(r.kind, r.name, r.rest_url) for r in rows] == [
        ("FlinkDeployment", "reported", "http://127.0.0.1:1"),
        ("FlinkDeployment", "session", "http://127.0.0.1:2"),
        ("FlinkSessionJob", "job", "http://127.0.0.1:2"),
    ]
    assert (rows[0].lifecycle_state, rows[0].job_state, rows[0].job_manager_status) == (
        "STABLE",
        "RUNNING",
        "READY",
    )
    assert rows[2].error == "boom"

    report = StatusReport(state_dir="/s", running=True, pid=7, resources=rows, flink_clusters=clusters)
    data = json.loads(report.to_json())
    assert data["stateDir"] == "/s"
    assert data["resources"][0] == {
        "kind": "FlinkDeployment",
        "namespace": "default",
        "name": "reported",
        "lifecycleState": "STABLE",
        "jobState": "RUNNING",
        "jobManagerStatus": "READY",
        "restUrl": "http://127.0.0.1:1",
        "error": None,
    }
    assert data["flinkClusters"][1]["flinkVersion"] == "2.3.0"


def test_one_up_per_state_directory(tmp_path: Path) -> None:
    paths = LocalPaths.of(tmp_path)
    claim = instance.claim(paths)
    try:
        assert instance.is_locked(paths)
        record = instance.holder(paths)
        assert record is not None and record.phase == "starting"
        with pytest.raises(instance.AlreadyRunning, match="already running") as raised:
            instance.claim(paths)
        assert raised.value.pid == record.pid
        claim.update(phase="running", api_url="http://127.0.0.1:9")
        assert instance.read(paths) == claim.record
    finally:
        claim.release()
    assert not instance.is_locked(paths)
    assert instance.holder(paths) is None
    instance.claim(paths).release()
