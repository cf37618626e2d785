"""Running the mutators: one after another, in a fixed order, each change all-or-nothing.

Order: the built-in default mutator, then entry points by name, plugin directories by directory and name,
configured classes by name (the load order). Each mutator receives a deep copy of the result so far and
returns the resource to keep (returning None keeps the copy it was given, with any in-place changes). A
mutator that raises, times out, returns the wrong type or changes the resource's identity (kind, apiVersion,
name, namespace, uid) is skipped: its change is dropped and reported, and the next one continues from the
previous result. The built-in default mutator is the operator's own code: it runs inline, without a thread
or a deadline, so a burst of reconciles can never make it time out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot
from flink_operator.plugins._calls import PluginCaller, PluginCallError, PluginTimeoutError
from flink_operator.plugins._loading import BUILT_IN, LoadedPlugin
from flink_operator.plugins._masking import Masker
from flink_operator.plugins._metrics import PluginMetrics

R = TypeVar("R", FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot)

_log = logging.getLogger("flink_operator.plugins")


@dataclass(frozen=True)
class MutatorFailure:
    mutator: str
    reason: str

    def __str__(self) -> str:
        return f"mutator {self.mutator!r} skipped: {self.reason}"


@dataclass(frozen=True)
class MutationResult(Generic[R]):
    """The resource after all mutators, who changed it, and who was skipped."""

    resource: R
    changed_by: tuple[str, ...] = ()
    failures: tuple[MutatorFailure, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changed_by)


class MutatorRunner:
    """Mutates resources with every loaded mutator, in order."""

    def __init__(
        self,
        mutators: Sequence[LoadedPlugin],
        *,
        timeout: float,
        max_threads: int,
        metrics: PluginMetrics,
        masker: Masker,
    ) -> None:
        self._mutators = tuple(mutators)
        self._callers = {
            p.name: PluginCaller(p.name, timeout=timeout, max_threads=max_threads) for p in mutators
        }
        self._metrics = metrics
        self._masker = masker

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._mutators)

    async def mutate_deployment(self, deployment: FlinkDeployment) -> MutationResult[FlinkDeployment]:
        return await self._run("mutate_deployment", deployment, ())

    async def mutate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> MutationResult[FlinkSessionJob]:
        return await self._run("mutate_session_job", session_job, (session,))

    async def mutate_state_snapshot(self, snapshot: FlinkStateSnapshot) -> MutationResult[FlinkStateSnapshot]:
        return await self._run("mutate_state_snapshot", snapshot, ())

    async def mutate(self, resource: R, session: FlinkDeployment | None = None) -> MutationResult[R]:
        """Any kind; `session` is used for session jobs only."""
        if isinstance(resource, FlinkSessionJob):
            return await self._run("mutate_session_job", resource, (session,))
        if isinstance(resource, FlinkDeployment):
            return await self._run("mutate_deployment", resource, ())
        if isinstance(resource, FlinkStateSnapshot):
            return await self._run("mutate_state_snapshot", resource, ())
        raise TypeError(f"cannot mutate {type(resource).__name__}: not a Flink resource")

    def mutate_sync(self, resource: R, session: FlinkDeployment | None = None) -> MutationResult[R]:
        """`mutate` for code without an event loop."""
        return asyncio.run(self.mutate(resource, session))

    async def _run(self, method: str, resource: R, extra: tuple[Any, ...]) -> MutationResult[R]:
        current = resource
        changed_by: list[str] = []
        failures: list[MutatorFailure] = []
        for plugin in self._mutators:
            if method not in plugin.methods:
                continue
            before = current.to_dict()
            given = current.model_copy(deep=True)
            args = extra if plugin.trusted else tuple(a.model_copy(deep=True) if a else a for a in extra)
            outcome, result, error = await self._call(plugin, method, given, args)
            if not isinstance(result, MutatorFailure):
                changed = _identity_change(current, result)
                if changed:
                    outcome = "invalid"
                    result = MutatorFailure(plugin.name, f"it changed {changed}, which mutators may not")
            if isinstance(result, MutatorFailure):
                # The mutator saw the real resource: what it says about it may quote a secret.
                secrets = self._masker.secret_values(resource, current, *extra)
                result = MutatorFailure(result.mutator, self._masker.text(result.reason, secrets))
                failures.append(result)
                detail = f"\n{self._masker.traceback(error.cause, secrets)}" if error is not None else ""
                _log.warning("%s (%s of %s)%s", result, method, _describe(resource), detail)
            else:
                current = result
                if current.to_dict() != before:
                    changed_by.append(plugin.name)
            self._metrics.calls.labels("mutator", plugin.name, outcome).inc()
        return MutationResult(current, tuple(changed_by), tuple(failures))

    async def _call(
        self, plugin: LoadedPlugin, method: str, given: R, args: tuple[Any, ...]
    ) -> tuple[str, R | MutatorFailure, PluginCallError | None]:
        bound = getattr(plugin.instance, method)
        try:
            if plugin.source == BUILT_IN:
                # The operator's own code: called directly, no thread slot to wait for nor deadline to miss.
                try:
                    result = bound(given, *args)
                except Exception as error:
                    raise PluginCallError(plugin.name, method, error) from error
            else:
                result = await self._callers[plugin.name].call(bound, given, *args)
        except PluginTimeoutError as error:
            return "timeout", MutatorFailure(plugin.name, error.reason), None
        except PluginCallError as error:
            return "error", MutatorFailure(plugin.name, error.reason), error
        if result is None:
            result = given
        if type(result) is not type(given):
            reason = f"it returned {type(result).__name__}, expected {type(given).__name__}"
            return "invalid", MutatorFailure(plugin.name, reason), None
        return "ok", result, None


def _identity(resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot) -> dict[str, object]:
    meta = resource.metadata
    return {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata.name": meta.name,
        "metadata.namespace": meta.namespace,
        "metadata.uid": meta.uid,
    }


def _identity_change(
    before: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot,
    after: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot,
) -> str | None:
    old, new = _identity(before), _identity(after)
    changed = [field for field in old if old[field] != new[field]]
    return ", ".join(changed) if changed else None


def _describe(resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot) -> str:
    return f"{resource.kind} {resource.metadata.namespace}/{resource.metadata.name}"
