"""`PluginHost`: the one object the operator, the admission webhook and the offline tools use for plugins.

    host = PluginHost.load(config, default_validator=DefaultValidator(), kubernetes_client=client)
    report = await host.validators.validate_deployment(deployment)        # ValidationReport, .ok, .describe()
    result = await host.mutators.mutate_session_job(job, session)         # MutationResult, .resource
    host.listeners.notify_status_update(deployment, previous_status)      # returns at once
    host.listeners.notify_event(deployment, event)                        # returns at once
    await host.aclose()                                                   # drain listeners, close plugins

Loading happens once, synchronously, at start-up and raises `PluginLoadError` naming every plugin that failed
(unless `kubernetes.operator.plugins.fail-on-error` is false). Built-ins: the default validator passed in
(always first), the default mutator (always first), the audit log listener (unless disabled).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from flink_operator.config.configuration import Configuration
from flink_operator.config.redaction import redactor_for
from flink_operator.plugins._audit import AuditLogListener
from flink_operator.plugins._calls import PluginCaller, PluginCallError
from flink_operator.plugins._default_mutator import DefaultFlinkMutator
from flink_operator.plugins._delivery import ListenerDispatcher
from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._loading import LoadedPlugin, LoadedPlugins, load_plugins
from flink_operator.plugins._masking import Masker
from flink_operator.plugins._metrics import PluginMetrics, plugin_metrics
from flink_operator.plugins._mutation import MutatorRunner
from flink_operator.plugins._options import PluginSettings
from flink_operator.plugins._validation import DEFAULT_VALIDATOR_NAME, ValidatorRunner

if TYPE_CHECKING:
    from lightkube import AsyncClient

DEFAULT_MUTATOR_NAME = "default"
AUDIT_LOG_LISTENER_NAME = "audit-log"

_log = logging.getLogger("flink_operator.plugins")


class PluginHost:
    """The loaded plugins behind three runners: `validators`, `mutators`, `listeners`."""

    def __init__(
        self,
        plugins: LoadedPlugins,
        settings: PluginSettings,
        *,
        metrics: PluginMetrics,
        masker: Masker,
        kubernetes_client: AsyncClient | None = None,
    ) -> None:
        self.plugins = plugins
        self.settings = settings
        self.masker = masker
        self.validators = ValidatorRunner(
            plugins.validators,
            timeout=settings.call_timeout,
            max_threads=settings.max_threads,
            metrics=metrics,
            masker=masker,
        )
        self.mutators = MutatorRunner(
            plugins.mutators,
            timeout=settings.call_timeout,
            max_threads=settings.max_threads,
            metrics=metrics,
            masker=masker,
        )
        self.listeners = ListenerDispatcher(
            plugins.listeners,
            call_timeout=settings.listener_call_timeout,
            queue_size=settings.listener_queue_size,
            max_threads=settings.max_threads,
            metrics=metrics,
            masker=masker,
            kubernetes_client=kubernetes_client,
        )
        for plugin in (*plugins.validators, *plugins.mutators, *plugins.listeners):
            bind = getattr(plugin.instance, "_flink_operator_bind", None)
            if callable(bind):
                bind(plugin.name, metrics)

    @classmethod
    def load(
        cls,
        config: Configuration | Mapping[str, str],
        *,
        default_validator: object | None = None,
        kubernetes_client: AsyncClient | None = None,
        registry: CollectorRegistry | None = None,
        environ: Mapping[str, str] | None = None,
        entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
    ) -> PluginHost:
        """Discover, load and configure every plugin (see `_loading`); raises `PluginLoadError`.

        `environ` replaces `os.environ` for FLINK_PLUGINS_DIR / OPERATOR_LIB; `entry_points` replaces the
        installed entry points (both for tests); `registry` defaults to prometheus_client's global one.
        """
        flat = config.as_dict() if isinstance(config, Configuration) else dict(config)
        settings = PluginSettings.from_config(flat, os.environ if environ is None else environ)
        built_ins: list[tuple[PluginKind, str, object]] = []
        if default_validator is not None:
            built_ins.append((PluginKind.VALIDATOR, DEFAULT_VALIDATOR_NAME, default_validator))
        built_ins.append((PluginKind.MUTATOR, DEFAULT_MUTATOR_NAME, DefaultFlinkMutator()))
        if settings.audit_log_enabled:
            built_ins.append((PluginKind.LISTENER, AUDIT_LOG_LISTENER_NAME, AuditLogListener()))
        plugins = load_plugins(flat, settings, built_ins=built_ins, entry_points=entry_points)
        return cls(
            plugins,
            settings,
            metrics=plugin_metrics(registry),
            masker=Masker(redactor_for(flat)),
            kubernetes_client=kubernetes_client,
        )

    async def aclose(self) -> None:
        """Drain the listeners, then call each plugin's optional `close()`, all within the shutdown time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.shutdown_timeout
        await self.listeners.aclose(self.settings.shutdown_timeout)
        plugins: tuple[LoadedPlugin, ...] = (
            *self.plugins.listeners,
            *self.plugins.mutators,
            *self.plugins.validators,
        )
        for plugin in plugins:
            close = getattr(plugin.instance, "close", None)
            if not callable(close):
                continue
            remaining = max(deadline - loop.time(), 0.05)
            try:
                await PluginCaller(plugin.name, timeout=remaining).call(close)
            except PluginCallError as error:
                _log.warning("Closing %s %r failed: %s", plugin.kind.title, plugin.name, error.reason)
