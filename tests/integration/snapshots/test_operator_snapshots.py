"""Snapshots through the whole operator (FlinkDeployment and FlinkStateSnapshot controllers, the real wiring)
on the emulator with the fake Flink runtime: periodic savepoints with retention, manual nonces, upgrade
savepoints as snapshot resources, a job started from a snapshot's path, and the legacy status mode."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.support.deployment_driver import deployment_document

from flink_operator.controllers.snapshot import FLINK_STATE_SNAPSHOT
from flink_operator.testing.fake_runtime import FakeFlinkService, wait_until_running

pytestmark = pytest.mark.integration

FAST_LOOP = {"kubernetes.operator.reconcile.interval": "200 ms"}


async def snapshots(env: Any) -> list[dict[str, Any]]:
    _, items = await env.kube.list_raw(FLINK_STATE_SNAPSHOT, "default")
    return [json.loads(item) for item in items]


def state(document: dict[str, Any]) -> str | None:
    return (document.get("status") or {}).get("state")


async def eventually(check: Callable[[], Awaitable[object]], *, within: float = 15.0, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {within:g} s")
        await asyncio.sleep(0.05)


def savepoints_in(tmp_path: Any) -> dict[str, str]:
    return {"execution.checkpointing.savepoint-dir": f"file:{tmp_path}/savepoints"}


async def test_periodic_savepoints_are_taken_and_pruned_with_their_data_disposed(
    make_operator_env: Any, fake_flink: FakeFlinkService, tmp_path: Any
) -> None:
    env = await make_operator_env(FAST_LOOP)
    config = {
        **savepoints_in(tmp_path),
        "kubernetes.operator.periodic.savepoint.interval": "300 ms",
        "kubernetes.operator.savepoint.history.max.count": "2",
        "kubernetes.operator.savepoint.dispose-on-delete": "true",
    }
    await env.create(deployment_document("demo", upgrade_mode="stateless", config=config))
    await env.wait_settled("demo", 1)
    paths: dict[str, str] = {}

    async def taken_and_pruned() -> bool:
        documents = await snapshots(env)
        for document in documents:
            if (document.get("status") or {}).get("path"):
                paths[document["metadata"]["name"]] = document["status"]["path"]
        live = [
            d for d in documents if state(d) == "COMPLETED" and not d["metadata"].get("deletionTimestamp")
        ]
        present = {d["metadata"]["name"] for d in documents}
        return len([n for n in paths if n not in present]) >= 3 and len(live) <= 2

    await eventually(taken_and_pruned, within=20, what="three periodic savepoints pruned, at most two kept")
    assert all("-savepoint-periodic-" in name for name in paths)
    remaining = {d["metadata"]["name"] for d in await snapshots(env)}
    gone = [name for name in paths if name not in remaining]
    assert len(gone) >= 3
    assert not any(fake_flink.server.snapshots.exists(paths[name]) for name in gone), (
        "pruned data is disposed"
    )
    document = await env.get("demo")
    assert document is not None
    assert document["status"]["jobStatus"].get("savepointInfo", {}).get("savepointHistory", []) == []


async def test_a_manual_nonce_creates_one_snapshot_resource(
    make_operator_env: Any, fake_flink: FakeFlinkService, tmp_path: Any
) -> None:
    env = await make_operator_env(FAST_LOOP)
    await env.create(deployment_document("demo", upgrade_mode="stateless", config=savepoints_in(tmp_path)))
    await env.wait_settled("demo", 1)
    await env.patch_job("demo", savepointTriggerNonce=1)

    async def completed() -> bool:
        return any(state(d) == "COMPLETED" for d in await snapshots(env))

    await eventually(completed, what="the manual savepoint")
    await env.wait_settled("demo", 2)
    documents = await snapshots(env)
    assert len(documents) == 1 and "-savepoint-manual-" in documents[0]["metadata"]["name"]
    assert fake_flink.server.snapshots.exists(documents[0]["status"]["path"])
    document = await env.get("demo")
    assert document is not None
    stored = json.loads(document["status"]["reconciliationStatus"]["lastReconciledSpec"])
    assert stored["spec"]["job"]["savepointTriggerNonce"] == 1


async def test_a_savepoint_upgrade_is_recorded_as_an_upgrade_snapshot_and_a_job_starts_from_it(
    make_operator_env: Any, fake_flink: FakeFlinkService, tmp_path: Any
) -> None:
    env = await make_operator_env(FAST_LOOP)
    config = {**savepoints_in(tmp_path), "execution.checkpointing.interval": "50 ms"}
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=config))
    await env.wait_settled("demo", 1)
    await env.patch_job("demo", state="suspended")
    suspended = await env.wait_settled("demo", 2, state="SUSPENDED")
    path = suspended["status"]["jobStatus"]["upgradeSavepointPath"]

    async def recorded() -> bool:
        return any(
            "-savepoint-upgrade-" in d["metadata"]["name"] and state(d) == "COMPLETED"
            for d in await snapshots(env)
        )

    await eventually(recorded, what="the upgrade snapshot resource")
    (upgrade,) = [d for d in await snapshots(env) if "-savepoint-upgrade-" in d["metadata"]["name"]]
    assert upgrade["status"]["path"] == path
    assert upgrade["spec"]["savepoint"]["alreadyExists"] is True
    assert upgrade["metadata"]["labels"]["snapshot.trigger-type"] == "UPGRADE"

    # A new deployment starts from the snapshot resource's path.
    copy = deployment_document("copy", upgrade_mode="savepoint", config=config)
    copy["spec"]["job"]["initialSavepointPath"] = path
    await env.create(copy)
    await env.wait_settled("copy", 1)
    job = await wait_until_running(fake_flink, env.ref("copy"))
    assert job.restored is not None and job.restored.path == path


async def test_legacy_mode_records_a_manual_savepoint_in_the_status(
    make_operator_env: Any, fake_flink: FakeFlinkService, tmp_path: Any
) -> None:
    env = await make_operator_env(FAST_LOOP)
    config = {**savepoints_in(tmp_path), "kubernetes.operator.snapshot.resource.enabled": "false"}
    await env.create(deployment_document("demo", upgrade_mode="stateless", config=config))
    await env.wait_settled("demo", 1)
    await env.patch_job("demo", savepointTriggerNonce=3)

    async def recorded() -> bool:
        document = await env.get("demo")
        info = ((document or {}).get("status") or {}).get("jobStatus", {}).get("savepointInfo", {})
        return bool((info.get("lastSavepoint") or {}).get("location"))

    await eventually(recorded, what="lastSavepoint")
    document = await env.get("demo")
    assert document is not None
    info = document["status"]["jobStatus"]["savepointInfo"]
    assert info["lastSavepoint"]["triggerType"] == "MANUAL" and info["lastSavepoint"]["triggerNonce"] == 3
    assert [s["location"] for s in info["savepointHistory"]] == [info["lastSavepoint"]["location"]]
    assert "triggerId" not in info
    assert fake_flink.server.snapshots.exists(info["lastSavepoint"]["location"])
    assert await snapshots(env) == []
