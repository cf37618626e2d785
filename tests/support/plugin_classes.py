"""Plugin classes for tests, importable by class path (`tests.support.plugin_classes:RecordingListener`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from typing import Any

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot
from flink_operator.plugins import FlinkResourceListener, FlinkResourceMutator, FlinkResourceValidator


class RecordingListener(FlinkResourceListener):
    """Records (method, context) pairs; `configure` keys are kept in `config`."""

    def __init__(self) -> None:
        self.config: dict[str, str] = {}
        self.made_by = "constructor"
        self.heard: list[tuple[str, Any]] = []
        self.heard_event = threading.Event()

    def configure(self, config: Mapping[str, str]) -> None:
        self.config = dict(config)

    def _record(self, method: str, ctx: Any) -> None:
        self.heard.append((method, ctx))
        self.heard_event.set()

    def on_deployment_status_update(self, ctx: Any) -> None:
        self._record("on_deployment_status_update", ctx)

    def on_deployment_event(self, ctx: Any) -> None:
        self._record("on_deployment_event", ctx)

    def on_session_job_status_update(self, ctx: Any) -> None:
        self._record("on_session_job_status_update", ctx)

    def on_session_job_event(self, ctx: Any) -> None:
        self._record("on_session_job_event", ctx)

    def on_state_snapshot_status_update(self, ctx: Any) -> None:
        self._record("on_state_snapshot_status_update", ctx)

    def on_state_snapshot_event(self, ctx: Any) -> None:
        self._record("on_state_snapshot_event", ctx)


class AsyncRecordingListener(FlinkResourceListener):
    """Async listener recording deployment notifications only (the other methods stay no-ops)."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, Any]] = []

    async def on_deployment_status_update(self, ctx: Any) -> None:
        self.heard.append(("on_deployment_status_update", ctx))

    async def on_deployment_event(self, ctx: Any) -> None:
        self.heard.append(("on_deployment_event", ctx))


class MutatingListener(AsyncRecordingListener):
    """Scribbles over the resource it receives, to show the change reaches nobody else."""

    async def on_deployment_status_update(self, ctx: Any) -> None:
        ctx.resource.metadata.name = "scribbled"
        ctx.resource.spec.flink_configuration = {"scribbled": "yes"}
        await super().on_deployment_status_update(ctx)


class RaisingListener(FlinkResourceListener):
    def __init__(self) -> None:
        self.calls = 0

    def on_deployment_status_update(self, ctx: Any) -> None:
        self.calls += 1
        raise RuntimeError("listener exploded")

    async def on_deployment_event(self, ctx: Any) -> None:
        self.calls += 1
        raise ValueError("async listener exploded")


class HangingListener(FlinkResourceListener):
    """Hangs for 30 s on every call: in a thread (status updates) or on the loop (events)."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def on_deployment_status_update(self, ctx: Any) -> None:
        self.started.set()
        time.sleep(30)

    async def on_deployment_event(self, ctx: Any) -> None:
        self.started.set()
        await asyncio.sleep(30)


class GatedListener(FlinkResourceListener):
    """Async listener that waits for `gate` before recording, to let notifications pile up."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.heard: list[str] = []

    async def on_deployment_event(self, ctx: Any) -> None:
        await self.gate.wait()
        self.heard.append(ctx.event.message)


class ClosableListener(AsyncRecordingListener):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def close(self) -> None:
        self.closed = True


class RejectingValidator(FlinkResourceValidator):
    """Rejects every deployment with `message` (configurable)."""

    def __init__(self) -> None:
        self.message = "rejected by configuration"

    def configure(self, config: Mapping[str, str]) -> None:
        self.message = config.get("message", self.message)

    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        return self.message


class AsyncNameValidator(FlinkResourceValidator):
    async def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        await asyncio.sleep(0)
        return (
            "name must start with 'prod-'"
            if not (deployment.metadata.name or "").startswith("prod-")
            else None
        )

    async def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> str | None:
        return None if session is not None else "the session cluster does not exist"

    async def validate_state_snapshot(
        self, snapshot: FlinkStateSnapshot, target: FlinkDeployment | FlinkSessionJob | None
    ) -> str | None:
        return None if target is not None else "the snapshot target does not exist"


class RaisingValidator(FlinkResourceValidator):
    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        raise RuntimeError("validator bug")


class HangingValidator(FlinkResourceValidator):
    async def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        await asyncio.sleep(30)
        return None


class WrongTypeValidator(FlinkResourceValidator):
    def validate_deployment(self, deployment: FlinkDeployment) -> Any:
        return 42


class ScribblingValidator(FlinkResourceValidator):
    """Changes the resource it validates, which must not reach other validators or the caller."""

    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        deployment.metadata.labels = {"scribbled": "by-validator"}
        return None


class LabelMutator(FlinkResourceMutator):
    """Adds label `<label>=<value>` (configurable; default `mutated=<class name>`)."""

    def __init__(self) -> None:
        self.label = "mutated"
        self.value = type(self).__name__

    def configure(self, config: Mapping[str, str]) -> None:
        self.label = config.get("label", self.label)
        self.value = config.get("value", self.value)

    def mutate_deployment(self, deployment: FlinkDeployment) -> FlinkDeployment:
        deployment.metadata.labels = {**(deployment.metadata.labels or {}), self.label: self.value}
        return deployment


class OrderRecordingMutator(FlinkResourceMutator):
    """Appends its configured name to annotation `order`, to show the run order."""

    def __init__(self) -> None:
        self.tag = "?"

    def configure(self, config: Mapping[str, str]) -> None:
        self.tag = config.get("tag", self.tag)

    async def mutate_deployment(self, deployment: FlinkDeployment) -> FlinkDeployment:
        annotations = dict(deployment.metadata.annotations or {})
        annotations["order"] = ",".join(filter(None, [annotations.get("order"), self.tag]))
        deployment.metadata.annotations = annotations
        return deployment


class HalfWayRaisingMutator(FlinkResourceMutator):
    """Changes its copy, then raises: the change must be dropped."""

    def mutate_deployment(self, deployment: FlinkDeployment) -> FlinkDeployment:
        deployment.metadata.labels = {**(deployment.metadata.labels or {}), "half": "way"}
        raise RuntimeError("mutator bug")


class RenamingMutator(FlinkResourceMutator):
    def mutate_deployment(self, deployment: FlinkDeployment) -> FlinkDeployment:
        deployment.metadata.name = "renamed"
        return deployment


class NoneReturningMutator(FlinkResourceMutator):
    def mutate_deployment(self, deployment: FlinkDeployment) -> Any:
        deployment.metadata.labels = {**(deployment.metadata.labels or {}), "in-place": "yes"}
        return None


class WrongTypeMutator(FlinkResourceMutator):
    def mutate_deployment(self, deployment: FlinkDeployment) -> Any:
        return {"not": "a deployment"}


class BrokenConstructor(FlinkResourceListener):
    def __init__(self) -> None:
        raise RuntimeError("cannot connect to the audit store")


class BrokenConfigure(FlinkResourceListener):
    def configure(self, config: Mapping[str, str]) -> None:
        raise ValueError(f"endpoint is required, got keys {sorted(config)}")


class DuckTypedListener:
    """Not a subclass: the methods alone make it a listener."""

    def __init__(self) -> None:
        self.heard: list[Any] = []

    async def on_deployment_event(self, ctx: Any) -> None:
        self.heard.append(ctx)


class NotAPlugin:
    def hello(self) -> str:
        return "hello"


def listener_factory() -> RecordingListener:
    """A factory function as a plugin target."""
    listener = RecordingListener()
    listener.made_by = "factory"
    return listener


class SecretQuotingMutator(FlinkResourceMutator):
    """Raises with a configuration value (a secret, in the tests) in its message."""

    def mutate_deployment(self, deployment: FlinkDeployment) -> FlinkDeployment:
        raise ValueError(f"cannot use {(deployment.spec.flink_configuration or {}).get('s3.secret-key')}")


class TokenCheckingListener(FlinkResourceListener):
    """Rejects its `api-token` key, quoting it (as careless plugins do)."""

    def configure(self, config: Mapping[str, str]) -> None:
        raise ValueError(f"token {config.get('api-token')} was refused by the server")
