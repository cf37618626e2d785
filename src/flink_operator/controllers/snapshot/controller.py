"""The FlinkStateSnapshot reconciler: the thin async shell around `decision.decide`.

One reconcile, for one key (the runtime never runs two at once for a key):

1. read the snapshot from the cache (status overlaid with this writer's last write); add the finalizer
   `flinkstatesnapshots.flink.apache.org/finalizer` unless the resource is being deleted;
2. resolve the referenced job (`target.resolve_target`) from the watched FlinkDeployments and
   FlinkSessionJobs; a session job's snapshots go to its session cluster (`spec.deploymentName`);
3. validate a snapshot that still has work to do (default validator + plugins);
4. ask Flink about a snapshot IN_PROGRESS (`FlinkService.snapshot_result`);
5. `decide` (pure) -> a `Step`; write its status (resourceVersion-locked, skipped when unchanged) and the
   labels that go with it, record its events, perform its action (trigger or dispose), write and record the
   outcome; release the finalizer when the step says so;
6. return when to look again.

Listeners hear about every status write and event through `SnapshotListenerBridge` (status and event hooks).
A crash between any two steps is safe, with one known gap: a crash after Flink accepted a trigger and
before its id was written leaves one extra savepoint in storage (Flink cannot list triggers to find it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from flink_operator.api import (
    FINALIZER_FLINK_STATE_SNAPSHOT,
    GROUP,
    KIND_FLINK_DEPLOYMENT,
    KIND_FLINK_SESSION_JOB,
    KIND_FLINK_STATE_SNAPSHOT,
    PLURAL_FLINK_DEPLOYMENT,
    PLURAL_FLINK_SESSION_JOB,
    PLURAL_FLINK_STATE_SNAPSHOT,
    VERSION,
    FlinkStateSnapshot,
    FlinkStateSnapshotState,
    FlinkStateSnapshotStatus,
    JobKind,
)
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.snapshot.decision import decide
from flink_operator.controllers.snapshot.naming import snapshot_labels
from flink_operator.controllers.snapshot.notify import SnapshotListenerBridge
from flink_operator.controllers.snapshot.steps import (
    Action,
    DisposeSavepoint,
    Outcome,
    Poll,
    SnapshotContext,
    TriggerSnapshot,
)
from flink_operator.controllers.snapshot.summary import IN_FLIGHT
from flink_operator.controllers.snapshot.target import Target, default_settings, resolve_target
from flink_operator.flink.rest import JobNotFound, NotFound, TriggerFailed
from flink_operator.flink.service import (
    FlinkService,
    JobNotFoundError,
    SavepointFormat,
    SnapshotError,
    SnapshotKind,
    SnapshotTrigger,
)
from flink_operator.runtime import (
    Change,
    ControllerContext,
    ControllerSpec,
    Kind,
    ObjectKey,
    Recurrence,
    Request,
    Result,
    Store,
    Watch,
)

_log = logging.getLogger(__name__)

JSON = dict[str, Any]

FLINK_STATE_SNAPSHOT = Kind.custom(GROUP, VERSION, KIND_FLINK_STATE_SNAPSHOT, PLURAL_FLINK_STATE_SNAPSHOT)
FLINK_DEPLOYMENT = Kind.custom(GROUP, VERSION, KIND_FLINK_DEPLOYMENT, PLURAL_FLINK_DEPLOYMENT)
FLINK_SESSION_JOB = Kind.custom(GROUP, VERSION, KIND_FLINK_SESSION_JOB, PLURAL_FLINK_SESSION_JOB)
JOB_REFERENCE_INDEX = "job-reference"
_JOB_KINDS = {JobKind.FLINK_DEPLOYMENT: FLINK_DEPLOYMENT, JobKind.FLINK_SESSION_JOB: FLINK_SESSION_JOB}
_PERMANENT_POLL_ERRORS = (JobNotFoundError, SnapshotError, NotFound, JobNotFound, TriggerFailed)
_CHECKPOINT_DETAILS = "/checkpoints/details/"


def job_reference_key(namespace: str, kind: str, name: str) -> str:
    return f"{namespace}/{kind}/{name}"


def job_reference_indexer(obj: JSON) -> list[str]:
    """Index snapshots by the job they reference: `<namespace>/<kind>/<name>`."""
    reference = (obj.get("spec") or {}).get("jobReference") or {}
    kind, name = reference.get("kind"), reference.get("name")
    if not isinstance(kind, str) or not isinstance(name, str) or not name:
        return []
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    return [job_reference_key(namespace, kind, name)]


def _map_job_to_snapshots(kind: str) -> Callable[[Change, Store], list[ObjectKey]]:
    def mapper(change: Change, primary: Store) -> list[ObjectKey]:
        obj = change.obj
        return primary.by_index(JOB_REFERENCE_INDEX, job_reference_key(obj.namespace, kind, obj.name))

    return mapper


@dataclass
class SnapshotControllerDeps:
    """Long-lived collaborators, shared by the reconcilers of every leadership term."""

    flink: FlinkService
    plugins: Any
    """A `PluginHost` (validators, masker, listeners)."""
    bridge: SnapshotListenerBridge | None = None
    clock: Callable[[], float] = time.time
    retry_base_s: float | None = None
    """Overrides the first retry delay (10 s) of failed snapshots and disposals, e.g. in tests."""


async def perform(flink: FlinkService, action: Action) -> object:
    """Run one action; returns the runtime's result (a `SnapshotTrigger` for triggers, None otherwise)."""
    if isinstance(action, TriggerSnapshot):
        if action.kind is SnapshotKind.SAVEPOINT:
            return await flink.trigger_savepoint(
                action.cluster,
                action.job_id,
                target_dir=action.path,
                savepoint_format=SavepointFormat(action.savepoint_format.value),
            )
        return await flink.trigger_checkpoint(action.cluster, action.job_id)
    if isinstance(action, DisposeSavepoint):
        await flink.dispose_savepoint(action.cluster, action.path)
        return None
    raise TypeError(f"unknown action {action!r}")


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def classify_poll_error(error: Exception) -> Poll:
    """An error asking Flink about a triggered snapshot: permanent when asking again cannot help (the
    trigger or the job is unknown, Flink reports the snapshot failed), else transient (timeouts, 5xx).

    A 404 for a checkpoint's details is neither: Flink asks for them only once the trigger completed, and
    serves them from a statistics cache that lags the trigger status by up to its timeout."""
    if (
        isinstance(error, NotFound)
        and not isinstance(error, JobNotFound)
        and _CHECKPOINT_DETAILS in (error.url or "")
    ):
        return Poll(error=_describe(error), path_pending=True)
    return Poll(error=_describe(error), permanent=isinstance(error, _PERMANENT_POLL_ERRORS))


def status_document(status: FlinkStateSnapshotStatus) -> JSON:
    """The status as written: unset fields left out rather than written as null, except the state and the
    failure count, which upstream always writes (`failures: 0` included) and tools read."""
    document = {key: value for key, value in status.to_dict().items() if value is not None}
    return {"state": status.state.value, "failures": status.failures, **document}


class FlinkStateSnapshotController:
    """The `Reconciler` of FlinkStateSnapshots (built by the runtime once per leadership term)."""

    def __init__(self, ctx: ControllerContext, deps: SnapshotControllerDeps) -> None:
        self.ctx = ctx
        self.deps = deps
        self._dispose_attempts: dict[Request, int] = {}
        self._path_lookups: dict[Request, int] = {}
        if deps.bridge is not None:
            deps.bridge.bind(ctx.get)

    # ------------------------------------------------------------------------------------ the reconcile

    async def reconcile(self, request: Request) -> Result:
        raw = self.ctx.get(request)
        if raw is None:
            self._dispose_attempts.pop(request, None)
            self._path_lookups.pop(request, None)
            return Result.done()
        deleting = bool((raw.get("metadata") or {}).get("deletionTimestamp"))
        finalizers = self.ctx.finalizers
        try:
            snapshot = FlinkStateSnapshot.from_dict(raw)
        except ValidationError as error:
            return await self._unreadable(request, raw, deleting, error)
        if finalizers is not None:
            if deleting and not finalizers.present(raw):
                return Result.done()
            if not deleting and not finalizers.present(raw):
                raw = self.ctx.status.observe(await finalizers.add(raw))

        context = await self._context(request, snapshot)
        step = decide(context)
        _log.debug("FlinkStateSnapshot %s: %s", request, step.note)
        if step.action is None:
            return await self._conclude(request, raw, snapshot, step.as_outcome())
        raw = await self._write(raw, step.status)
        await self._record(raw, snapshot, step.events)
        _log.info("FlinkStateSnapshot %s: %s (%s)", request, step.action.describe(), step.note)
        try:
            result = await perform(self.deps.flink, step.action)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.warning("FlinkStateSnapshot %s: %s failed: %s", request, step.action.describe(), error)
            if isinstance(step.action, DisposeSavepoint):
                self._dispose_attempts[request] = self._dispose_attempts.get(request, 0) + 1
            outcome = step.on_failure(error)
        else:
            outcome = step.on_success(result)
        return await self._conclude(request, raw, snapshot, outcome)

    async def _conclude(
        self, request: Request, raw: JSON, snapshot: FlinkStateSnapshot, outcome: Outcome
    ) -> Result:
        if outcome.remove_finalizer:
            await self._record(raw, snapshot, outcome.events)
            await self._release(request, raw)
            return Result.done()
        raw = await self._write(raw, outcome.status)
        await self._record(raw, snapshot, outcome.events)
        return Result(outcome.requeue)

    async def _unreadable(
        self, request: Request, raw: JSON, deleting: bool, error: ValidationError
    ) -> Result:
        _log.error("FlinkStateSnapshot %s cannot be read, not reconciling it: %s", request, error)
        if deleting:
            # Nothing can be disposed without a readable spec; never hold the deletion up for it.
            await self._release(request, raw)
        return Result.done()

    # ------------------------------------------------------------------------------------ the inputs

    def _lookup(self, kind: JobKind, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.ctx.store_for(_JOB_KINDS[kind]).get(ObjectKey(namespace, name))

    async def _context(self, request: Request, snapshot: FlinkStateSnapshot) -> SnapshotContext:
        configuration = self.ctx.configuration
        target = resolve_target(snapshot.spec.job_reference, snapshot.namespace, self._lookup, configuration)
        settings = (
            target.settings if target is not None else default_settings(configuration, snapshot.namespace)
        )
        if self.deps.retry_base_s is not None:
            settings = replace(settings, retry_base_s=self.deps.retry_base_s)
            if target is not None:
                target = replace(target, settings=settings)
        deleting = snapshot.metadata.deletion_timestamp is not None
        state = snapshot.status.state
        validation_error = None
        if not deleting and state in IN_FLIGHT:
            found = target.resource if target is not None and target.found else None
            report = await self.deps.plugins.validators.validate_state_snapshot(snapshot, found)
            validation_error = None if report.ok else report.describe()
        poll = None
        if state is FlinkStateSnapshotState.IN_PROGRESS and validation_error is None and target is not None:
            poll = await self._poll(snapshot, target)
        path_lookups = self._path_lookups.pop(request, 0)
        if poll is not None and poll.path_pending:
            self._path_lookups[request] = path_lookups + 1
        return SnapshotContext(
            snapshot=snapshot,
            target=target,
            settings=settings,
            now_ms=int(self.deps.clock() * 1000),
            poll=poll,
            validation_error=validation_error,
            dispose_attempts=self._dispose_attempts.get(request, 0),
            path_lookups=path_lookups,
        )

    async def _poll(self, snapshot: FlinkStateSnapshot, target: Target) -> Poll | None:
        if not target.pollable:
            return None
        assert target.cluster is not None and target.job_id is not None
        trigger_id = snapshot.status.trigger_id
        if not trigger_id:
            return Poll(error="no trigger id was recorded for the snapshot in progress", permanent=True)
        kind = SnapshotKind.SAVEPOINT if snapshot.spec.savepoint is not None else SnapshotKind.CHECKPOINT
        try:
            result = await self.deps.flink.snapshot_result(
                target.cluster, SnapshotTrigger(kind, target.job_id, trigger_id)
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return classify_poll_error(error)
        return Poll(result=result)

    # ------------------------------------------------------------------------------------ the outputs

    async def _write(self, raw: JSON, status: FlinkStateSnapshotStatus) -> JSON:
        document = status_document(status)
        written = await self.ctx.status.write(raw, document)
        current = written if written is not None else {**raw, "status": document}
        metadata = current.get("metadata") or {}
        labels = snapshot_labels(current)
        if labels != (metadata.get("labels") or {}):
            patched = await self.ctx.api.patch(
                FLINK_STATE_SNAPSHOT,
                metadata.get("name") or "",
                metadata.get("namespace") or None,
                {"metadata": {"labels": labels}},
            )
            current = self.ctx.status.observe(patched)
        return current

    async def _record(self, raw: JSON, snapshot: FlinkStateSnapshot, events: tuple[EventSpec, ...]) -> None:
        if not events:
            return
        masker = getattr(self.deps.plugins, "masker", None)
        secrets = masker.secret_values(snapshot) if masker is not None else frozenset()
        for event in events:
            try:
                await self.ctx.events.record(
                    raw,
                    event.type,
                    event.reason,
                    event.message,
                    event.component,
                    message_key=event.message_key,
                    recurrence=Recurrence.ONCE if event.once else Recurrence.ALWAYS,
                    secret_values=secrets,
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # An event that cannot be written must not undo a step that already happened.
                _log.warning(
                    "Recording event %s for FlinkStateSnapshot %s failed: %s",
                    event.reason,
                    snapshot.name,
                    error,
                )

    async def _release(self, request: Request, raw: JSON) -> None:
        if self.ctx.finalizers is not None:
            await self.ctx.finalizers.remove(raw)
        self.ctx.status.forget(request)
        self._dispose_attempts.pop(request, None)
        self._path_lookups.pop(request, None)
        _log.info("FlinkStateSnapshot %s: released", request)


def snapshot_controller_spec(
    deps: SnapshotControllerDeps, *, name: str = "flinkstatesnapshot"
) -> ControllerSpec:
    """The runtime registration of the FlinkStateSnapshot controller.

    Primary: FlinkStateSnapshots (indexed by the job they reference), with upstream's finalizer. Secondary:
    FlinkDeployments and FlinkSessionJobs, each change mapped to the snapshots that reference it. (A change of
    a session cluster reaches its session jobs' snapshots through the session job's own status.)
    """
    bridge = deps.bridge
    return ControllerSpec(
        name=name,
        kind=FLINK_STATE_SNAPSHOT,
        reconciler=lambda ctx: FlinkStateSnapshotController(ctx, deps),
        watches=[
            Watch(FLINK_DEPLOYMENT, _map_job_to_snapshots(KIND_FLINK_DEPLOYMENT)),
            Watch(FLINK_SESSION_JOB, _map_job_to_snapshots(KIND_FLINK_SESSION_JOB)),
        ],
        indexers={JOB_REFERENCE_INDEX: job_reference_indexer},
        finalizer=FINALIZER_FLINK_STATE_SNAPSHOT,
        status_hooks=(bridge.on_status,) if bridge is not None else (),
        event_hooks=(bridge.on_event,) if bridge is not None else (),
    )
