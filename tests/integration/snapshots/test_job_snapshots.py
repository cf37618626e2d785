"""Snapshots of a job as its controller takes them (`JobSnapshots`), with the FlinkStateSnapshot controller
running on the emulator and the fake Flink runtime: periodic savepoints pruned to count and age with their
data disposed, manual nonces, upgrade savepoints recorded as resources, and the legacy status mode."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.job_snapshot_driver import JobSnapshotDriver
from tests.support.snapshot_env import SnapshotEnv

from flink_operator.api import FlinkDeployment, Savepoint, SavepointFormatType, SnapshotTriggerType
from flink_operator.controllers.deployment.controller import status_document
from flink_operator.controllers.snapshot import FLINK_STATE_SNAPSHOT
from flink_operator.controllers.snapshot.controller import FLINK_DEPLOYMENT
from flink_operator.flink.service import ClusterRef

pytestmark = pytest.mark.integration

DEMO = ClusterRef("default", "demo")
PERIODIC = {
    "kubernetes.operator.periodic.savepoint.interval": "300 ms",
    "kubernetes.operator.savepoint.dispose-on-delete": "true",
}


async def snapshot_documents(env: SnapshotEnv) -> list[dict[str, Any]]:
    _, items = await env.kube.list_raw(FLINK_STATE_SNAPSHOT, "default")
    return [json.loads(item) for item in items]


async def deployment(env: SnapshotEnv, name: str = "demo") -> FlinkDeployment:
    return FlinkDeployment.from_dict(await env.kube.get(FLINK_DEPLOYMENT, name, "default"))


async def test_periodic_savepoints_are_pruned_to_the_count_with_their_data_disposed(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env({**PERIODIC, "kubernetes.operator.savepoint.history.max.count": "2"})
    await env.running_deployment("demo")
    driver = JobSnapshotDriver(env, "demo")
    created: set[str] = set()
    paths: dict[str, str] = {}

    async def six_taken() -> bool:
        for document in await snapshot_documents(env):
            name = document["metadata"]["name"]
            created.add(name)
            path = (document.get("status") or {}).get("path")
            if path:
                paths[name] = path
        return len(paths) >= 6

    await driver.run_until(six_taken, within=20, what="six periodic savepoints completed")
    assert all("-savepoint-periodic-" in name for name in created)
    labels = {d["metadata"]["labels"]["snapshot.trigger-type"] for d in await snapshot_documents(env)}
    assert labels == {"PERIODIC"}

    async def pruned() -> bool:
        remaining = await snapshot_documents(env)
        completed = [d for d in remaining if (d.get("status") or {}).get("state") == "COMPLETED"]
        return len(completed) <= 2

    await driver.run_until(pruned, within=10, what="retention down to two completed savepoints")
    documents = await snapshot_documents(env)
    remaining = {d["metadata"]["name"] for d in documents}
    settled = {d["metadata"]["name"] for d in documents if not d["metadata"].get("deletionTimestamp")}
    gone = [name for name in paths if name not in remaining]
    assert len(gone) >= 4
    for name in gone:
        assert not fake_flink.server.snapshots.exists(paths[name]), f"{name}'s data was disposed"
    for name in settled & set(paths):
        assert fake_flink.server.snapshots.exists(paths[name]), f"{name} is kept with its data"


async def test_periodic_savepoints_older_than_the_max_age_are_pruned(make_env: Any, fake_flink: Any) -> None:
    env = await make_env(
        {
            **PERIODIC,
            "kubernetes.operator.periodic.savepoint.interval": "1 s",
            "kubernetes.operator.savepoint.history.max.age": "2 s",
        }
    )
    await env.running_deployment("demo")
    driver = JobSnapshotDriver(env, "demo")
    first: dict[str, str] = {}

    async def first_completed() -> bool:
        for document in await snapshot_documents(env):
            path = (document.get("status") or {}).get("path")
            if path:
                first.setdefault("name", document["metadata"]["name"])
                first.setdefault("path", path)
        return bool(first)

    await driver.run_until(first_completed, within=10, what="a first periodic savepoint")

    async def first_gone() -> bool:
        return first["name"] not in {d["metadata"]["name"] for d in await snapshot_documents(env)}

    await driver.run_until(first_gone, within=15, what="the first savepoint aged out")
    assert not fake_flink.server.snapshots.exists(first["path"])
    remaining = [
        d for d in await snapshot_documents(env) if (d.get("status") or {}).get("state") == "COMPLETED"
    ]
    assert remaining, "the newest completed savepoint is always kept"


async def test_a_manual_nonce_becomes_a_snapshot_resource_once(make_env: Any, fake_flink: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    await env.kube.patch(FLINK_DEPLOYMENT, "demo", "default", {"spec": {"job": {"savepointTriggerNonce": 7}}})
    driver = JobSnapshotDriver(env, "demo")

    async def completed() -> bool:
        return any((d.get("status") or {}).get("state") == "COMPLETED" for d in await snapshot_documents(env))

    await driver.run_until(completed, within=10, what="the manual savepoint completed")
    for _ in range(3):
        await driver.step()
    documents = await snapshot_documents(env)
    assert len(documents) == 1, "the nonce was handled: no second snapshot"
    (document,) = documents
    assert "-savepoint-manual-" in document["metadata"]["name"]
    assert fake_flink.server.snapshots.exists(document["status"]["path"])
    stored = json.loads((await deployment(env)).status.reconciliation_status.last_reconciled_spec or "{}")
    assert stored["spec"]["job"]["savepointTriggerNonce"] == 7


async def test_an_upgrade_savepoint_is_recorded_as_a_snapshot_resource(make_env: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    raw = await env.kube.get(FLINK_DEPLOYMENT, "demo", "default")
    resource = FlinkDeployment.from_dict(raw)
    path = f"{env.savepoint_dir}/savepoint-upgrade-1"
    resource.status.job_status.savepoint_info.update_last_savepoint(
        Savepoint(
            time_stamp=1_700_000_000_000,
            location=path,
            trigger_type=SnapshotTriggerType.UPGRADE,
            format_type=SavepointFormatType.CANONICAL,
        )
    )
    await env.kube.replace(
        FLINK_DEPLOYMENT, {**raw, "status": status_document(resource.status)}, subresource="status"
    )
    driver = JobSnapshotDriver(env, "demo")
    name = "demo-savepoint-upgrade-1700000000000"

    async def recorded() -> bool:
        return any(
            d["metadata"]["name"] == name and (d.get("status") or {}).get("state") == "COMPLETED"
            for d in await snapshot_documents(env)
        )

    await driver.run_until(recorded, within=10, what="the upgrade snapshot resource")
    document = next(d for d in await snapshot_documents(env) if d["metadata"]["name"] == name)
    assert document["status"]["path"] == path and document["spec"]["savepoint"]["alreadyExists"] is True
    await driver.step()
    info = (await deployment(env)).status.job_status.savepoint_info
    assert info.savepoint_history == [], "the resource owns the savepoint now"
    assert info.last_savepoint is not None and info.last_savepoint.location == path


# --- legacy mode (snapshot resources disabled) ----------------------------------------------------------

LEGACY = {"kubernetes.operator.snapshot.resource.enabled": "false"}


async def test_legacy_manual_savepoint_is_recorded_in_the_status(make_env: Any, fake_flink: Any) -> None:
    env = await make_env(LEGACY)
    await env.running_deployment("demo")
    await env.kube.patch(FLINK_DEPLOYMENT, "demo", "default", {"spec": {"job": {"savepointTriggerNonce": 1}}})
    driver = JobSnapshotDriver(env, "demo")

    async def recorded() -> bool:
        return (await deployment(env)).status.job_status.savepoint_info.last_savepoint is not None

    await driver.run_until(recorded, within=10, what="lastSavepoint")
    info = (await deployment(env)).status.job_status.savepoint_info
    assert info.last_savepoint is not None and info.trigger_id is None
    assert (
        info.last_savepoint.trigger_type is SnapshotTriggerType.MANUAL
        and info.last_savepoint.trigger_nonce == 1
    )
    assert fake_flink.server.snapshots.exists(info.last_savepoint.location)
    assert await snapshot_documents(env) == [], "no snapshot resources in legacy mode"


async def test_legacy_failures_report_flinks_reason_and_stop_after_the_grace_period(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env({**LEGACY, "kubernetes.operator.savepoint.trigger.grace-period": "1 s"})
    await env.running_deployment("demo")
    fake_flink.cluster(DEMO).fail_next_savepoints(100, "Checkpoint Coordinator is suspending.")
    await env.kube.patch(FLINK_DEPLOYMENT, "demo", "default", {"spec": {"job": {"savepointTriggerNonce": 1}}})
    driver = JobSnapshotDriver(env, "demo")

    async def consumed() -> bool:
        text = (await deployment(env)).status.reconciliation_status.last_reconciled_spec or "{}"
        return json.loads(text)["spec"]["job"].get("savepointTriggerNonce") == 1

    await driver.run_until(consumed, within=10, what="the nonce consumed after the grace period")
    failures = [e for e in driver.events if e.reason == "SavepointError"]
    assert failures and all("Checkpoint Coordinator is suspending." in e.message for e in failures)
    assert failures[0].message.startswith("Savepoint failed for savepointTriggerNonce: 1")
    attempts = len(failures)
    for _ in range(10):
        await driver.step()
    assert len([e for e in driver.events if e.reason == "SavepointError"]) == attempts, "no retry storm"
    assert attempts <= 12, "retries are bounded by the grace period"


async def test_legacy_periodic_history_is_pruned_with_disposal_before_removal(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env({**LEGACY, **PERIODIC, "kubernetes.operator.savepoint.history.max.count": "2"})
    await env.running_deployment("demo")
    driver = JobSnapshotDriver(env, "demo")
    seen: list[str] = []

    async def several() -> bool:
        info = (await deployment(env)).status.job_status.savepoint_info
        for entry in info.savepoint_history:
            if entry.location and entry.location not in seen:
                seen.append(entry.location)
        return len(seen) >= 4

    await driver.run_until(several, within=20, what="four periodic savepoints in the history")
    fake_flink.fail_rest(DEMO, status=500, times=None, path="/savepoint-disposal")

    async def history() -> list[str]:
        return [
            s.location or ""
            for s in (await deployment(env)).status.job_status.savepoint_info.savepoint_history
        ]

    async def grew() -> bool:
        return len(await history()) > 2

    await driver.run_until(grew, within=10, what="history above the limit while disposal fails")
    kept = await history()
    assert all(fake_flink.server.snapshots.exists(p) for p in kept), "entries stay while their data exists"
    assert "CleanupFailed" in driver.reasons()
    fake_flink.clear_faults(DEMO)

    async def back_to_two() -> bool:
        return len(await history()) <= 2

    await driver.run_until(back_to_two, within=10, what="history pruned once disposal works")
    for location in kept:
        if location not in await history():
            assert not fake_flink.server.snapshots.exists(location), "pruned entries were disposed first"
