"""Running the validators: all of them, concurrently, every message kept and attributed.

The default validator runs first in the report; plugin validators follow in load order. A validator that
raises or returns something other than a message or None does not crash anything: it rejects the resource
with a message naming it (a broken validator must not let resources through unchecked). Messages are
scrubbed of the resource's secret values before anyone sees them.

A validator that gives no answer within the call timeout says nothing about the resource, so how that ends
depends on the caller. The reconcile loop (`validate_deployment`, `validate_session_job`,
`validate_state_snapshot`) gets `ValidatorUnavailableError`: the reconcile fails, is retried with backoff
and the user is told with a Warning event, and the resource is never marked invalid for it. Admission and
offline checks (`validate`, `validate_sync`), which have no later attempt, reject with a message naming
the validator, as before. `timeout_rejects=` chooses explicitly.

The built-in default validator is the operator's own code, not a plugin: it runs inline on the event loop,
without a thread or a deadline (its session-job check may resolve a jar host name, so that method alone runs
in the default executor). Each third-party validator receives its own deep copy of the resource, so it
cannot change what the others (or the operator) see.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot
from flink_operator.plugins._calls import PluginCaller, PluginCallError, PluginTimeoutError
from flink_operator.plugins._loading import BUILT_IN, LoadedPlugin
from flink_operator.plugins._masking import Masker
from flink_operator.plugins._metrics import PluginMetrics

DEFAULT_VALIDATOR_NAME = "default"

# Methods of the built-in validator that may block on I/O (a session job's jar host name is resolved).
_BLOCKING_BUILT_IN_METHODS = frozenset({"validate_session_job"})

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


class ValidatorUnavailableError(PluginTimeoutError):
    """A validator gave no answer in time, so the resource could be neither accepted nor rejected: try again
    later. The runtime retries the reconcile with backoff and records a Warning event with
    `warning_reason` (see `flink_operator.runtime.controller`)."""

    warning_reason = "ValidatorUnavailable"

    def __init__(self, error: PluginTimeoutError, method: str) -> None:
        super().__init__(error.plugin, error.method, error.timeout, detail=error.detail)
        self.validation = method

    def __str__(self) -> str:
        return f"validator {self.plugin!r}: {self.reason} ({self.validation}); validation will be retried"


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

    async def validate_deployment(
        self, deployment: FlinkDeployment, *, timeout_rejects: bool = False
    ) -> ValidationReport:
        """Raises `ValidatorUnavailableError` when a validator does not answer (unless `timeout_rejects`)."""
        return await self._run("validate_deployment", deployment, (), timeout_rejects)

    async def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None, *, timeout_rejects: bool = False
    ) -> ValidationReport:
        """Raises `ValidatorUnavailableError` when a validator does not answer (unless `timeout_rejects`)."""
        return await self._run("validate_session_job", session_job, (session,), timeout_rejects)

    async def validate_state_snapshot(
        self,
        snapshot: FlinkStateSnapshot,
        target: FlinkDeployment | FlinkSessionJob | None,
        *,
        timeout_rejects: bool = False,
    ) -> ValidationReport:
        """Raises `ValidatorUnavailableError` when a validator does not answer (unless `timeout_rejects`)."""
        return await self._run("validate_state_snapshot", snapshot, (target,), timeout_rejects)

    async def validate(
        self,
        resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot,
        related: Related = None,
        *,
        timeout_rejects: bool = True,
    ) -> ValidationReport:
        """Any kind; `related` is the session cluster of a session job or the target of a snapshot. For
        admission and offline checks: by default a validator that does not answer rejects."""
        if isinstance(resource, FlinkDeployment):
            return await self.validate_deployment(resource, timeout_rejects=timeout_rejects)
        if isinstance(resource, FlinkSessionJob):
            if related is not None and not isinstance(related, FlinkDeployment):
                raise TypeError(f"the session of a FlinkSessionJob is a FlinkDeployment, got {type(related)}")
            return await self.validate_session_job(resource, related, timeout_rejects=timeout_rejects)
        if isinstance(resource, FlinkStateSnapshot):
            return await self.validate_state_snapshot(resource, related, timeout_rejects=timeout_rejects)
        raise TypeError(f"cannot validate {type(resource).__name__}: not a Flink resource")

    def validate_sync(
        self, resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot, related: Related = None
    ) -> ValidationReport:
        """`validate` for code without an event loop (the offline `validate` command)."""
        return asyncio.run(self.validate(resource, related))

    async def _run(
        self, method: str, resource: Any, extra: tuple[Any, ...], timeout_rejects: bool
    ) -> ValidationReport:
        participants = [p for p in self._validators if method in p.methods]
        if not participants:
            return ValidationReport()
        results = await asyncio.gather(*(self._call(p, method, resource, extra) for p in participants))
        if not timeout_rejects:
            for _, error in results:
                if isinstance(error, PluginTimeoutError):
                    raise ValidatorUnavailableError(error, method)
        messages = [message for message, _ in results if message is not None]
        if not messages:
            return ValidationReport()
        secrets = self._masker.secret_values(resource, *extra)
        for _, error in results:
            if error is not None and not isinstance(error, PluginTimeoutError):
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
        """The validator's message (None: accepted) and, when it raised or timed out, the error."""
        args = (resource, *extra) if plugin.trusted else tuple(_copy(a) for a in (resource, *extra))
        calls = self._metrics.calls
        bound = getattr(plugin.instance, method)
        try:
            if plugin.source == BUILT_IN:
                result = await _built_in(plugin.name, method, bound, args)
            else:
                result = await self._callers[plugin.name].call(bound, *args)
        except PluginTimeoutError as error:
            calls.labels("validator", plugin.name, "timeout").inc()
            _log.warning("Validator %r gave no answer (%s, %s)", plugin.name, error.reason, method)
            said = f"no answer: {error.detail}" if error.detail else f"no answer within {error.timeout:g} s"
            return ValidationMessage(plugin.name, f"validator gave {said}"), error
        except PluginCallError as error:
            calls.labels("validator", plugin.name, "error").inc()
            return ValidationMessage(plugin.name, f"validator failed: {error.reason}"), error
        if result is None or isinstance(result, str):
            calls.labels("validator", plugin.name, "ok").inc()
            return (ValidationMessage(plugin.name, result) if result else None), None
        calls.labels("validator", plugin.name, "invalid").inc()
        expected = f"validator returned {type(result).__name__}, expected an error message or None"
        return ValidationMessage(plugin.name, expected), None


async def _built_in(name: str, method: str, bound: Any, args: tuple[Any, ...]) -> Any:
    """Call the built-in validator directly: no thread slot to wait for, no deadline to miss."""
    try:
        if method in _BLOCKING_BUILT_IN_METHODS:
            return await asyncio.to_thread(bound, *args)
        return bound(*args)
    except Exception as error:
        raise PluginCallError(name, method, error) from error


def _copy(value: Any) -> Any:
    return value.model_copy(deep=True) if value is not None else None
