"""Snapshots the operator takes itself, against real Flink, driven through kubectl (upstream's snapshot e2e,
the operator part, plus retention): periodic savepoint resources pruned to the configured count and then
age with their files disposed; savepoint upgrades in the legacy status mode (NATIVE format, the restore
point kept across an operator restart) and as upgrade snapshot resources whose path the job resumes from.

The counter job's `firstCount` gauge is 1 after a fresh start and more after a restore; Flink's checkpoint
statistics name the path a job was restored from."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.support.local_mode import Kubectl, poll, running_jobs, wait_counting
from tests.support.local_snapshots import (
    apply_counter,
    describe_snapshot,
    epoch_seconds,
    local_path,
    restored_from,
    savepoint_on_disk,
    snapshots_of,
    state_of,
)
from tests.support.local_stack import Deployments, Stack, job_id, rest_url, wait_reconciled

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

# A 2 s schedule makes about five reconciles of the job per savepoint (created, completed, one pruned:
# deletion started and finished, the schedule's timer): more than the default 5 per 15 s allow.
LOCAL_UP_OPTIONS = ("kubernetes.operator.rate-limiter.limit=50",)

PERIODIC = "kubernetes.operator.periodic.savepoint.interval"
MAX_COUNT = "kubernetes.operator.savepoint.history.max.count"
MAX_AGE = "kubernetes.operator.savepoint.history.max.age"


def configure(kubectl: Kubectl, name: str, options: dict[str, str | None]) -> int:
    """Merge `options` into the deployment's flinkConfiguration (None removes a key); the new generation."""
    kubectl.merge_patch("flinkdeployment", name, {"spec": {"flinkConfiguration": options}})
    generation = kubectl.get("flinkdeployment", name)["metadata"]["generation"]
    assert isinstance(generation, int)
    return generation


class PeriodicWatch:
    """Follows a job's periodic savepoint resources: the paths they completed with, and which are gone."""

    def __init__(self, kubectl: Kubectl, job: str) -> None:
        self.kubectl, self.job = kubectl, job
        self.paths: dict[str, str] = {}
        self.failures: dict[str, int] = {}
        self.created: dict[str, str] = {}
        self.live: list[dict[str, Any]] = []
        self.most_live = 0

    def look(self) -> None:
        found = [
            s for s in snapshots_of(self.kubectl, self.job) if "-savepoint-periodic-" in s["metadata"]["name"]
        ]
        for snapshot in found:
            name = snapshot["metadata"]["name"]
            self.created[name] = snapshot["metadata"]["creationTimestamp"]
            if state_of(snapshot) == "COMPLETED" and snapshot["status"].get("path"):
                self.paths[name] = snapshot["status"]["path"]
                self.failures[name] = snapshot["status"]["failures"]
        self.live = [s for s in found if not s["metadata"].get("deletionTimestamp")]
        self.most_live = max(self.most_live, len(self.live))

    def pruned(self) -> list[str]:
        present = {s["metadata"]["name"] for s in self.live}
        return [name for name in self.paths if name not in present]

    def describe(self) -> str:
        return f"pruned {self.pruned()}, live {[describe_snapshot(s) for s in self.live]}"


def test_periodic_savepoints_are_pruned_to_the_count_then_the_age_with_their_files_disposed(
    stack: Stack, deployments: Deployments
) -> None:
    kubectl = stack.kubectl
    # The first savepoint falls due as soon as the job runs, while Flink may still be deploying its tasks
    # and refuse it: that is triggered again, not counted as a failure.
    document = apply_counter(
        deployments,
        "periodic",
        {PERIODIC: "2 s", MAX_COUNT: "2", "kubernetes.operator.savepoint.dispose-on-delete": "true"},
    )
    resource = wait_reconciled(kubectl, "periodic", generation=1)
    job = job_id(resource)
    savepoint_dir = local_path(
        document["spec"]["flinkConfiguration"]["execution.checkpointing.savepoint-dir"]
    )
    watch = PeriodicWatch(kubectl, "periodic")

    def pruned_by_count() -> bool | None:
        watch.look()
        return True if len(watch.pruned()) >= 3 else None

    try:
        poll(pruned_by_count, within=90, what="three periodic savepoints pruned", interval=0.5)
    except AssertionError as error:
        raise AssertionError(f"{error}: {watch.describe()}") from None
    # One may have been created since the last prune: the next observation prunes it down to two.
    assert watch.most_live <= 3, watch.describe()
    assert set(watch.failures.values()) == {0}, watch.failures
    for name in watch.pruned():
        assert local_path(watch.paths[name]).parent == savepoint_dir
        assert not local_path(watch.paths[name]).exists(), f"{name}: its savepoint is disposed with it"
    kept = [s for s in watch.live if state_of(s) == "COMPLETED"]
    assert kept and all(savepoint_on_disk(s["status"]["path"]) for s in kept), watch.describe()
    for snapshot in watch.live:
        assert snapshot["metadata"]["labels"]["snapshot.trigger-type"] == "PERIODIC"
        assert snapshot["spec"]["savepoint"]["disposeOnDelete"] is True
        assert snapshot["spec"]["backoffLimit"] == 1

    # Operator options of a running job change without an upgrade; now only the age bounds the history.
    switched_at = time.time()
    generation = configure(kubectl, "periodic", {MAX_COUNT: "100", MAX_AGE: "4 s"})
    pruned_before = set(watch.pruned())

    def pruned_by_age() -> bool | None:
        watch.look()
        newly = [n for n in watch.pruned() if n not in pruned_before]
        young = [n for n in newly if epoch_seconds(watch.created[n]) >= switched_at - 1]
        return True if young else None

    try:
        poll(
            pruned_by_age,
            within=60,
            what="a savepoint taken after the switch pruned by its age",
            interval=0.5,
        )
    except AssertionError as error:
        raise AssertionError(f"{error}: {watch.describe()}") from None
    # Taken every 2 s, kept for 4 s (ages counted in whole seconds), the newest completed always kept.
    assert len(watch.live) <= 4, watch.describe()
    for name in watch.pruned():
        assert not local_path(watch.paths[name]).exists(), f"{name}: its savepoint is disposed with it"
    after = wait_reconciled(kubectl, "periodic", generation=generation)
    assert job_id(after) == job, "changing retention options does not restart the job"
    assert running_jobs(rest_url(after)) == [job]
    configure(kubectl, "periodic", {PERIODIC: "0"})


def _last_savepoint(kubectl: Kubectl, name: str, trigger_type: str) -> dict[str, Any] | None:
    """The legacy savepoint bookkeeping once its last savepoint has that trigger type."""
    info = ((kubectl.get("flinkdeployment", name).get("status") or {}).get("jobStatus") or {}).get(
        "savepointInfo"
    ) or {}
    last = info.get("lastSavepoint") or {}
    return info if last.get("triggerType") == trigger_type and last.get("location") else None


def _flink_savepoint_formats(url: str, job: str) -> list[str]:
    """The formats of the savepoints in Flink's checkpoint history of the job."""
    response = httpx.get(f"{url}/jobs/{job}/checkpoints", timeout=5.0, trust_env=False)
    response.raise_for_status()
    history = response.json().get("history") or []
    return [
        str(entry.get("savepointFormat")) for entry in history if entry.get("checkpoint_type") == "SAVEPOINT"
    ]


def _suspend(kubectl: Kubectl, name: str, generation: int) -> dict[str, Any]:
    kubectl.merge_patch("flinkdeployment", name, {"spec": {"job": {"state": "suspended"}}})
    return wait_reconciled(kubectl, name, generation=generation, lifecycle="SUSPENDED", job_state=None)


def _resumed_from(stack: Stack, name: str, generation: int, before: str, path: str) -> dict[str, Any]:
    """Wait for the job to run again at `generation` under a new id; check that Flink restored it from
    `path` and that the count went on."""
    resource = wait_reconciled(stack.kubectl, name, generation=generation, other_than_job=before)
    url, job = rest_url(resource), job_id(resource)
    assert running_jobs(url) == [job]
    restored = restored_from(url, job)
    assert restored is not None and local_path(restored) == local_path(path), (restored, path)
    counted = wait_counting(url, job, 1)
    assert counted.first > 1, f"the job started from empty state: {counted}"
    return resource


def test_savepoint_upgrades_in_legacy_mode_across_an_operator_restart_then_as_snapshot_resources(
    stack: Stack, deployments: Deployments
) -> None:
    kubectl = stack.kubectl
    legacy = {
        "kubernetes.operator.snapshot.resource.enabled": "false",
        "kubernetes.operator.savepoint.format.type": "NATIVE",
    }
    apply_counter(deployments, "upgrade", legacy, upgrade_mode="savepoint")
    first = wait_reconciled(kubectl, "upgrade", generation=1)
    first_job = job_id(first)
    wait_counting(rest_url(first), first_job, 100)

    # Legacy mode: a manual savepoint is recorded in the job status, taken in the NATIVE format.
    kubectl.merge_patch("flinkdeployment", "upgrade", {"spec": {"job": {"savepointTriggerNonce": 1}}})
    manual = wait_reconciled(kubectl, "upgrade", generation=2)
    info = poll(
        lambda: _last_savepoint(kubectl, "upgrade", "MANUAL"), within=30, what="a manual legacy savepoint"
    )
    assert info["lastSavepoint"]["formatType"] == "NATIVE" and savepoint_on_disk(
        info["lastSavepoint"]["location"]
    )
    assert info["lastSavepoint"]["triggerNonce"] == 1 and not info.get("triggerId"), info
    assert _flink_savepoint_formats(rest_url(manual), first_job) == ["NATIVE"]

    # Legacy mode: the savepoint of a suspend is recorded in the job status only, in the NATIVE format.
    suspended = _suspend(kubectl, "upgrade", 3)
    job_status = suspended["status"]["jobStatus"]
    legacy_path = job_status["upgradeSavepointPath"]
    assert savepoint_on_disk(legacy_path), legacy_path
    last = job_status["savepointInfo"]["lastSavepoint"]
    assert (last["location"], last["triggerType"], last["formatType"]) == (legacy_path, "UPGRADE", "NATIVE")
    assert snapshots_of(kubectl, "upgrade") == []

    # The operator restarts (the resource's status is all it has), and the job resumes from that savepoint
    # with snapshot resources enabled again.
    stack.up.kill()
    stack.up.start()
    kubectl.merge_patch(
        "flinkdeployment",
        "upgrade",
        {
            "spec": {
                "job": {"state": "running"},
                "flinkConfiguration": {"kubernetes.operator.snapshot.resource.enabled": None},
            }
        },
    )
    resumed = _resumed_from(stack, "upgrade", 4, first_job, legacy_path)

    # With snapshot resources, the suspend's savepoint is an UPGRADE snapshot resource with the same path.
    suspended = _suspend(kubectl, "upgrade", 5)
    path = suspended["status"]["jobStatus"]["upgradeSavepointPath"]
    assert path != legacy_path and savepoint_on_disk(path)

    def upgrade_snapshot() -> dict[str, Any] | None:
        found = [
            s for s in snapshots_of(kubectl, "upgrade") if "-savepoint-upgrade-" in s["metadata"]["name"]
        ]
        return found[-1] if found and state_of(found[-1]) == "COMPLETED" else None

    snapshot = poll(upgrade_snapshot, within=30, what="an upgrade snapshot resource COMPLETED")
    assert snapshot["status"]["path"] == path
    assert snapshot["spec"]["savepoint"]["alreadyExists"] is True
    assert snapshot["spec"]["savepoint"]["formatType"] == "NATIVE"
    assert snapshot["metadata"]["labels"]["snapshot.trigger-type"] == "UPGRADE"

    kubectl.merge_patch("flinkdeployment", "upgrade", {"spec": {"job": {"state": "running"}}})
    _resumed_from(stack, "upgrade", 6, job_id(resumed), path)
