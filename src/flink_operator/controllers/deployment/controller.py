"""The FlinkDeployment reconciler: the thin async shell around `planner.decide`.

One reconcile, for one key (the runtime never runs two at once for a key):

1. read the resource from the cache (status overlaid with this writer's last write); canaries are skipped;
   the finalizer is added before anything is deployed;
2. validate the user's spec (default validator + plugins), then apply plugin mutators in memory (the
   result is what gets deployed and recorded in lastReconciledSpec; the resource's spec is never written);
3. gather facts from the FlinkService and apply them to the status (`observation.apply_observation`);
4. `decide` (pure) -> a `Step`;
5. write the step's status (the intent: resourceVersion-locked, skipped when unchanged), record its events
   (then remember how far the job's exception history was reported), remove the one-shot annotations the
   decision consumed (cancel-deploy);
6. perform its action, if any; compute the outcome (pure), write it, record its events;
7. on deletion, release the finalizer and tell listeners about the final (DELETED) status;
8. return when to look again.

A crash between any two of these lines is safe: the next reconcile reads the last written status and the
world, and `decide` picks up from there (see `transitions` for the invariants).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from flink_operator.api import (
    FINALIZER_FLINK_DEPLOYMENT,
    LABEL_CANARY,
    FlinkDeployment,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobKind,
    JobState,
    ReconciliationState,
)
from flink_operator.controllers.common.event_recording import record_events
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.job_exceptions import ExceptionMarks
from flink_operator.controllers.common.listener_bridge import ListenerBridge
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.deployment import planner
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.inputs import build_context
from flink_operator.controllers.deployment.runtime_calls import perform
from flink_operator.controllers.deployment.steps import Outcome
from flink_operator.controllers.sessionjob.deletion import SessionJobRef
from flink_operator.controllers.sessionjob.options import FORCE_DELETION_ANNOTATION
from flink_operator.controllers.snapshot.controller import FLINK_STATE_SNAPSHOT
from flink_operator.controllers.snapshot.job_hooks import JobSnapshotCall, JobSnapshotResult, JobSnapshots
from flink_operator.controllers.snapshot.timestamps import from_k8s_time
from flink_operator.controllers.snapshot.wiring import snapshot_watch
from flink_operator.flink.service import FlinkService
from flink_operator.runtime import (
    ControllerContext,
    ControllerSpec,
    Kind,
    Request,
    Result,
    Watch,
    map_by_field,
    map_to_owner,
)

_log = logging.getLogger(__name__)

SnapshotWork = tuple[JobSnapshotCall[FlinkDeploymentStatus], JobSnapshotResult[FlinkDeploymentStatus]]

FLINK_DEPLOYMENT = Kind.custom("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
JOBMANAGER_DEPLOYMENT = Kind("apps", "v1", "Deployment", "deployments")
FLINK_SESSION_JOB = Kind.custom("flink.apache.org", "v1beta1", "FlinkSessionJob", "flinksessionjobs")
JSON = dict[str, Any]


@dataclass
class DeploymentControllerDeps:
    """Long-lived collaborators, shared by the reconcilers of every leadership term."""

    flink: FlinkService
    plugins: Any
    """A `PluginHost` (validators, mutators, masker)."""
    bridge: ListenerBridge[FlinkDeployment] | None = None
    clock: Callable[[], float] = time.time
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    snapshots: JobSnapshots | None = None
    """Savepoints and checkpoints of the job (`controllers.snapshot`); None: none are taken."""


class FlinkDeploymentController:
    """The `Reconciler` of FlinkDeployments (built by the runtime once per leadership term)."""

    def __init__(self, ctx: ControllerContext, deps: DeploymentControllerDeps) -> None:
        self.ctx = ctx
        self.deps = deps
        self._failures: dict[Request, int] = {}
        self._exceptions = ExceptionMarks()
        if deps.bridge is not None:
            deps.bridge.bind(ctx.get)

    # ------------------------------------------------------------------------------------ the reconcile

    async def reconcile(self, request: Request) -> Result:
        raw = self.ctx.get(request)
        if raw is None:
            self._failures.pop(request, None)
            return Result.done()
        try:
            resource = FlinkDeployment.from_dict(raw)
        except ValidationError as error:
            _log.error("FlinkDeployment %s cannot be read, not reconciling it: %s", request, error)
            return Result.done()
        labels = resource.metadata.labels or {}
        if labels.get(LABEL_CANARY) == "true":
            return Result.done()
        deleting = resource.metadata.deletion_timestamp is not None
        finalizers = self.ctx.finalizers
        if finalizers is not None:
            if deleting and not finalizers.present(raw):
                return Result.done()
            if not deleting and not finalizers.present(raw):
                raw = self.ctx.status.observe(await finalizers.add(raw))

        context = await self._context(resource)
        context, snapshot_work = await self._observe_snapshots(resource, context, deleting)
        step = planner.decide(context)
        _log.debug("FlinkDeployment %s: %s", request, step.note)
        raw = await self._write(raw, step.status)
        await self._record(raw, resource, step.events)
        self._exceptions_reported(resource, context)
        if step.clear_annotations:
            raw = await self._clear_annotations(raw, resource, step.clear_annotations)
        if step.action is None:
            requeue = step.requeue.after
            return await self._trigger_snapshots(raw, resource, step.status, requeue, snapshot_work)

        ref = context.ref
        _log.info("FlinkDeployment %s: %s (%s)", request, step.action.describe(), step.note)
        try:
            result = await perform(self.deps.flink, ref, step.action)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.warning("FlinkDeployment %s: %s failed: %s", request, step.action.describe(), error)
            outcome = step.on_failure(error)
            failures = self._failures.get(request, 0) + 1
            self._failures[request] = failures
            return await self._conclude(raw, resource, outcome, retry=failures, settings=context.settings)
        self._failures.pop(request, None)
        return await self._conclude(raw, resource, step.on_success(result))

    async def _conclude(
        self,
        raw: JSON,
        resource: FlinkDeployment,
        outcome: Outcome,
        *,
        retry: int = 0,
        settings: ResourceSettings | None = None,
    ) -> Result:
        if outcome.remove_finalizer:
            await self._release(raw, resource, outcome.status)
            return Result.done()
        raw = await self._write(raw, outcome.status)
        await self._record(raw, resource, outcome.events)
        if retry and settings is not None:
            return Result.after(settings.retry_delay(retry))
        return Result(outcome.requeue.after)

    def _exception_key(self, resource: FlinkDeployment) -> str:
        return resource.metadata.uid or f"{resource.namespace}/{resource.name}"

    def _exceptions_reported(self, resource: FlinkDeployment, context: DeploymentContext) -> None:
        """The job's exception history was read and its events recorded: remember how far."""
        facts = context.facts
        if facts.exceptions_since_ms is None or facts.job is None:
            return
        key = self._exception_key(resource)
        mark = self._exceptions.get(key, context.now_ms)
        self._exceptions.read(key, mark, facts.job, facts.exceptions)

    async def _clear_annotations(self, raw: JSON, resource: FlinkDeployment, keys: tuple[str, ...]) -> JSON:
        """Remove one-shot request annotations the decision consumed (merge patch; idempotent)."""
        patch = {"metadata": {"annotations": dict.fromkeys(keys)}}
        try:
            patched = await self.ctx.api.patch(FLINK_DEPLOYMENT, resource.name, resource.namespace, patch)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # The decision is recorded in the status already; the next reconcile finds nothing to act on.
            _log.warning(
                "Removing annotations %s of %s/%s failed: %s", keys, resource.namespace, resource.name, error
            )
            return raw
        return self.ctx.status.observe(patched)

    # ------------------------------------------------------------------------------------ snapshots

    async def _observe_snapshots(
        self, resource: FlinkDeployment, context: DeploymentContext, deleting: bool
    ) -> tuple[DeploymentContext, SnapshotWork | None]:
        """Legacy trigger results, upgrade savepoints as snapshot resources, retention; before deciding."""
        snapshots = self.deps.snapshots
        observed = context.observed
        if (
            snapshots is None
            or deleting
            or resource.spec.job is None
            or observed.reconciliation_status.last_reconciled_spec is None
        ):
            return context, None
        call = snapshots.inputs(
            resource,
            observed,
            configuration=self.ctx.configuration,
            snapshot_documents=self._snapshot_documents(resource.namespace),
            now_ms=context.now_ms,
        )
        result = await snapshots.observe(self.ctx.api, call)
        context = replace(
            context,
            observed=result.status,
            observation_events=(*context.observation_events, *result.events),
        )
        return context, (call, result)

    async def _trigger_snapshots(
        self,
        raw: JSON,
        resource: FlinkDeployment,
        status: FlinkDeploymentStatus,
        requeue: float | None,
        work: SnapshotWork | None,
    ) -> Result:
        """Manual and periodic snapshots, when the job runs and nothing else is going on."""
        snapshots = self.deps.snapshots
        if snapshots is None or work is None:
            return Result(requeue)
        call, observed = work
        job = resource.spec.job
        quiet = (
            job is not None
            and job.state is JobState.RUNNING
            and status.reconciliation_status.state is ReconciliationState.DEPLOYED
            and status.observed_generation == resource.metadata.generation
            and status.job_status.state is FlinkJobState.RUNNING
        )
        hints = [observed.requeue]
        if quiet:
            result = await snapshots.trigger(self.ctx.api, call, replace(observed, status=status))
            raw = await self._write(raw, result.status)
            await self._record(raw, resource, result.events)
            hints.append(result.requeue)
        wanted = [delay for delay in (requeue, *hints) if delay is not None]
        return Result(min(wanted) if wanted else None)

    def _snapshot_documents(self, namespace: str) -> list[JSON]:
        try:
            store = self.ctx.store_for(FLINK_STATE_SNAPSHOT)
        except KeyError:
            return []
        return [obj.decode() for obj in store.objects(namespace)]

    # ------------------------------------------------------------------------------------ the inputs

    async def _context(self, resource: FlinkDeployment) -> DeploymentContext:
        report = await self.deps.plugins.validators.validate_deployment(resource)
        validation_error = None if report.ok else report.describe()
        mutated = await self.deps.plugins.mutators.mutate_deployment(resource)
        now_ms = int(self.deps.clock() * 1000)
        session_jobs, managed = self._session_jobs(resource, now_ms)
        annotations = resource.metadata.annotations or {}
        exceptions = self._exceptions.get(self._exception_key(resource), now_ms)
        return await build_context(
            resource,
            desired=mutated.resource.spec,
            validation_error=validation_error,
            flink=self.deps.flink,
            configuration=self.ctx.configuration,
            now_ms=now_ms,
            new_id=self.deps.new_id,
            session_jobs=session_jobs,
            managed_job_ids=managed,
            force_deletion=annotations.get(FORCE_DELETION_ANNOTATION, "").lower() == "true",
            exceptions=exceptions,
        )

    def _session_jobs(
        self, resource: FlinkDeployment, now_ms: int
    ) -> tuple[tuple[SessionJobRef, ...], frozenset[str]]:
        """The FlinkSessionJobs naming this (session) deployment, and the job ids they record."""
        if resource.spec.job is not None:
            return (), frozenset()
        try:
            store = self.ctx.store_for(FLINK_SESSION_JOB)
        except KeyError:
            return (), frozenset()
        refs: list[SessionJobRef] = []
        ids: set[str] = set()
        for cached in store.objects(resource.namespace):
            document = cached.decode()
            if (document.get("spec") or {}).get("deploymentName") != resource.name:
                continue
            started = from_k8s_time(cached.deletion_timestamp)
            deleting_for = max((now_ms - started) / 1000, 0.0) if started is not None else 0.0
            refs.append(SessionJobRef(cached.name, cached.deletion_timestamp is not None, deleting_for))
            job_id = ((document.get("status") or {}).get("jobStatus") or {}).get("jobId")
            if isinstance(job_id, str) and job_id:
                ids.add(job_id)
        return tuple(sorted(refs, key=lambda r: r.name)), frozenset(ids)

    # ------------------------------------------------------------------------------------ the outputs

    async def _write(self, raw: JSON, status: FlinkDeploymentStatus) -> JSON:
        document = status_document(status)
        written = await self.ctx.status.write(raw, document)
        if written is not None:
            return written
        return {**raw, "status": document}

    async def _record(self, raw: JSON, resource: FlinkDeployment, events: tuple[EventSpec, ...]) -> None:
        if events:
            secrets = self.deps.plugins.masker.secret_values(resource)
            await record_events(self.ctx.events, raw, events, secret_values=secrets)

    async def _release(self, raw: JSON, resource: FlinkDeployment, final: FlinkDeploymentStatus) -> None:
        previous = resource.status
        if self.ctx.finalizers is not None:
            await self.ctx.finalizers.remove(raw)
        self.ctx.status.forget(_key(raw))
        self._exceptions.forget(self._exception_key(resource))
        if self.deps.snapshots is not None:
            self.deps.snapshots.forget(resource.metadata.uid or f"{resource.namespace}/{resource.name}")
        _log.info("FlinkDeployment %s/%s: deleted", resource.namespace, resource.name)
        if self.deps.bridge is not None:
            gone = resource.model_copy(deep=True)
            gone.status = final
            self.deps.bridge.notify_final(gone, previous)


def status_document(status: FlinkDeploymentStatus) -> JSON:
    """The status as written: unset fields are left out rather than written as null (the CRD schema has no
    nullable fields, and a replaced status drops what it does not carry)."""
    cleaned = _without_nulls(status.to_dict())
    assert isinstance(cleaned, dict)
    return cleaned


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _key(raw: JSON) -> Request:
    metadata = raw.get("metadata") or {}
    return Request(metadata.get("namespace") or "", metadata.get("name") or "")


def deployment_controller_spec(
    deps: DeploymentControllerDeps, *, name: str = "flinkdeployment", watch_jobmanagers: bool = False
) -> ControllerSpec:
    """The runtime registration of the FlinkDeployment controller.

    Primary: FlinkDeployments, with upstream's finalizer. Secondary watches: FlinkSessionJobs, mapped to the
    session cluster they name (a session being deleted waits for them); the job's FlinkStateSnapshots
    (when the CRD is installed) and, with `watch_jobmanagers` (clusters on Kubernetes), the JobManager
    Deployments (`component=jobmanager`), mapped to the FlinkDeployment that owns them, so a JobManager
    becoming available or failing is seen at once rather than at the next progress check.
    """
    bridge = deps.bridge
    snapshots = deps.snapshots
    watches = [Watch(FLINK_SESSION_JOB, map_by_field("spec", "deploymentName"))]
    if snapshots is not None and snapshots.crd_installed:
        watches.append(snapshot_watch(JobKind.FLINK_DEPLOYMENT))
    if watch_jobmanagers:
        to_owner = map_to_owner(FLINK_DEPLOYMENT)
        watches.append(Watch(JOBMANAGER_DEPLOYMENT, to_owner, label_selector="component=jobmanager"))
    return ControllerSpec(
        name=name,
        kind=FLINK_DEPLOYMENT,
        reconciler=lambda ctx: FlinkDeploymentController(ctx, deps),
        watches=watches,
        finalizer=FINALIZER_FLINK_DEPLOYMENT,
        status_hooks=(bridge.on_status,) if bridge is not None else (),
        event_hooks=(bridge.on_event,) if bridge is not None else (),
    )
