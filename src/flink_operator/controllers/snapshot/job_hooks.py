"""`JobSnapshots`: the snapshot work of the job controllers (FlinkDeployment, FlinkSessionJob), the async
shell around `job_snapshots`.

    snapshots = JobSnapshots(flink)                     # one per controller (it remembers trigger times)
    inputs = snapshots.inputs(resource, status, configuration=..., snapshot_documents=..., now_ms=...)
    observed = await snapshots.observe(api, inputs)     # before deciding: polls, upgrade snapshots, retention
    ... decide and act with observed.status ...
    triggered = await snapshots.trigger(api, inputs_with(observed.status))  # only when nothing else happens

`observe` asks Flink about pending legacy triggers, creates the FlinkStateSnapshots of upgrade savepoints,
deletes snapshot resources beyond retention, and disposes legacy history entries (dropping each from the
status only after its disposal succeeded, stopping at the first failure with a `CleanupFailed` warning; the
next regular reconcile tries again). `trigger` creates snapshot resources or triggers one legacy snapshot
through REST. Neither writes the job's status: both return it, with the events to record, for the caller's
own status write. Failures of Kubernetes or Flink calls are logged and reported as events, never raised.

A refused legacy REST trigger of a manual nonce consumes the nonce (warning with Flink's reason): retrying a
refused request at every reconcile is the storm users complained about; a new nonce asks again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from flink_operator.api import (
    CommonStatus,
    FlinkDeployment,
    FlinkSessionJob,
    FlinkVersion,
    JobKind,
    SnapshotTriggerType,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.snapshot import legacy
from flink_operator.controllers.snapshot.controller import FLINK_STATE_SNAPSHOT, classify_poll_error
from flink_operator.controllers.snapshot.job_snapshots import (
    JobSnapshotInputs,
    LegacyTrigger,
    drop_history_entry,
    observe_job_snapshots,
    pollable_triggers,
    trigger_job_snapshots,
)
from flink_operator.controllers.snapshot.steps import Poll
from flink_operator.controllers.snapshot.summary import snapshots_of_job
from flink_operator.controllers.snapshot.target import snapshot_settings
from flink_operator.controllers.snapshot.timestamps import from_k8s_time
from flink_operator.controllers.snapshot.triggers import TriggerTimestamps, recovered_last_trigger_ms
from flink_operator.flink import config_builder
from flink_operator.flink.service import (
    CheckpointType,
    ClusterRef,
    FlinkService,
    SavepointFormat,
    SnapshotKind,
    SnapshotTrigger,
)
from flink_operator.runtime import KubeApi, status_code

_log = logging.getLogger(__name__)

St = TypeVar("St", bound=CommonStatus)


@dataclass(frozen=True)
class JobSnapshotResult(Generic[St]):
    status: St
    events: tuple[EventSpec, ...] = ()
    requeue: float | None = None
    """Look again this soon (a legacy trigger is pending), None: no wish."""
    hold: frozenset[SnapshotKind] = frozenset()
    """From `observe`: kinds not to trigger in this reconcile (pass the result to `trigger`)."""


@dataclass(frozen=True)
class JobSnapshotCall(Generic[St]):
    """What `JobSnapshots.inputs` prepares: the planner inputs, where the job runs, the resource uid."""

    inputs: JobSnapshotInputs[St]
    cluster: ClusterRef | None
    uid: str

    def with_status(self, status: St) -> JobSnapshotCall[St]:
        return replace(self, inputs=replace(self.inputs, status=status))


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


class JobSnapshots:
    def __init__(
        self,
        flink: FlinkService,
        *,
        crd_installed: bool = True,
        timestamps: TriggerTimestamps | None = None,
    ) -> None:
        self.flink = flink
        self.crd_installed = crd_installed
        self.timestamps = timestamps or TriggerTimestamps()
        self._first_attempts: dict[tuple[str, SnapshotKind], tuple[int | None, int]] = {}
        """(uid, kind) -> (manual nonce, first legacy trigger time of that nonce)."""

    # ------------------------------------------------------------------------------------ inputs

    def inputs(
        self,
        resource: FlinkDeployment | FlinkSessionJob,
        status: St,
        *,
        configuration: DefaultConfiguration,
        snapshot_documents: Iterable[Mapping[str, Any]],
        now_ms: int,
        session: FlinkDeployment | None = None,
    ) -> JobSnapshotCall[St]:
        """Everything the planners need about `resource` (its `status` as observed so far). For a session
        job, `session` is its session FlinkDeployment."""
        namespace = resource.namespace
        if isinstance(resource, FlinkDeployment):
            job_kind = JobKind.FLINK_DEPLOYMENT
            version = resource.spec.flink_version
            configurations: list[Mapping[str, Any] | None] = [resource.spec.flink_configuration]
            cluster = ClusterRef(namespace, resource.name) if resource.spec.job is not None else None
        else:
            job_kind = JobKind.FLINK_SESSION_JOB
            version = session.spec.flink_version if session is not None else None
            configurations = [
                session.spec.flink_configuration if session is not None else None,
                resource.spec.flink_configuration,
            ]
            name = resource.spec.deployment_name
            cluster = ClusterRef(namespace, name) if session is not None and name else None
        settings, effective = snapshot_settings(configuration, namespace, version, *configurations)
        snapshots = tuple(snapshots_of_job(snapshot_documents, namespace, job_kind, resource.name))
        uid = resource.metadata.uid or f"{namespace}/{resource.name}"
        created_ms = from_k8s_time(resource.metadata.creation_timestamp) or now_ms
        info = status.job_status
        legacy_ms = {
            SnapshotKind.SAVEPOINT: info.savepoint_info.last_periodic_savepoint_timestamp,
            SnapshotKind.CHECKPOINT: info.checkpoint_info.last_periodic_checkpoint_timestamp,
        }

        def recover(kind: SnapshotKind) -> Callable[[], int]:
            return lambda: recovered_last_trigger_ms(kind, snapshots, legacy_ms[kind], created_ms)

        last = {kind: self.timestamps.last(uid, kind, recover(kind)) for kind in legacy_ms}
        job = resource.spec.job
        nonces = {
            SnapshotKind.SAVEPOINT: job.savepoint_trigger_nonce if job is not None else None,
            SnapshotKind.CHECKPOINT: job.checkpoint_trigger_nonce if job is not None else None,
        }
        first_attempts = {
            kind: attempt[1]
            for kind in nonces
            if (attempt := self._first_attempts.get((uid, kind))) is not None and attempt[0] == nonces[kind]
        }
        return JobSnapshotCall(
            JobSnapshotInputs(
                job_kind=job_kind,
                namespace=namespace,
                name=resource.name,
                status=status,
                settings=settings,
                now_ms=now_ms,
                resources_enabled=self.crd_installed and settings.resources_enabled,
                savepoint_nonce=job.savepoint_trigger_nonce if job is not None else None,
                checkpoint_nonce=job.checkpoint_trigger_nonce if job is not None else None,
                snapshots=snapshots,
                savepoint_dir=config_builder.savepoint_dir(effective),
                checkpoints_supported=version is None or version.is_equal_or_newer(FlinkVersion.v1_17),
                last_periodic_ms=last,
                first_attempt_ms=first_attempts,
            ),
            cluster,
            uid,
        )

    def forget(self, uid: str) -> None:
        """A job resource is gone: drop what is remembered about it."""
        self.timestamps.forget(uid)
        for key in [k for k in self._first_attempts if k[0] == uid]:
            del self._first_attempts[key]

    # ------------------------------------------------------------------------------------ observe

    async def _polls(self, call: JobSnapshotCall[Any]) -> dict[SnapshotKind, Poll]:
        inputs = call.inputs
        job_id = inputs.status.job_status.job_id
        polls: dict[SnapshotKind, Poll] = {}
        if call.cluster is None or not job_id or not inputs.job_running:
            return polls
        for kind, pending in pollable_triggers(inputs.status):
            try:
                result = await self.flink.snapshot_result(
                    call.cluster, SnapshotTrigger(kind, job_id, pending.trigger_id)
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                polls[kind] = classify_poll_error(error)
            else:
                polls[kind] = Poll(result=result)
        return polls

    async def observe(self, api: KubeApi, call: JobSnapshotCall[St]) -> JobSnapshotResult[St]:
        """Observation-time snapshot work (see the module docstring)."""
        inputs = replace(call.inputs, polls=await self._polls(call))
        plan = observe_job_snapshots(inputs)
        events = list(plan.events)
        for document in plan.create:
            await self._create(api, document, events)
        for name in plan.delete:
            await self._delete(api, inputs.namespace, name)
        status = plan.status
        for item in plan.prune:
            location = item.savepoint.location or ""
            if item.dispose:
                try:
                    await self.flink.dispose_savepoint(call.cluster, location)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    message = (
                        f"Disposing savepoint {location} failed: {_describe(error)}; it stays in the "
                        "savepoint history and is tried again at the next reconcile"
                    )
                    events.append(
                        ev.warning(
                            Reason.CLEANUP_FAILED,
                            Component.OPERATOR,
                            message,
                            message_key=f"HistoryDisposalFailed-{location}",
                        )
                    )
                    break
            status = drop_history_entry(status, item.savepoint)
        return JobSnapshotResult(status, tuple(events), plan.requeue, plan.hold)

    # ------------------------------------------------------------------------------------ trigger

    async def trigger(
        self, api: KubeApi, call: JobSnapshotCall[St], observed: JobSnapshotResult[St] | None = None
    ) -> JobSnapshotResult[St]:
        """Trigger-time snapshot work (call only when the job runs and no other change is in progress);
        `observed` is this reconcile's `observe` result (its status and held kinds are used)."""
        inputs = call.inputs
        if observed is not None:
            inputs = replace(inputs, status=observed.status, hold=inputs.hold | observed.hold)
        plan = trigger_job_snapshots(inputs)
        for kind in plan.periodic:
            self.timestamps.record(call.uid, kind, inputs.now_ms)
        events: list[EventSpec] = list(plan.events)
        status = inputs.status
        if plan.create:
            created = True
            for document in plan.create:
                created = await self._create(api, document, events) and created
            if created:
                status = plan.status
        if plan.legacy_trigger is not None:
            status = await self._legacy_trigger(call, status, plan.legacy_trigger, events)
        wanted = [plan.requeue]
        if plan.legacy_trigger is not None:
            wanted.append(inputs.settings.progress_check_interval)
        delays = [delay for delay in wanted if delay is not None]
        return JobSnapshotResult(status, tuple(events), min(delays) if delays else None)

    async def _legacy_trigger(
        self, call: JobSnapshotCall[St], status: St, trigger: LegacyTrigger, events: list[EventSpec]
    ) -> St:
        inputs = call.inputs
        job_id = status.job_status.job_id
        if call.cluster is None or not job_id:
            return status
        try:
            if trigger.kind is SnapshotKind.SAVEPOINT:
                result = await self.flink.trigger_savepoint(
                    call.cluster,
                    job_id,
                    target_dir=trigger.savepoint_dir,
                    savepoint_format=SavepointFormat(trigger.savepoint_format.value),
                )
            else:
                checkpoint_type = CheckpointType(inputs.settings.checkpoint_type.value)
                result = await self.flink.trigger_checkpoint(
                    call.cluster, job_id, checkpoint_type=checkpoint_type
                )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            nonce = inputs.nonce(trigger.kind)
            failed = legacy.failure_message(trigger.kind, trigger.trigger_type, nonce)
            message = f"{failed}: {_describe(error)}"
            savepoint = trigger.kind is SnapshotKind.SAVEPOINT
            reason = Reason.SAVEPOINT_ERROR if savepoint else Reason.CHECKPOINT_ERROR
            events.append(ev.warning(reason, Component.OPERATOR, message))
            if trigger.trigger_type is SnapshotTriggerType.MANUAL:
                return legacy.with_reconciled_nonce(status, trigger.kind, nonce)
            return status
        if trigger.trigger_type is SnapshotTriggerType.MANUAL:
            nonce = inputs.nonce(trigger.kind)
            known = self._first_attempts.get((call.uid, trigger.kind))
            if known is None or known[0] != nonce:
                self._first_attempts[(call.uid, trigger.kind)] = (nonce, inputs.now_ms)
        return legacy.record_trigger(
            status,
            trigger.kind,
            result.trigger_id,
            trigger.trigger_type,
            inputs.now_ms,
            savepoint_format=trigger.savepoint_format,
            checkpoint_type=inputs.settings.checkpoint_type,
        )

    # ------------------------------------------------------------------------------------ Kubernetes

    async def _create(self, api: KubeApi, document: Mapping[str, Any], events: list[EventSpec]) -> bool:
        metadata = document["metadata"]
        try:
            await api.create(FLINK_STATE_SNAPSHOT, document, metadata["namespace"])
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if status_code(error) == 409:
                return True  # created before (a repeated reconcile): the same name means the same snapshot
            message = f"Could not create FlinkStateSnapshot {metadata['name']}: {_describe(error)}"
            _log.warning(message)
            events.append(ev.warning(Reason.SAVEPOINT_ERROR, Component.OPERATOR, message))
            return False
        _log.info("Created FlinkStateSnapshot %s/%s", metadata["namespace"], metadata["name"])
        return True

    async def _delete(self, api: KubeApi, namespace: str, name: str) -> None:
        try:
            await api.delete(FLINK_STATE_SNAPSHOT, name, namespace)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if status_code(error) != 404:
                _log.warning("Could not delete FlinkStateSnapshot %s/%s: %s", namespace, name, error)
            return
        _log.info("Deleted FlinkStateSnapshot %s/%s (retention)", namespace, name)
