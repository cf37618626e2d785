"""Running the validators: all of them, concurrently, every message kept and attributed.

The default validator runs first in the report; plugin validators follow in load order. A validator that
raises, times out or returns something other than a message or None does not crash anything: it rejects the
resource with a message naming it (a broken validator must not let resources through unchecked). Messages are
scrubbed of the resource's secret values before anyone sees them.

Each third-party validator receives its own deep copy of the resource, so it cannot change what the others
(or the operator) see.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot
from flink_operator.plugins._calls import PluginCaller, PluginCallError, PluginTimeoutError
from flink_operator.plugins._loading import LoadedPlugin
from flink_operator.plugins._masking import Masker
from flink_operator.plugins._metrics import PluginMetrics

DEFAULT_VALIDATOR_NAME = "default"

_log = logging.getLogger("flink_operator.plugins")


@dataclass(frozen=True)
class ValidationMessage:
    """One rejection: which validator, and what it said."""

    validator: str
    message: str

    def __str__(self) -> str:
        # The default validator's messages read exactly like upstream's; plugins' are prefixed by their name.
        return (
            self.message if self.validator == DEFAULT_VALIDATOR_NAME else f"[{self.validator}] {self.message}"
        )


@dataclass(frozen=True)
class ValidationReport:
    """All messages of one validation; empty means accepted."""

    messages: tuple[ValidationMessage, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.messages

    def describe(self) -> str:
        """One line for an admission response or a `ValidationError` event (`""` when accepted)."""
        return "; ".join(str(message) for message in self.messages)


Related = FlinkDeployment | FlinkSessionJob | None


class ValidatorRunner:
    """Validates resources with every loaded validator."""

    def __init__(
        self,
        validators: Sequence[LoadedPlugin],
        *,
        timeout: float,
        max_threads: int,
        metrics: PluginMetrics,
        masker: Masker,
    ) -> None:
        self._validators = tuple(validators)
        self._callers = {
            p.name: PluginCaller(p.name, timeout=timeout, max_threads=max_threads) for p in validators
        }
        self._metrics = metrics
        self._masker = masker

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._validators)

    async def validate_deployment(self, deployment: FlinkDeployment) -> ValidationReport:
        return await self._run("validate_deployment", deployment, ())

    async def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> ValidationReport:
        return await self._run("validate_session_job", session_job, (session,))

    async def validate_state_snapshot(
        self, snapshot: FlinkStateSnapshot, target: FlinkDeployment | FlinkSessionJob | None
    ) -> ValidationReport:
        return await self._run("validate_state_snapshot", snapshot, (target,))

    async def validate(
        self, resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot, related: Related = None
    ) -> ValidationReport:
        """Any kind; `related` is the session cluster of a session job or the target of a snapshot."""
        if isinstance(resource, FlinkDeployment):
            return await self.validate_deployment(resource)
        if isinstance(resource, FlinkSessionJob):
            if related is not None and not isinstance(related, FlinkDeployment):
                raise TypeError(f"the session of a FlinkSessionJob is a FlinkDeployment, got {type(related)}")
            return await self.validate_session_job(resource, related)
        if isinstance(resource, FlinkStateSnapshot):
            return await self.validate_state_snapshot(resource, related)
        raise TypeError(f"cannot validate {type(resource).__name__}: not a Flink resource")

    def validate_sync(
        self, resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot, related: Related = None
    ) -> ValidationReport:
        """`validate` for code without an event loop (the offline `validate` command)."""
        return asyncio.run(self.validate(resource, related))

    async def _run(self, method: str, resource: Any, extra: tuple[Any, ...]) -> ValidationReport:
        participants = [p for p in self._validators if method in p.methods]
        if not participants:
            return ValidationReport()
        results = await asyncio.gather(*(self._call(p, method, resource, extra) for p in participants))
        messages = [message for message, _ in results if message is not None]
        if not messages:
            return ValidationReport()
        secrets = self._masker.secret_values(resource, *extra)
        for _, error in results:
            if error is not None:
                _log.warning(
                    "Validator %r failed (%s): %s",
                    error.plugin,
                    method,
                    self._masker.traceback(error.cause, secrets),
                )
        return ValidationReport(
            tuple(ValidationMessage(m.validator, self._masker.text(m.message, secrets)) for m in messages)
        )

    async def _call(
        self, plugin: LoadedPlugin, method: str, resource: Any, extra: tuple[Any, ...]
    ) -> tuple[ValidationMessage | None, PluginCallError | None]:
        """The validator's message (None: accepted) and, when it raised, the error to log."""
        args = (resource, *extra) if plugin.trusted else tuple(_copy(a) for a in (resource, *extra))
        calls = self._metrics.calls
        try:
            result = await self._callers[plugin.name].call(getattr(plugin.instance, method), *args)
        except PluginTimeoutError as error:
            calls.labels("validator", plugin.name, "timeout").inc()
            _log.warning("Validator %r gave no answer within %g s (%s)", plugin.name, error.timeout, method)
            return ValidationMessage(
                plugin.name, f"validator gave no answer within {error.timeout:g} s"
            ), None
        except PluginCallError as error:
            calls.labels("validator", plugin.name, "error").inc()
            return ValidationMessage(plugin.name, f"validator failed: {error.reason}"), error
        if result is None or isinstance(result, str):
            calls.labels("validator", plugin.name, "ok").inc()
            return (ValidationMessage(plugin.name, result) if result else None), None
        calls.labels("validator", plugin.name, "invalid").inc()
        expected = f"validator returned {type(result).__name__}, expected an error message or None"
        return ValidationMessage(plugin.name, expected), None


def _copy(value: Any) -> Any:
    return value.model_copy(deep=True) if value is not None else None
