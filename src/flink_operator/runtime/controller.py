"""How a controller is declared: the reconcile contract, watches of secondary kinds, and its context.

    class CountConfigMaps:
        def __init__(self, ctx: ControllerContext) -> None:
            self.ctx = ctx

        async def reconcile(self, request: Request) -> Result:
            obj = self.ctx.get(request)          # None once the object is gone
            ...                                  # decide, then at most one step that changes the world
            await self.ctx.status.write(obj, new_status)
            return Result.after(60)

    manager.add(ControllerSpec("counter", COUNTER_KIND, CountConfigMaps,
                               watches=[Watch(CONFIG_MAP, map_to_owner(COUNTER_KIND))]))

`reconcile(request) -> Result` is level-triggered and called for a key whenever something about it may
have changed: the object itself (created, spec/labels/annotations changed, deletion started, deleted), a
mapped secondary object, or a timer. Never two at once for the same key. Raising an exception schedules a
retry with exponential backoff (`RetryPolicy`); after the last attempt the reconciler's optional
`on_retries_exhausted(request, error)` may return a `Result` to keep observing.

A reconciler is built from its `ControllerContext` each time this replica becomes the leader (a fresh
cache and status memory per leadership term); its constructor must be cheap and must not do I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from flink_operator.config import DefaultConfiguration
from flink_operator.runtime.cache import Indexer, Store
from flink_operator.runtime.events import EventHook, EventRecorder
from flink_operator.runtime.finalizers import Finalizers
from flink_operator.runtime.informer import Change
from flink_operator.runtime.kinds import Kind, ObjectKey
from flink_operator.runtime.kube_api import KubeApi
from flink_operator.runtime.status import StatusHook, StatusWriter
from flink_operator.runtime.workqueue import Priority

Request = ObjectKey
"""What a reconcile is asked about: the (namespace, name) of one primary object."""

JSON = dict[str, Any]


@dataclass(frozen=True)
class Result:
    """What a reconcile asks for next: to be called again after `requeue_after` seconds (0: as soon as
    possible), or (None) only when something changes."""

    requeue_after: float | None = None

    def __post_init__(self) -> None:
        if self.requeue_after is not None and self.requeue_after < 0:
            raise ValueError(f"requeue_after must be >= 0 seconds, got {self.requeue_after}")

    @classmethod
    def after(cls, delay: float | timedelta) -> Result:
        return cls(delay.total_seconds() if isinstance(delay, timedelta) else float(delay))

    @classmethod
    def now(cls) -> Result:
        return cls(0.0)

    @classmethod
    def done(cls) -> Result:
        return cls(None)


@runtime_checkable
class Reconciler(Protocol):
    async def reconcile(self, request: Request) -> Result: ...


@runtime_checkable
class ExhaustionAware(Protocol):
    """Optionally implemented by a reconciler: called when a key failed on its last retry attempt."""

    async def on_retries_exhausted(self, request: Request, error: BaseException) -> Result | None: ...


Mapper = Callable[[Change, Store], Iterable[ObjectKey]]
"""Maps a change of a secondary object to the primary keys to reconcile; gets the primary store (for its
indexes)."""


@dataclass(frozen=True)
class Watch:
    """A secondary kind whose changes trigger reconciles of the primaries `mapper` names."""

    kind: Kind
    mapper: Mapper
    label_selector: str | None = None
    indexers: Mapping[str, Indexer] = field(default_factory=dict)


@dataclass(frozen=True)
class ControllerSpec:
    name: str
    kind: Kind
    reconciler: Callable[[ControllerContext], Reconciler]
    watches: Sequence[Watch] = ()
    indexers: Mapping[str, Indexer] = field(default_factory=dict)
    """Indexes on the primary store (used by `map_by_index` mappers of this controller)."""
    finalizer: str | None = None
    label_selector: str | None = None
    """Extra label selector for the primary kind, combined with the operator's `label.selector`."""
    use_operator_label_selector: bool = True
    status_hooks: Sequence[StatusHook] = ()
    event_hooks: Sequence[EventHook] = ()


class ControllerContext:
    """Everything a reconciler may use, valid for one leadership term."""

    def __init__(
        self,
        *,
        spec: ControllerSpec,
        api: KubeApi,
        store: Store,
        secondary_stores: Mapping[Kind, Store],
        status: StatusWriter,
        events: EventRecorder,
        finalizers: Finalizers | None,
        enqueue: Callable[[ObjectKey, Priority, float], None],
        configuration: Callable[[], DefaultConfiguration],
        is_leader: Callable[[], bool],
    ) -> None:
        self.spec = spec
        self.api = api
        """Gated by leadership: writes raise `NotLeader` once this replica is not the leader."""
        self.store = store
        self.status = status
        self.events = events
        self.finalizers = finalizers
        self._secondary = dict(secondary_stores)
        self._enqueue = enqueue
        self._configuration = configuration
        self._is_leader = is_leader

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    def get(self, request: Request) -> JSON | None:
        """The primary object from the cache with this writer's last status overlaid (a fresh dict), or
        None when it does not exist (any more)."""
        obj = self.store.get(request)
        return None if obj is None else self.status.observe(obj)

    def store_for(self, kind: Kind) -> Store:
        """The cache of a watched secondary kind."""
        try:
            return self._secondary[kind]
        except KeyError:
            raise KeyError(f"controller {self.spec.name!r} does not watch {kind}") from None

    def enqueue(self, key: ObjectKey, priority: Priority = Priority.EVENT, delay: float = 0.0) -> None:
        """Ask for a reconcile of another primary key of this controller."""
        self._enqueue(key, priority, delay)

    @property
    def configuration(self) -> DefaultConfiguration:
        """The operator's current default configuration (follows live reload)."""
        return self._configuration()

    @property
    def is_leader(self) -> bool:
        return self._is_leader()


# --- mappers ---------------------------------------------------------------------------------------------


def map_to_owner(owner: Kind, *, controller_only: bool = False) -> Mapper:
    """Map a secondary object to the owner(s) of kind `owner` named in its ownerReferences (same namespace),
    e.g. a JobManager Deployment to its FlinkDeployment."""

    def mapper(change: Change, _primary: Store) -> list[ObjectKey]:
        obj = change.obj
        return [
            ObjectKey(obj.namespace, ref.name)
            for ref in obj.owners
            if ref.kind == owner.kind
            and ref.api_version.rpartition("/")[0] == owner.group
            and (ref.controller or not controller_only)
        ]

    return mapper


def _field(obj: JSON, path: Sequence[str]) -> Any:
    value: Any = obj
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def map_by_field(*path: str) -> Mapper:
    """Map a secondary object to the primary named by one of its fields (same namespace), old and new
    values both, e.g. a FlinkSessionJob to the FlinkDeployment in `spec.deploymentName`."""

    def mapper(change: Change, _primary: Store) -> list[ObjectKey]:
        keys: list[ObjectKey] = []
        for version in (change.old, change.new):
            if version is None:
                continue
            value = _field(version.decode(), path)
            if isinstance(value, str) and value:
                key = ObjectKey(version.namespace, value)
                if key not in keys:
                    keys.append(key)
        return keys

    return mapper


def field_indexer(*path: str) -> Indexer:
    """An index of objects by `<namespace>/<value of path>`, for `map_by_index`."""

    def indexer(obj: JSON) -> list[str]:
        value = _field(obj, path)
        if not isinstance(value, str) or not value:
            return []
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        return [f"{namespace}/{value}"]

    return indexer


def map_by_index(index: str) -> Mapper:
    """Map a secondary object to the primaries whose `index` contains `<namespace>/<name>` of it, e.g. a
    FlinkDeployment to the FlinkSessionJobs indexed by their `spec.deploymentName`."""

    def mapper(change: Change, primary: Store) -> list[ObjectKey]:
        obj = change.obj
        return primary.by_index(index, f"{obj.namespace}/{obj.name}")

    return mapper


def map_to_same_key() -> Mapper:
    """Map a secondary object to the primary with the same namespace and name."""

    def mapper(change: Change, _primary: Store) -> list[ObjectKey]:
        return [change.obj.key]

    return mapper
