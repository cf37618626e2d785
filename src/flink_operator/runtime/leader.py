"""Leader election with a coordination.k8s.io/v1 Lease (as upstream's JOSDK and client-go do).

A candidate reads the Lease: absent -> create it naming itself; held by nobody, or not renewed for
`leaseDurationSeconds` as measured on this candidate's own clock since it last saw the record change ->
take it over with a PUT carrying the read resourceVersion (409 means another candidate won). The leader
renews every `retry_period`; a renewal that fails is retried until `renew_deadline` has passed since the last
success, and then leadership is given up. Seeing another holder in the Lease ends leadership at once.

`is_leader` is false as soon as the renew deadline has passed, even before the renew loop notices, and the
API write gate (`check`) uses it: a leader that cannot renew stops writing within `renew_deadline`, which
is shorter than `lease_duration`, the earliest a standby may take over. That is the fencing this API
allows; a write already in flight when the deadline passes cannot be recalled.

`release()` (graceful shutdown) clears the holder so a standby takes over within one retry period.
The leadership state (`is_leader`, `check`, `stop_leading`) may be read and ended from another thread
than the one renewing (see `leader_thread`); the coroutines and `lost` belong to the renewing loop.
Defaults: 15 s lease, 10 s renew deadline, 2 s retry period (upstream's). Decisions are pure functions of
the Lease record and the local clock (`decide`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flink_operator.config import Configuration
from flink_operator.config.operator_options import (
    LEADER_ELECTION_LEASE_DURATION,
    LEADER_ELECTION_LEASE_NAME,
    LEADER_ELECTION_RENEW_DEADLINE,
    LEADER_ELECTION_RETRY_PERIOD,
)
from flink_operator.runtime.kinds import LEASE
from flink_operator.runtime.kube_api import KubeApi, NotLeader, status_code

_log = logging.getLogger(__name__)

JSON = dict[str, Any]


def default_identity() -> str:
    """A holder identity unique per process: the pod (host) name plus a random suffix."""
    host = os.environ.get("POD_NAME") or socket.gethostname() or "flink-operator"
    return f"{host}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaderElectionConfig:
    lease_name: str
    namespace: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_name:
            raise ValueError(
                "leader election needs a lease name (kubernetes.operator.leader-election.lease-name)"
            )
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError(
                "leader election timing must satisfy lease-duration > renew-deadline > retry-period > 0, got "
                f"{self.lease_duration} s, {self.renew_deadline} s, {self.retry_period} s"
            )

    @classmethod
    def from_configuration(
        cls, configuration: Configuration, namespace: str, identity: str
    ) -> LeaderElectionConfig:
        return cls(
            lease_name=configuration.get(LEADER_ELECTION_LEASE_NAME),
            namespace=namespace,
            identity=identity,
            lease_duration=configuration.get(LEADER_ELECTION_LEASE_DURATION).total_seconds(),
            renew_deadline=configuration.get(LEADER_ELECTION_RENEW_DEADLINE).total_seconds(),
            retry_period=configuration.get(LEADER_ELECTION_RETRY_PERIOD).total_seconds(),
        )


@dataclass(frozen=True)
class LeaseRecord:
    holder: str
    lease_duration: float
    transitions: int
    resource_version: str
    renew_time: str

    @classmethod
    def of(cls, lease: JSON) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            lease_duration=float(spec.get("leaseDurationSeconds") or 0),
            transitions=int(spec.get("leaseTransitions") or 0),
            resource_version=str((lease.get("metadata") or {}).get("resourceVersion") or ""),
            renew_time=str(spec.get("renewTime") or ""),
        )


class Decision(enum.Enum):
    CREATE = "create"
    TAKE_OVER = "take-over"
    RENEW = "renew"
    WAIT = "wait"


def decide(record: LeaseRecord | None, identity: str, observed_at: float, now: float) -> Decision:
    """What a candidate should do given the Lease record (None: no Lease), when it last saw the record
    change (`observed_at`, local monotonic clock) and the time now."""
    if record is None:
        return Decision.CREATE
    if record.holder == identity:
        return Decision.RENEW
    if not record.holder or now - observed_at >= record.lease_duration:
        return Decision.TAKE_OVER
    return Decision.WAIT


def _micro_time(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        api: KubeApi,
        config: LeaderElectionConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """`on_lost`: called, on the renewing loop's thread, whenever leadership ends with `lost` set."""
        self.api = api
        self.config = config
        self.clock = clock
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0
        self._leading = False
        self._renewed_at = -math.inf
        # Guards `_leading` with `_renewed_at`: the write gate may run on another thread than the renewals.
        self._state = threading.Lock()
        self.on_lost = on_lost
        self.lost = asyncio.Event()
        self.contacted = False
        """True once the Lease could be read or created (the API server is reachable)."""
        self.terms = 0

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def is_leader(self) -> bool:
        with self._state:
            leading, renewed_at = self._leading, self._renewed_at
        return leading and self.clock() - renewed_at < self.config.renew_deadline

    @property
    def observed_holder(self) -> str | None:
        return None if self._observed is None else self._observed.holder

    def check(self) -> None:
        """The write gate: raises `NotLeader` unless this replica holds a live lease."""
        if not self.is_leader:
            lease = f"{self.config.namespace}/{self.config.lease_name}"
            raise NotLeader(f"{self.identity} does not hold lease {lease}")

    # --- one attempt ----------------------------------------------------------------------------------

    async def try_acquire_or_renew(self) -> bool:
        """One read-decide-write round; True when this replica holds the lease afterwards."""
        cfg = self.config
        started = self.clock()
        try:
            lease = await self.api.get(LEASE, cfg.lease_name, cfg.namespace)
        except Exception as error:
            if status_code(error) != 404:
                raise
            lease = None
        self.contacted = True
        record = None if lease is None else LeaseRecord.of(lease)
        if record is not None and record != self._observed:
            self._observed = record
            self._observed_at = started
        decision = decide(record, cfg.identity, self._observed_at, started)
        if decision is Decision.WAIT:
            return False
        now = datetime.now(UTC)
        spec: JSON = {
            "holderIdentity": cfg.identity,
            "leaseDurationSeconds": max(1, math.ceil(cfg.lease_duration)),
            "renewTime": _micro_time(now),
        }
        try:
            if decision is Decision.CREATE:
                spec.update(acquireTime=_micro_time(now), leaseTransitions=0)
                written = await self.api.create(
                    LEASE, {"metadata": {"name": cfg.lease_name, "namespace": cfg.namespace}, "spec": spec},
                    cfg.namespace,
                )
            else:
                assert lease is not None and record is not None
                previous = lease.get("spec") or {}
                spec["acquireTime"] = previous.get("acquireTime") or _micro_time(now)
                spec["leaseTransitions"] = record.transitions
                if decision is Decision.TAKE_OVER:
                    spec["acquireTime"] = _micro_time(now)
                    spec["leaseTransitions"] = record.transitions + (1 if record.holder else 0)
                body = {
                    "metadata": {**(lease.get("metadata") or {}), "resourceVersion": record.resource_version},
                    "spec": spec,
                }
                written = await self.api.replace(LEASE, body)
        except Exception as error:
            if status_code(error) == 409:
                return False  # another candidate wrote first
            raise
        self._observed = LeaseRecord.of(written)
        self._observed_at = started
        with self._state:
            self._renewed_at = started
        return True

    # --- loops ----------------------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Block until this replica leads."""
        while True:
            try:
                if await self.try_acquire_or_renew():
                    with self._state:
                        self._leading = True
                    self.lost.clear()
                    self.terms += 1
                    _log.info("%s acquired lease %s/%s", self.identity, self.config.namespace,
                              self.config.lease_name)
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                _log.warning("Leader election attempt failed: %s", error)
            await asyncio.sleep(self._jittered(self.config.retry_period))

    async def keep_renewing(self) -> None:
        """Renew until leadership is lost; then set `lost` and return."""
        cfg = self.config
        while self._leading:
            await asyncio.sleep(cfg.retry_period)
            deadline = self._renewed_at + cfg.renew_deadline
            remaining = deadline - self.clock()
            renewed = False
            if remaining > 0:
                try:
                    # Not `asyncio.wait_for`: on Python 3.11 it returns the result of a renewal that
                    # completes as the loop is cancelled, losing the cancellation (the loop renewed on and
                    # a shutdown waiting for it never finished).
                    async with asyncio.timeout(remaining):
                        renewed = await self.try_acquire_or_renew()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    _log.warning("Renewing lease %s failed: %s", cfg.lease_name, error)
            if renewed:
                continue
            other = self.observed_holder
            if (other and other != self.identity) or self.clock() >= deadline:
                self._lose(other)
                return

    def _lose(self, other: str | None) -> None:
        self.stop_leading()
        self._signal_lost()
        if other and other != self.identity:
            _log.warning("%s lost lease %s to %s", self.identity, self.config.lease_name, other)
        else:
            _log.warning("%s could not renew lease %s within %.1f s; stepping down", self.identity,
                         self.config.lease_name, self.config.renew_deadline)

    def step_down(self) -> None:
        """Stop leading locally at once (without touching the Lease); on the renewing loop."""
        if self.stop_leading():
            self._signal_lost()

    def stop_leading(self) -> bool:
        """Close the write gate at once, from any thread, without signalling `lost` (the caller does);
        returns whether this replica was leading."""
        with self._state:
            was_leading, self._leading = self._leading, False
        return was_leading

    def _signal_lost(self) -> None:
        self.lost.set()
        if self.on_lost is not None:
            self.on_lost()

    async def release(self) -> bool:
        """Give the lease up (graceful shutdown) so a standby takes over without waiting for expiry."""
        if not self.stop_leading():
            return False
        cfg = self.config
        try:
            lease = await self.api.get(LEASE, cfg.lease_name, cfg.namespace)
            if LeaseRecord.of(lease).holder != cfg.identity:
                return False
            now = _micro_time(datetime.now(UTC))
            spec = {**(lease.get("spec") or {}), "holderIdentity": None, "leaseDurationSeconds": 1,
                    "renewTime": now, "acquireTime": now}
            await self.api.replace(LEASE, {"metadata": lease["metadata"], "spec": spec})
        except Exception as error:
            _log.warning("Releasing lease %s failed (a standby takes over after expiry): %s",
                         cfg.lease_name, error)
            return False
        _log.info("%s released lease %s/%s", self.identity, cfg.namespace, cfg.lease_name)
        return True

    @staticmethod
    def _jittered(period: float) -> float:
        return period * (1 + 0.2 * random.random())  # noqa: S311 - jitter, not security
