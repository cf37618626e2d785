"""The FlinkDeployment controller end to end: the real operator wiring on the Kubernetes API emulator (real
HTTP) with the fake Flink runtime (virtual clusters of the honest fake Flink REST server)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.deployment_driver import deployment_document
from tests.support.operator_env import condition, lifecycle

from flink_operator.api import FINALIZER_FLINK_DEPLOYMENT, read_spec_with_meta
from flink_operator.flink.rest import JobState
from flink_operator.testing.fake_runtime import FakeFlinkService, wait_until_running

pytestmark = pytest.mark.integration

LISTENER = "kubernetes.operator.plugins.listeners."
MUTATOR = "kubernetes.operator.plugins.mutators.naming."
RECORDING = {LISTENER + "recorder.class": "tests.support.plugin_classes:RecordingListener"}
CHECKPOINTING = {"execution.checkpointing.interval": "50 ms"}
HA = {"high-availability.type": "zookeeper", "high-availability.storageDir": "file:/tmp/fake-ha"}


def listener_of(env: Any, name: str) -> Any:
    return listener(env, name)


def listener(env: Any, name: str) -> Any:
    operator = env.operators[-1]
    return next(p.instance for p in operator.plugins.plugins.listeners if p.name == name)


async def test_deploy_becomes_stable_with_events_conditions_and_listener_notifications(make_env: Any) -> None:
    env = await make_env(RECORDING)
    await env.create(deployment_document("demo", upgrade_mode="stateless"))
    document = await env.wait_settled("demo", 1)
    status = document["status"]
    assert status["jobManagerDeploymentStatus"] == "READY"
    assert status["jobStatus"]["state"] == "RUNNING" and len(status["jobStatus"]["jobId"]) == 32
    assert status["clusterInfo"]["rest-url"].startswith("http://127.0.0.1:")
    assert status["clusterInfo"]["flink-version"] == "2.3.0"
    assert condition(document, "Ready")["status"] == "True"
    assert condition(document, "Running")["reason"] == "Running"
    assert FINALIZER_FLINK_DEPLOYMENT in document["metadata"]["finalizers"]
    stored = read_spec_with_meta(status["reconciliationStatus"]["lastReconciledSpec"])
    assert stored.metadata is not None and stored.metadata.api_version == "flink.apache.org/v1beta1"
    reasons = await env.reasons("demo")
    assert "Submit" in reasons and "JobStatusChanged" in reasons
    recorder = listener(env, "recorder")
    await until(
        lambda: any(
            m == "on_deployment_status_update"
            and ctx.new_status.lifecycle_state
            and ctx.new_status.lifecycle_state.value == "STABLE"
            for m, ctx in recorder.heard
        ),
        what="the STABLE status reaches the listener",
    )
    await until(
        lambda: any(m == "on_deployment_event" and ctx.event.reason == "Submit" for m, ctx in recorder.heard),
        what="the Submit event reaches the listener",
    )
    lifecycles = [
        ctx.new_status.lifecycle_state.value
        for m, ctx in recorder.heard
        if m == "on_deployment_status_update" and ctx.new_status.lifecycle_state
    ]
    assert lifecycles[0] in ("CREATED", "UPGRADING") and lifecycles[-1] == "STABLE"


@pytest.mark.parametrize(
    ("mode", "config", "keeps_state"),
    [
        ("stateless", CHECKPOINTING, False),
        ("savepoint", CHECKPOINTING, True),
        ("last-state", CHECKPOINTING, True),
        ("last-state", {**CHECKPOINTING, **HA}, True),
    ],
    ids=["stateless", "savepoint", "last-state", "last-state-ha"],
)
async def test_upgrade_modes(
    make_env: Any, fake_flink: FakeFlinkService, mode: str, config: dict[str, str], keeps_state: bool
) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode=mode, config=config))
    await env.wait_settled("demo", 1)
    old = await wait_until_running(fake_flink, env.ref("demo"))
    await until(
        lambda: old.count() > 20 and old.latest_completed() is not None, what="progress and a checkpoint"
    )
    counted = old.count()
    await env.patch_job("demo", parallelism=2)
    document = await env.wait_settled("demo", 2)
    new = await wait_until_running(fake_flink, env.ref("demo"))
    running = fake_flink.running_jobs()
    assert [(ref.name, job) for ref, job, _ in running] == [("demo", new.jid)], "exactly one job runs"
    assert new.parallelism == 2
    if keeps_state:
        assert new.restored is not None, "the new job restored the old job's state"
        assert new.restored.count > 0 and new.count() >= new.restored.count
        if mode == "savepoint":
            assert new.restored.count >= counted, "stop-with-savepoint captured the latest count"
    else:
        assert new.restored is None
    if config.get("high-availability.type"):
        assert new.jid == old.jid
    else:
        assert new.jid != old.jid
    assert document["status"]["jobStatus"]["jobId"] == new.jid
    assert (await env.reasons("demo")).count("SpecChanged") == 1


async def test_suspend_and_resume_keep_state(make_env: Any, fake_flink: FakeFlinkService) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=CHECKPOINTING))
    await env.wait_settled("demo", 1)
    old = await wait_until_running(fake_flink, env.ref("demo"))
    await until(lambda: old.count() > 20, what="progress")
    await env.patch_job("demo", state="suspended")
    suspended = await env.wait_settled("demo", 2, state="SUSPENDED")
    assert condition(suspended, "Ready")["reason"] == "Suspended"
    await until(lambda: not fake_flink.refs, what="the suspended job's cluster is removed")
    saved = suspended["status"]["jobStatus"]["upgradeSavepointPath"]
    assert "savepoint-" in saved
    await env.patch_job("demo", state="running")
    await env.wait_settled("demo", 3)
    new = await wait_until_running(fake_flink, env.ref("demo"))
    assert new.restored is not None and new.restored.path == saved and new.restored.count >= 20


async def test_restart_nonce_restarts_the_job(make_env: Any, fake_flink: FakeFlinkService) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="stateless"))
    await env.wait_settled("demo", 1)
    first = await wait_until_running(fake_flink, env.ref("demo"))
    await env.patch_spec("demo", {"restartNonce": 1})
    await env.wait_settled("demo", 2)
    second = await wait_until_running(fake_flink, env.ref("demo"))
    assert second.jid != first.jid
    assert len(fake_flink.running_jobs()) == 1


async def test_invalid_change_is_rejected_and_the_old_job_keeps_running(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="stateless"))
    await env.wait_settled("demo", 1)
    running = await wait_until_running(fake_flink, env.ref("demo"))
    await env.patch_job("demo", parallelism=0)  # no TaskManager replicas either: rejected by the validator

    def rejected(document: dict[str, Any] | None) -> bool:
        return "parallelism" in ((document or {}).get("status") or {}).get("error", "")

    document = await env.wait_for("demo", rejected, what="status.error naming the field")
    error = json.loads(document["status"]["error"])  # type: ignore[index]
    assert error["type"].endswith("ValidationException")
    events = [e for e in await env.events("demo") if e["reason"] == "ValidationError"]
    assert events and events[0]["type"] == "Warning" and "parallelism" in events[0]["message"]
    assert document["status"]["observedGeneration"] == 1  # type: ignore[index]
    assert condition(document, "Ready")["reason"] == "InvalidSpec"
    assert fake_flink.job(env.ref("demo")) is running and running.state is JobState.RUNNING
    assert len(fake_flink.deployed) == 1
    await env.patch_job("demo", parallelism=2)
    fixed = await env.wait_settled("demo", 3)
    assert "error" not in fixed["status"]


async def test_delete_leaves_nothing_behind(make_env: Any, fake_flink: FakeFlinkService) -> None:
    env = await make_env(RECORDING)
    await env.create(deployment_document("demo", upgrade_mode="last-state", config={**CHECKPOINTING, **HA}))
    await env.wait_settled("demo", 1)
    await wait_until_running(fake_flink, env.ref("demo"))
    await env.delete("demo")
    await env.wait_for("demo", lambda d: d is None, what="the resource is gone")
    assert not fake_flink.refs and not fake_flink.running_jobs()
    assert not await fake_flink.ha_metadata_available(env.ref("demo"))
    assert not fake_flink.server.clusters
    assert "Cleanup" in await env.reasons("demo")
    recorder = listener(env, "recorder")
    await until(
        lambda: any(
            m == "on_deployment_status_update"
            and ctx.new_status.lifecycle_state
            and ctx.new_status.lifecycle_state.value == "DELETED"
            for m, ctx in recorder.heard
        ),
        what="the final DELETED notification",
    )


async def test_status_conflict_is_retried(make_env: Any, api_server: Any) -> None:
    env = await make_env()
    rule = api_server.hooks.faults.fail_next("PUT", r"/flinkdeployments/demo/status$", 409, times=2)
    await env.create(deployment_document("demo", upgrade_mode="stateless"))
    await env.wait_settled("demo", 1)
    assert rule.hits == 2


async def test_lost_jobmanager_is_recovered(make_env: Any, fake_flink: FakeFlinkService) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=CHECKPOINTING))
    await env.wait_settled("demo", 1)
    old = await wait_until_running(fake_flink, env.ref("demo"))
    await until(lambda: old.latest_completed() is not None and old.count() > 10, what="a checkpoint")
    fake_flink.kill_jobmanager(env.ref("demo"))
    await until(
        lambda: (
            (job := fake_flink.job(env.ref("demo"))) is not None
            and job is not old
            and job.state is JobState.RUNNING
        ),
        within=10,
        what="a recovered job",
    )
    recovered = fake_flink.job(env.ref("demo"))
    assert recovered is not None and recovered.restored is not None and recovered.restored.count > 0
    assert "RecoverDeployment" in await env.reasons("demo")


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.3f}" for value in values) + " s"


LISTENER_HARM = {
    LISTENER + "hanging.class": "tests.support.controller_plugins:AsyncHangingListener",
    LISTENER + "raising.class": "tests.support.controller_plugins:AsyncRaisingListener",
}


async def test_hanging_and_raising_listeners_do_not_delay_reconciles(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    """Each reconcile notifies the listeners; a hanging one (timed out after 1 s) and a raising one must
    not add to the time from a spec change to its recorded reaction."""
    timings: dict[str, list[float]] = {}
    for label, config in (("baseline", {}), ("harmful listeners", LISTENER_HARM)):
        env = await make_env(config)
        name = "base" if label == "baseline" else "harm"
        delays = []
        for generation in range(1, 4):
            started = time.monotonic()
            if generation == 1:
                await env.create(deployment_document(name, upgrade_mode="stateless"))
            else:
                await env.patch_spec(name, {"restartNonce": generation})
            await env.wait_for(
                name,
                lambda d, g=generation: (
                    (d or {}).get("status", {}).get("observedGeneration") == g
                    and lifecycle(d) in ("DEPLOYED", "STABLE", "UPGRADING")
                ),
                what=f"generation {generation} picked up",
            )
            delays.append(time.monotonic() - started)
            await env.wait_settled(name, generation)
        timings[label] = delays
        if label == "baseline":
            await env.close()
    harm = [listener_of(env, name) for name in ("hanging", "raising")]
    assert all(plugin.calls > 0 for plugin in harm), "both listeners were called"
    deliveries = "flink_operator_listener_deliveries_total"
    metrics = env.operators[-1].metrics
    assert metrics is not None
    registry = metrics.registry
    await until(
        lambda: (
            (registry.get_sample_value(deliveries, {"listener": "hanging", "outcome": "timeout"}) or 0) > 0
        ),
        what="the hanging listener's calls are timed out and counted",
    )
    assert (registry.get_sample_value(deliveries, {"listener": "raising", "outcome": "error"}) or 0) > 0
    worst = max(timings["harmful listeners"])
    extra = worst - max(timings["baseline"])
    print(
        f"\nspec change -> recorded reaction: baseline {_seconds(timings['baseline'])}, "
        f"with a hanging and a raising listener {_seconds(timings['harmful listeners'])}; "
        f"worst extra delay {extra:.3f} s"
    )
    assert worst < 1.0, f"a reconcile was delayed to {worst:.3f} s by listeners"


async def test_mutators_change_what_is_deployed_but_never_the_users_spec(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    env = await make_env(
        {
            MUTATOR + "class": "tests.support.controller_plugins:PipelineNameMutator",
            MUTATOR + "name": "renamed-by-policy",
        }
    )
    await env.create(deployment_document("demo", upgrade_mode="stateless"))
    document = await env.wait_settled("demo", 1)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    assert job.name == "renamed-by-policy"
    assert "pipeline.name" not in document["spec"]["flinkConfiguration"]
    stored = read_spec_with_meta(document["status"]["reconciliationStatus"]["lastReconciledSpec"])
    assert stored.spec["flinkConfiguration"]["pipeline.name"] == "renamed-by-policy"
    # The mutation is deterministic: nothing looks changed on the next reconciles.
    await env.patch_spec("demo", {"image": "flink:2.3"})
    await env.wait_settled("demo", 2)
    assert (await env.reasons("demo")).count("SpecChanged") == 1


async def test_a_slow_and_failing_jobmanager_during_an_upgrade_loses_no_state(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=CHECKPOINTING))
    await env.wait_settled("demo", 1)
    old = await wait_until_running(fake_flink, env.ref("demo"))
    await until(lambda: old.count() > 20, what="progress")
    counted = old.count()
    # The first matching rule applies: the stop requests fail twice, then every request is slow.
    fake_flink.fail_rest(env.ref("demo"), status=503, times=2, path="/jobs/*/stop")
    fake_flink.slow_rest(env.ref("demo"), 0.2, times=None)
    await env.patch_job("demo", parallelism=2)
    await env.wait_settled("demo", 2, within=30)
    new = await wait_until_running(fake_flink, env.ref("demo"))
    assert new.restored is not None and "savepoint-" in new.restored.path
    assert new.restored.count >= counted
    assert "SavepointError" in await env.reasons("demo")
    assert len(fake_flink.running_jobs()) == 1
