"""The FlinkSessionJob reconciler: the thin async shell around `planner.decide`.

One reconcile, for one key (never two at once for a key):

1. read the session job (status overlaid with this writer's last write) and its session FlinkDeployment
   from the watched cache; canaries are skipped; the finalizer is added before anything is submitted;
2. validate (default validator + plugins, which get the session cluster), apply plugin mutators in memory;
3. ask the session cluster about the job (`gather_facts`) and apply the answers (`observation`), then the
   snapshot observation of `JobSnapshots` (legacy triggers, upgrade savepoints, retention);
4. `decide` (pure) -> a `Step`; write its status (the intent), record its events, perform its action,
   write the outcome; snapshot triggers run only after a step that found nothing to do;
5. on deletion, release the finalizer and tell listeners about the final (DELETED) status.

A crash between any two of these lines is safe: the next reconcile reads the last written status and the
session's answers, and `decide` picks up from there.
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
    FINALIZER_FLINK_SESSION_JOB,
    LABEL_CANARY,
    FlinkJobState,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkSessionJobStatus,
    JobKind,
    JobManagerDeploymentStatus,
    ReconciliationState,
    UpgradeMode,
    read_spec,
)
from flink_operator.config import Configuration, DefaultConfiguration
from flink_operator.config import resource_options as ro
from flink_operator.controllers.common.event_recording import record_events
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.job_exceptions import (
    ExceptionMark,
    ExceptionMarks,
    JobReporting,
    should_read_exceptions,
)
from flink_operator.controllers.common.listener_bridge import ListenerBridge
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs
from flink_operator.controllers.sessionjob import options as so
from flink_operator.controllers.sessionjob import planner
from flink_operator.controllers.sessionjob.context import Facts, SessionJobContext, SessionJobSettings
from flink_operator.controllers.sessionjob.deletion import SessionAvailability
from flink_operator.controllers.sessionjob.observation import apply_observation, wants
from flink_operator.controllers.sessionjob.session_view import SessionView, availability, session_view
from flink_operator.controllers.sessionjob.steps import Action, CancelJob, Outcome, Step, SubmitJob
from flink_operator.controllers.snapshot.controller import FLINK_STATE_SNAPSHOT
from flink_operator.controllers.snapshot.job_hooks import JobSnapshotResult, JobSnapshots
from flink_operator.controllers.snapshot.wiring import snapshot_watch
from flink_operator.flink import config_builder
from flink_operator.flink.service import (
    ClusterRef,
    FlinkService,
    JobExceptionInfo,
    JobFailure,
    JobNotFoundError,
    JobSummary,
)
from flink_operator.runtime import (
    ControllerContext,
    ControllerSpec,
    Kind,
    ObjectKey,
    Request,
    Result,
    Watch,
    field_indexer,
    map_by_index,
)

_log = logging.getLogger(__name__)

FLINK_SESSION_JOB = Kind.custom("flink.apache.org", "v1beta1", "FlinkSessionJob", "flinksessionjobs")
FLINK_DEPLOYMENT = Kind.custom("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
BY_SESSION_INDEX = "sessionjob.deploymentName"
"""Index of session jobs by `<namespace>/<spec.deploymentName>` (maps a session change to its jobs)."""
JSON = dict[str, Any]


@dataclass
class SessionJobControllerDeps:
    """Long-lived collaborators, shared by the reconcilers of every leadership term."""

    flink: FlinkService
    plugins: Any
    """A `PluginHost` (validators, mutators, masker)."""
    bridge: ListenerBridge[FlinkSessionJob] | None = None
    snapshots: JobSnapshots | None = None
    """Snapshot work (manual/periodic triggers, upgrade snapshots, retention); None: none."""
    clock: Callable[[], float] = time.time
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def session_job_settings(
    configuration: DefaultConfiguration, resource: FlinkSessionJob, session: SessionView
) -> tuple[dict[str, str], ResourceSettings, SessionJobSettings]:
    """(effective configuration, settings, session settings); a bad per-resource option falls back to the
    defaults (the validator reports it)."""
    model = session.model
    version = model.spec.flink_version.value if model is not None and model.spec.flink_version else None
    operator = configuration.for_resource(resource.namespace, version)
    try:
        effective = configuration.effective(
            resource.namespace, version, session.flink_configuration, resource.spec.flink_configuration
        )
        dynamic = Configuration(effective)
        settings = ResourceSettings.from_configs(operator, dynamic)
    except ValueError as error:
        _log.info(
            "FlinkSessionJob %s/%s: using default settings: %s", resource.namespace, resource.name, error
        )
        effective = operator.as_dict()
        dynamic = operator
        settings = ResourceSettings.from_configs(operator, operator)
    try:
        block = dynamic.get(ro.SESSION_DELETION_BLOCK_ON_SESSION_JOBS)
        timeout = dynamic.get(so.SESSION_JOB_CANCEL_TIMEOUT).total_seconds()
    except ValueError:
        block, timeout = True, so.SESSION_JOB_CANCEL_TIMEOUT.default.total_seconds()
    session_ha = config_builder.ha_enabled(
        configuration.effective(resource.namespace, version, session.flink_configuration)
        if model is not None
        else {}
    )
    return effective, settings, SessionJobSettings(block, timeout, session_ha)


def _stateful(spec: FlinkSessionJobSpec, reconciled: FlinkSessionJobSpec | None) -> bool:
    return any(
        s is not None and s.job is not None and s.job.upgrade_mode is not UpgradeMode.STATELESS
        for s in (spec, reconciled)
    )


def _reconciled(status: FlinkSessionJobStatus) -> FlinkSessionJobSpec | None:
    text = status.reconciliation_status.last_reconciled_spec
    if text is None:
        return None
    try:
        return read_spec(text, FlinkSessionJobSpec)
    except ValueError:
        return None


async def gather_facts(
    flink: FlinkService,
    view: SessionView,
    status: FlinkSessionJobStatus,
    *,
    stateful: bool,
    change_pending: bool,
    deleting: bool,
    exceptions: ExceptionMark | None = None,
    exceptions_limit: int = 10,
) -> Facts:
    """Ask the session cluster what the decision needs; never raises (a failing call is a fact).

    `exceptions`: what was reported of the job's exception history so far (None: do not read it)."""
    state, detail = availability(view)
    # A session being deleted still answers while it waits for its session jobs: a job being deleted may
    # then cancel its job normally.
    queryable = state is SessionAvailability.READY or (
        state is SessionAvailability.DELETING
        and deleting
        and view.jm_status is JobManagerDeploymentStatus.READY
    )
    if not queryable:
        return Facts(session=state, session_detail=detail)
    ref = ClusterRef(view.namespace, view.name)
    wanted = wants(status, stateful=stateful, change_pending=change_pending, deleting=deleting)
    session = SessionAvailability.READY
    job = None
    job_error = None
    if wanted.job_id is not None:
        try:
            job = await flink.job_status(ref, wanted.job_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            job_error = _describe(error)
            session, detail = SessionAvailability.UNREACHABLE, f"REST call failed: {job_error}"
    checkpoint = None
    checked = False
    lost = wanted.job_id is not None and job is None and job_error is None
    # A job that stopped (now or before) or got lost restores from its latest retained checkpoint.
    stopped = job is not None and job.terminal
    need = wanted.latest_checkpoint or (stateful and (lost or stopped))
    if job_error is None and status.job_status.job_id and need:
        try:
            checkpoint = await flink.latest_checkpoint(ref, status.job_status.job_id)
            checked = True
        except asyncio.CancelledError:
            raise
        except JobNotFoundError:
            checked = True
        except Exception as error:
            _log.info(
                "Latest checkpoint of job %s on %s not available: %s", status.job_status.job_id, ref, error
            )
    failure, since, found = await _failure_and_exceptions(
        flink, ref, status, job, exceptions, exceptions_limit
    )
    return Facts(
        session=session,
        session_detail=detail,
        job_id_checked=wanted.job_id,
        job=job,
        job_error=job_error,
        checkpoint_checked=checked,
        latest_checkpoint=checkpoint,
        job_failure=failure,
        exceptions_since_ms=since,
        exceptions=found,
    )


async def _failure_and_exceptions(
    flink: FlinkService,
    ref: ClusterRef,
    status: FlinkSessionJobStatus,
    job: JobSummary | None,
    mark: ExceptionMark | None,
    limit: int,
) -> tuple[JobFailure | None, int | None, tuple[JobExceptionInfo, ...]]:
    """A newly FAILED job's root cause, and its new exceptions when there may be some."""
    if job is None:
        return None, None, ()
    failure = None
    if job.state == FlinkJobState.FAILED.value and status.job_status.state is not FlinkJobState.FAILED:
        try:
            failure = await flink.job_failure(ref, job.job_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.info("Failure cause of job %s on %s not available: %s", job.job_id, ref, _describe(error))
    if mark is None or not should_read_exceptions(
        status.job_status.state, job, modified_seen=mark.modified_ms
    ):
        return failure, None, ()
    try:
        found = await flink.job_exceptions(ref, job.job_id, since_ms=mark.reported_ms, limit=limit)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        _log.info("Exceptions of job %s on %s not available: %s", job.job_id, ref, _describe(error))
        return failure, None, ()
    return failure, mark.reported_ms, tuple(found)


async def perform(flink: FlinkService, cluster: ClusterRef, action: Action) -> object:
    if isinstance(action, SubmitJob):
        return await flink.submit_job(action.request)
    if isinstance(action, CancelJob):
        return await flink.cancel_job(
            cluster,
            action.job_id,
            action.mode,
            savepoint_dir=action.savepoint_dir,
            savepoint_format=action.savepoint_format,
            drain=action.drain,
        )
    raise TypeError(f"unknown action {action!r}")


class FlinkSessionJobController:
    """The `Reconciler` of FlinkSessionJobs (built by the runtime once per leadership term)."""

    def __init__(self, ctx: ControllerContext, deps: SessionJobControllerDeps) -> None:
        self.ctx = ctx
        self.deps = deps
        self._failures: dict[Request, int] = {}
        self._exceptions = ExceptionMarks()
        if deps.bridge is not None:
            deps.bridge.bind(ctx.get)

    def _exception_key(self, resource: FlinkSessionJob) -> str:
        return resource.metadata.uid or f"{resource.namespace}/{resource.name}"

    def _exceptions_reported(self, resource: FlinkSessionJob, context: SessionJobContext) -> None:
        """The job's exception history was read and its events recorded: remember how far."""
        facts = context.facts
        if facts.exceptions_since_ms is None or facts.job is None:
            return
        key = self._exception_key(resource)
        mark = self._exceptions.get(key, context.now_ms)
        self._exceptions.read(key, mark, facts.job, facts.exceptions)

    async def reconcile(self, request: Request) -> Result:
        raw = self.ctx.get(request)
        if raw is None:
            self._failures.pop(request, None)
            return Result.done()
        try:
            resource = FlinkSessionJob.from_dict(raw)
        except ValidationError as error:
            _log.error("FlinkSessionJob %s cannot be read, not reconciling it: %s", request, error)
            return Result.done()
        if (resource.metadata.labels or {}).get(LABEL_CANARY) == "true":
            return Result.done()
        deleting = resource.metadata.deletion_timestamp is not None
        finalizers = self.ctx.finalizers
        if finalizers is not None:
            if deleting and not finalizers.present(raw):
                return Result.done()
            if not deleting and not finalizers.present(raw):
                raw = self.ctx.status.observe(await finalizers.add(raw))

        view = self._session(resource)
        context, observed_snapshots = await self._context(resource, view)
        step = planner.decide(context)
        _log.debug("FlinkSessionJob %s: %s", request, step.note)
        if step.remove_finalizer and step.action is None:
            await self._record(raw, resource, step.events)
            await self._release(raw, resource, step.status)
            return Result.done()
        raw = await self._write(raw, step.status)
        await self._record(raw, resource, step.events)
        self._exceptions_reported(resource, context)
        if step.action is None:
            requeue = step.requeue.after
            if step.settled and observed_snapshots is not None:
                requeue = await self._trigger_snapshots(
                    raw, resource, view, step, observed_snapshots, requeue
                )
            elif observed_snapshots is not None and observed_snapshots.requeue is not None:
                requeue = _sooner(requeue, observed_snapshots.requeue)
            return Result(requeue)

        _log.info("FlinkSessionJob %s: %s (%s)", request, step.action.describe(), step.note)
        try:
            result = await perform(self.deps.flink, context.cluster, step.action)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.warning("FlinkSessionJob %s: %s failed: %s", request, step.action.describe(), error)
            if context.deleting and isinstance(error, JobNotFoundError):
                outcome = step.on_success(None)
                return await self._conclude(raw, resource, outcome)
            outcome = step.on_failure(error)
            failures = self._failures.get(request, 0) + 1
            self._failures[request] = failures
            delay = None if context.deleting else context.settings.retry_delay(failures)
            return await self._conclude(raw, resource, outcome, delay=delay)
        self._failures.pop(request, None)
        return await self._conclude(raw, resource, step.on_success(result))

    # ------------------------------------------------------------------------------------ the inputs

    def _session(self, resource: FlinkSessionJob) -> SessionView:
        name = resource.spec.deployment_name or ""
        document = (
            self.ctx.store_for(FLINK_DEPLOYMENT).get(ObjectKey(resource.namespace, name)) if name else None
        )
        return session_view(resource.namespace, name, document)

    async def _context(
        self, resource: FlinkSessionJob, view: SessionView
    ) -> tuple[SessionJobContext, JobSnapshotResult[FlinkSessionJobStatus] | None]:
        plugins = self.deps.plugins
        report = await plugins.validators.validate_session_job(resource, view.model)
        validation_error = None if report.ok else report.describe()
        mutated = await plugins.mutators.mutate_session_job(resource, view.model)
        desired: FlinkSessionJobSpec = mutated.resource.spec
        configuration = self.ctx.configuration
        effective, settings, session_settings = session_job_settings(configuration, resource, view)
        status = resource.status
        reconciled = _reconciled(status)
        deleting = resource.metadata.deletion_timestamp is not None
        change_pending = status.reconciliation_status.state is ReconciliationState.UPGRADING or (
            reconciled is not None and diff_specs(reconciled, desired).type is not DiffType.IGNORE
        )
        now_ms = int(self.deps.clock() * 1000)
        facts = await gather_facts(
            self.deps.flink,
            view,
            status,
            stateful=_stateful(desired, reconciled),
            change_pending=change_pending,
            deleting=deleting,
            exceptions=None if deleting else self._exceptions.get(self._exception_key(resource), now_ms),
            exceptions_limit=settings.exception_events_limit,
        )
        desired_mode = desired.job.upgrade_mode if desired.job is not None else None
        observed = apply_observation(
            status, facts, now_ms=now_ms, desired_mode=desired_mode, reporting=JobReporting.of(settings)
        )
        observed_status = observed.status
        events: tuple[EventSpec, ...] = observed.events
        snapshot_result: JobSnapshotResult[FlinkSessionJobStatus] | None = None
        if self.deps.snapshots is not None and not deleting and facts.session is SessionAvailability.READY:
            call = self.deps.snapshots.inputs(
                resource,
                observed_status,
                configuration=configuration,
                snapshot_documents=self._snapshot_documents(resource.namespace),
                now_ms=now_ms,
                session=view.model,
            )
            snapshot_result = await self.deps.snapshots.observe(self.ctx.api, call)
            observed_status = snapshot_result.status
            events = (*events, *snapshot_result.events)
        annotations = resource.metadata.annotations or {}
        context = SessionJobContext(
            resource=resource,
            observed=observed_status,
            spec=desired,
            session=view,
            settings=settings,
            session_settings=session_settings,
            effective=effective,
            now_ms=now_ms,
            new_job_id=self.deps.new_id(),
            validation_error=validation_error,
            facts=facts,
            observation_events=events,
            force_deletion=annotations.get(so.FORCE_DELETION_ANNOTATION, "").lower() == "true",
        )
        return context, snapshot_result

    def _snapshot_documents(self, namespace: str) -> list[JSON]:
        try:
            store = self.ctx.store_for(FLINK_STATE_SNAPSHOT)
        except KeyError:
            return []
        return [cached.decode() for cached in store.objects(namespace)]

    async def _trigger_snapshots(
        self,
        raw: JSON,
        resource: FlinkSessionJob,
        view: SessionView,
        step: Step,
        observed: JobSnapshotResult[FlinkSessionJobStatus],
        requeue: float | None,
    ) -> float | None:
        snapshots = self.deps.snapshots
        assert snapshots is not None
        call = snapshots.inputs(
            resource,
            step.status,
            configuration=self.ctx.configuration,
            snapshot_documents=self._snapshot_documents(resource.namespace),
            now_ms=int(self.deps.clock() * 1000),
            session=view.model,
        )
        # The decision's status is the base: the observation result only contributes its held kinds.
        triggered = await snapshots.trigger(self.ctx.api, call, replace(observed, status=step.status))
        if triggered.status != step.status:
            raw = await self._write(raw, triggered.status)
        await self._record(raw, resource, triggered.events)
        for wish in (observed.requeue, triggered.requeue):
            if wish is not None:
                requeue = _sooner(requeue, wish)
        return requeue

    # ------------------------------------------------------------------------------------ the outputs

    async def _conclude(
        self, raw: JSON, resource: FlinkSessionJob, outcome: Outcome, *, delay: float | None = None
    ) -> Result:
        if outcome.remove_finalizer:
            await self._record(raw, resource, outcome.events)
            await self._release(raw, resource, outcome.status)
            return Result.done()
        raw = await self._write(raw, outcome.status)
        await self._record(raw, resource, outcome.events)
        if delay is not None:
            return Result.after(delay)
        return Result(outcome.requeue.after)

    async def _write(self, raw: JSON, status: FlinkSessionJobStatus) -> JSON:
        document = status_document(status)
        written = await self.ctx.status.write(raw, document)
        if written is not None:
            return written
        return {**raw, "status": document}

    async def _record(self, raw: JSON, resource: FlinkSessionJob, events: tuple[EventSpec, ...]) -> None:
        if events:
            secrets = self.deps.plugins.masker.secret_values(resource)
            await record_events(self.ctx.events, raw, events, secret_values=secrets)

    async def _release(self, raw: JSON, resource: FlinkSessionJob, final: FlinkSessionJobStatus) -> None:
        previous = resource.status
        if self.ctx.finalizers is not None:
            await self.ctx.finalizers.remove(raw)
        self.ctx.status.forget(ObjectKey(resource.namespace, resource.name))
        self._exceptions.forget(self._exception_key(resource))
        if self.deps.snapshots is not None:
            self.deps.snapshots.forget(resource.metadata.uid or f"{resource.namespace}/{resource.name}")
        _log.info("FlinkSessionJob %s/%s: deleted", resource.namespace, resource.name)
        if self.deps.bridge is not None:
            gone = resource.model_copy(deep=True)
            gone.status = final
            self.deps.bridge.notify_final(gone, previous)


def _sooner(current: float | None, wish: float) -> float:
    return wish if current is None else min(current, wish)


def status_document(status: FlinkSessionJobStatus) -> JSON:
    """The status as written, without nulls (the CRD schema has no nullable fields)."""
    cleaned = _without_nulls(status.to_dict())
    assert isinstance(cleaned, dict)
    return cleaned


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def session_job_controller_spec(
    deps: SessionJobControllerDeps, *, name: str = "flinksessionjob", snapshot_watch_enabled: bool = True
) -> ControllerSpec:
    """The runtime registration of the FlinkSessionJob controller.

    Primary: FlinkSessionJobs with upstream's finalizer, indexed by their session. Secondary watches:
    FlinkDeployments (a change of a session reconciles the session jobs that name it) and, with snapshot
    support, FlinkStateSnapshots referencing session jobs.
    """
    bridge = deps.bridge
    watches: list[Watch] = [Watch(FLINK_DEPLOYMENT, map_by_index(BY_SESSION_INDEX))]
    if deps.snapshots is not None and snapshot_watch_enabled:
        watches.append(snapshot_watch(JobKind.FLINK_SESSION_JOB))
    return ControllerSpec(
        name=name,
        kind=FLINK_SESSION_JOB,
        reconciler=lambda ctx: FlinkSessionJobController(ctx, deps),
        watches=watches,
        indexers={BY_SESSION_INDEX: field_indexer("spec", "deploymentName")},
        finalizer=FINALIZER_FLINK_SESSION_JOB,
        status_hooks=(bridge.on_status,) if bridge is not None else (),
        event_hooks=(bridge.on_event,) if bridge is not None else (),
    )
