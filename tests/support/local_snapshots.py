"""FlinkStateSnapshots in a local-mode stack, seen through kubectl: documents, listings per job, bounded
waits on a snapshot's state, the files a `file:` path names, and what Flink says a job restored from."""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from tests.support.local_mode import Kubectl, poll
from tests.support.local_stack import Deployments, counter_deployment, event_lines

API_VERSION = "flink.apache.org/v1beta1"


def apply_counter(
    deployments: Deployments, name: str, config: Mapping[str, str], **options: Any
) -> dict[str, Any]:
    """Apply the counter job as `name` with `config` laid over its flinkConfiguration (deleted with the
    test's other deployments); returns the document."""
    document = counter_deployment(name, deployments.data / name, **options)
    document["spec"]["flinkConfiguration"].update(config)
    deployments.stack.kubectl.apply(document)
    if name not in deployments.names:
        deployments.names.append(name)
    return document


def snapshot_document(
    name: str,
    job: str,
    *,
    savepoint: dict[str, Any] | None = None,
    checkpoint: bool = False,
    backoff_limit: int | None = None,
) -> dict[str, Any]:
    """A FlinkStateSnapshot of the FlinkDeployment `job`: a savepoint with `savepoint` as its spec, or a
    checkpoint."""
    spec: dict[str, Any] = {"jobReference": {"kind": "FlinkDeployment", "name": job}}
    if checkpoint:
        spec["checkpoint"] = {}
    else:
        spec["savepoint"] = savepoint or {}
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    return {
        "apiVersion": API_VERSION,
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def delete_snapshots(kubectl: Kubectl) -> None:
    """Delete every FlinkStateSnapshot and wait until they are gone (their finalizers released)."""
    kubectl.run("delete", "flinkstatesnapshots", "--all", "--wait=true", "--timeout=90s", timeout=120)


def snapshots_of(kubectl: Kubectl, job: str) -> list[dict[str, Any]]:
    """The FlinkStateSnapshots referencing the FlinkDeployment `job` (deleting ones too), oldest first."""
    listed = kubectl.run("get", "flinkstatesnapshots", "-o", "json").stdout
    items: list[dict[str, Any]] = json.loads(listed)["items"]
    mine = [s for s in items if ((s.get("spec") or {}).get("jobReference") or {}).get("name") == job]
    return sorted(mine, key=lambda s: (s["metadata"].get("creationTimestamp") or "", s["metadata"]["name"]))


def state_of(snapshot: dict[str, Any]) -> str | None:
    state = (snapshot.get("status") or {}).get("state")
    return state if isinstance(state, str) else None


def describe_snapshot(snapshot: dict[str, Any]) -> str:
    status = snapshot.get("status") or {}
    return (
        f"{snapshot['metadata']['name']}: {status.get('state')} failures {status.get('failures')} "
        f"path {status.get('path')} error {status.get('error')}"
        + (" (deleting)" if snapshot["metadata"].get("deletionTimestamp") else "")
    )


def wait_snapshot(
    kubectl: Kubectl, name: str, state: str, *, within: float = 60.0, failures: int | None = None
) -> dict[str, Any]:
    """Until the snapshot `name` is in `state` (with that many failures, when given); returns it."""
    last: dict[str, Any] = {}

    def probe() -> dict[str, Any] | None:
        found = kubectl.run("get", "flinkstatesnapshot", name, "-o", "json", check=False)
        if found.returncode != 0:
            return None
        snapshot = last["snapshot"] = json.loads(found.stdout)
        status = snapshot.get("status") or {}
        reached = status.get("state") == state and (failures is None or status.get("failures") == failures)
        return snapshot if reached else None

    try:
        return poll(probe, within=within, what=f"snapshot {name} {state}")
    except AssertionError as error:
        seen = describe_snapshot(last["snapshot"]) if "snapshot" in last else "never seen"
        raise AssertionError(f"{error}\nlast: {seen}\nevents: {event_lines(kubectl, name)}") from None


def epoch_seconds(timestamp: str) -> int:
    """A Kubernetes timestamp (`2026-01-02T03:04:05Z`) as seconds since the epoch."""
    return calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ"))


def local_path(uri: str) -> Path:
    """The file-system path of a `file:` URI, as Flink writes them (`file:/a/b` or `file:///a/b`)."""
    parsed = urlparse(uri)
    assert parsed.scheme == "file", f"not a local file URI: {uri}"
    return Path(parsed.path)


def savepoint_on_disk(uri: str) -> bool:
    """Whether the savepoint at `uri` is on disk: its directory with Flink's `_metadata` file."""
    return (local_path(uri) / "_metadata").is_file()


def restored_from(rest_url: str, job_id: str) -> str | None:
    """The external path of the checkpoint or savepoint the job was restored from, as Flink reports it."""
    response = httpx.get(f"{rest_url}/jobs/{job_id}/checkpoints", timeout=5.0, trust_env=False)
    response.raise_for_status()
    restored = (response.json().get("latest") or {}).get("restored") or {}
    path = restored.get("external_path")
    return path if isinstance(path, str) else None
