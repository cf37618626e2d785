"""Resources for plugin tests: deployments (optionally carrying secrets), session jobs, snapshots, statuses in
a chosen lifecycle state, and Kubernetes Events as the API returns them."""

from __future__ import annotations

import json
from typing import Any

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentStatus,
    FlinkJobState,
    FlinkSessionJob,
    FlinkStateSnapshot,
    ReconciliationState,
)

SECRET_CONFIG_VALUE = "hunter2"
SECRET_ENV_VALUE = "s3cr3t-env-token"
OLD_SECRET_CONFIG_VALUE = "old-hunter1"


def spec_json(spec: dict[str, Any]) -> str:
    return json.dumps({"spec": spec, "resource_metadata": {"apiVersion": "flink.apache.org/v1beta1"}})


def deployment(
    name: str = "orders", namespace: str = "flink", *, secrets: bool = False, **labels: str
) -> FlinkDeployment:
    """An application FlinkDeployment; with `secrets`, an `s3.secret-key` and a pod-template env value."""
    spec: dict[str, Any] = {
        "image": "flink:1.20",
        "flinkVersion": "v1_20",
        "serviceAccount": "flink",
        "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
        "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
        "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
        "job": {"jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar", "parallelism": 2},
    }
    if secrets:
        spec["flinkConfiguration"]["s3.secret-key"] = SECRET_CONFIG_VALUE
        spec["podTemplate"] = {
            "spec": {
                "containers": [
                    {
                        "name": "flink-main-container",
                        "env": [{"name": "API_TOKEN", "value": SECRET_ENV_VALUE}],
                    }
                ]
            }
        }
    document = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "generation": 2,
            "labels": dict(labels) or None,
        },
        "spec": spec,
    }
    if not labels:
        del document["metadata"]["labels"]
    return FlinkDeployment.from_dict(document)


def session_job(
    name: str = "report", deployment_name: str | None = "session", **labels: str
) -> FlinkSessionJob:
    document: dict[str, Any] = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": "flink", "uid": f"uid-{name}", "generation": 1},
        "spec": {"job": {"jarURI": "https://artifacts.example.com/report.jar", "parallelism": 1}},
    }
    if deployment_name is not None:
        document["spec"]["deploymentName"] = deployment_name
    if labels:
        document["metadata"]["labels"] = dict(labels)
    return FlinkSessionJob.from_dict(document)


def snapshot(
    name: str = "sp-1", state: str = "COMPLETED", path: str | None = "s3://bucket/sp-1"
) -> FlinkStateSnapshot:
    status: dict[str, Any] = {"state": state}
    if path:
        status["path"] = path
    return FlinkStateSnapshot.from_dict(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkStateSnapshot",
            "metadata": {"name": name, "namespace": "flink", "uid": f"uid-{name}", "generation": 1},
            "spec": {
                "savepoint": {"path": "s3://bucket"},
                "jobReference": {"kind": "FlinkDeployment", "name": "orders"},
            },
            "status": status,
        }
    )


def with_status(
    resource: FlinkDeployment, state: str, *, error: str | None = None, secrets: bool = False
) -> FlinkDeployment:
    """`resource` with a status in lifecycle state CREATED, DEPLOYED, STABLE or FAILED (a deep copy)."""
    copy = resource.model_copy(deep=True)
    status = FlinkDeploymentStatus()
    job_spec: dict[str, Any] = {"job": {"state": "running", "upgradeMode": "stateless"}}
    if secrets:
        job_spec["flinkConfiguration"] = {"s3.secret-key": OLD_SECRET_CONFIG_VALUE}
    if state != "CREATED":
        status.reconciliation_status.last_reconciled_spec = spec_json(job_spec)
        status.reconciliation_status.state = ReconciliationState.DEPLOYED
        status.job_status.state = FlinkJobState.RUNNING
    if state == "STABLE":
        status.reconciliation_status.last_stable_spec = status.reconciliation_status.last_reconciled_spec
    if state == "FAILED":
        status.job_status.state = FlinkJobState.FAILED
    if error is not None:
        status.error = error
    copy.status = status
    return copy


def event(
    reason: str = "JobStatusChanged",
    message: str = "Job status changed from CREATED to RUNNING",
    type_: str = "Normal",
    component: str = "Job",
    count: int = 1,
    name: str = "Job.1234567",
) -> dict[str, Any]:
    """A core/v1 Event as the API returns it."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "flink"},
        "reason": reason,
        "message": message,
        "type": type_,
        "source": {"component": component},
        "count": count,
        "firstTimestamp": "2025-01-02T03:04:05Z",
        "lastTimestamp": "2025-01-02T03:04:06Z",
    }
