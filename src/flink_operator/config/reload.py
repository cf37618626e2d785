"""Live reload of the operator's default configuration.

`ConfigReloader` holds the current `DefaultConfiguration` (swapped atomically: readers just take
`reloader.current`) and an asyncio task (`run()`) that checks the config files every
`kubernetes.operator.dynamic.config.check.interval`. A check costs one `stat` per candidate file; files are
only read when their identity, size or mtime changed (or were modified so recently that an mtime tick could
hide a second write). That covers in-place edits and the Kubernetes ConfigMap volume update, which swaps the
`..data` symlink to a new directory (a new inode behind the same path).

When the flattened configuration changed, the new one gets the next `generation`, the change is logged as
`Setting default configuration to {...}` with secret values masked, and subscribers are called with the
exact set of changed keys. A file that cannot be parsed or holds an invalid value is reported once (log and
`last_error`) and the previous configuration stays. `kubernetes.operator.dynamic.config.enabled: false`
stops the task.

Not guaranteed: how quickly the kubelet updates a mounted ConfigMap (often a minute); a component watching
the ConfigMap through the API can push new content immediately with `apply_files`.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from flink_operator.config.errors import ConfigError
from flink_operator.config.layering import DefaultConfiguration, changed_keys
from flink_operator.config.loading import (
    build_default_configuration,
    candidate_paths,
    load_default_configuration,
    locate_config_files,
    parse_config_files,
)
from flink_operator.config.operator_options import DYNAMIC_CONFIG_CHECK_INTERVAL, DYNAMIC_CONFIG_ENABLED
from flink_operator.config.redaction import redactor_for
from flink_operator.config.registry import OptionRegistry

_log = logging.getLogger(__name__)

# A file modified less than this long ago is re-read even when its stat looks unchanged, because two writes
# within one mtime tick leave identical metadata.
_RACY_WINDOW_NS = 3 * 10**9
_MIN_INTERVAL_S = 0.05


@dataclass(frozen=True)
class ConfigChange:
    """What one reload changed."""

    previous: DefaultConfiguration
    current: DefaultConfiguration
    changed_keys: frozenset[str]


Subscriber = Callable[[ConfigChange], Awaitable[None] | None]
_Fingerprint = tuple[tuple[str, tuple[int, int, int, int] | None], ...]


class ConfigReloader:
    """Owns the current default configuration and keeps it in step with the config files."""

    def __init__(
        self,
        initial: DefaultConfiguration | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        path: str | os.PathLike[str] | None = None,
        registry: OptionRegistry | None = None,
    ) -> None:
        """Load the configuration now unless `initial` is given; a broken file at startup raises
        `ConfigError` (startup must fail loudly, unlike a reload)."""
        self._environ = dict(os.environ if environ is None else environ)
        self._path = path
        self._registry = registry
        self._current = initial or load_default_configuration(self._environ, path, registry=registry)
        self._subscribers: list[Subscriber] = []
        self._fingerprint = self._take_fingerprint()
        self._digest = self._read_digest()[0]
        self.last_error: str | None = None
        """The latest rejected change, until a good one is applied."""

    @property
    def current(self) -> DefaultConfiguration:
        return self._current

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber(change)` (sync or async) after every applied change; returns an unsubscribe."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    # --- checking the files ----------------------------------------------------------------------------

    def _take_fingerprint(self) -> _Fingerprint:
        entries: list[tuple[str, tuple[int, int, int, int] | None]] = []
        for candidate in candidate_paths(self._environ, self._path):
            try:
                st = candidate.stat()  # follows symlinks, so a `..data` swap shows as a new inode
            except OSError:
                entries.append((str(candidate), None))
                continue
            entries.append((str(candidate), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
        return tuple(entries)

    def _is_racy(self, fingerprint: _Fingerprint) -> bool:
        now = time.time_ns()
        return any(meta is not None and now - meta[3] < _RACY_WINDOW_NS for _, meta in fingerprint)

    def _read_digest(self) -> tuple[str, dict[str, str]]:
        digest = hashlib.sha256()
        texts: dict[str, str] = {}
        for path in locate_config_files(self._environ, self._path):
            try:
                data = path.read_bytes()
            except OSError:
                continue  # vanished between locating and reading; the next check sees the new state
            texts[str(path)] = data.decode("utf-8", errors="replace")
            digest.update(str(path).encode() + b"\0" + data + b"\0")
        return digest.hexdigest(), texts

    async def check(self) -> ConfigChange | None:
        """Check the files once; apply and announce a change. Never raises for bad files."""
        fingerprint = self._take_fingerprint()
        if fingerprint == self._fingerprint and not self._is_racy(fingerprint):
            return None
        self._fingerprint = fingerprint
        digest, texts = self._read_digest()
        if digest == self._digest:
            return None
        self._digest = digest
        return await self.apply_files(texts)

    async def apply_files(self, files: Mapping[str, str]) -> ConfigChange | None:
        """Apply config file contents (name or path -> text, lowest precedence first), e.g. pushed by a
        component watching the ConfigMap. Bad content is rejected like a bad file; never raises for it."""
        try:
            candidate = build_default_configuration(
                parse_config_files(files),
                tuple(files),
                self._environ,
                registry=self._registry,
                generation=self._current.generation + 1,
            )
        except ConfigError as error:
            self._reject(str(error))
            return None
        return await self._apply(candidate)

    def _reject(self, message: str) -> None:
        self.last_error = message
        _log.error("Configuration change rejected, keeping the previous configuration: %s", message)

    async def _apply(self, candidate: DefaultConfiguration) -> ConfigChange | None:
        self.last_error = None
        previous = self._current
        keys = changed_keys(previous.values, candidate.values)
        if not keys:
            return None
        self._current = candidate
        redacted = redactor_for(candidate.values, self._registry).redact_config(dict(candidate.values))
        _log.info("Setting default configuration to %s", dict(sorted(redacted.items())))
        change = ConfigChange(previous, candidate, keys)
        for subscriber in list(self._subscribers):
            try:
                result = subscriber(change)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                _log.exception("Configuration subscriber %r failed", subscriber)
        return change

    # --- the task ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Check periodically until cancelled, or until dynamic configuration is (or gets) disabled."""
        while True:
            configuration = self._current.configuration
            if not configuration.get(DYNAMIC_CONFIG_ENABLED):
                _log.info("Dynamic configuration reload is disabled (%s)", DYNAMIC_CONFIG_ENABLED.key)
                return
            try:
                await self.check()
            except Exception:
                # A bug in a check must not end live reload for the rest of the process's life.
                _log.exception("Configuration check failed")
            interval = configuration.get(DYNAMIC_CONFIG_CHECK_INTERVAL).total_seconds()
            await asyncio.sleep(max(interval, _MIN_INTERVAL_S))
