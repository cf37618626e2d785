"""Generic controller machinery: informers, work queue, reconcile runner, leader election, status writer,
event recorder, finalizers and health. It knows nothing about Flink.

Declaring and running a controller (see `controller` for the contract):

    manager = Manager(lightkube.AsyncClient(), reloader)
    manager.add(ControllerSpec("name", KIND, MyReconciler, watches=[Watch(OTHER, map_to_owner(KIND))]))
    await manager.run()

Public names are re-exported here; module internals may change.
"""

from flink_operator.runtime.backoff import RetryPolicy
from flink_operator.runtime.cache import CachedObject, Indexer, OwnerRef, Store
from flink_operator.runtime.changes import primary_change, secondary_change
from flink_operator.runtime.controller import (
    ControllerContext,
    ControllerSpec,
    ExhaustionAware,
    Mapper,
    Reconciler,
    Request,
    Result,
    Watch,
    field_indexer,
    map_by_field,
    map_by_index,
    map_to_owner,
    map_to_same_key,
)
from flink_operator.runtime.event_reasons import Component, EventType, Reason
from flink_operator.runtime.events import (
    EventHook,
    EventRecorder,
    EventTarget,
    RecordedEvent,
    Recurrence,
    event_name,
)
from flink_operator.runtime.finalizers import Finalizers, has_finalizer, is_being_deleted
from flink_operator.runtime.health import HealthServer
from flink_operator.runtime.informer import Change, ChangeType, Informer, SharedInformer
from flink_operator.runtime.kinds import EVENT, LEASE, Kind, ObjectKey, key_of
from flink_operator.runtime.kube_api import KubeApi, NotLeader, is_transient, status_code
from flink_operator.runtime.leader import LeaderElectionConfig, LeaderElector, decide, default_identity
from flink_operator.runtime.leader_thread import ThreadedLeaderElector
from flink_operator.runtime.manager import Manager, combine_selectors, operator_namespace
from flink_operator.runtime.rate_limit import RateLimiter
from flink_operator.runtime.runner import ControllerRunner, RunnerStats
from flink_operator.runtime.status import StatusConflict, StatusHook, StatusUpdate, StatusWriter
from flink_operator.runtime.timers import TimerHeap
from flink_operator.runtime.workqueue import Priority, QueueShutDown, WorkQueue

__all__ = [
    "EVENT",
    "LEASE",
    "CachedObject",
    "Change",
    "ChangeType",
    "Component",
    "ControllerContext",
    "ControllerRunner",
    "ControllerSpec",
    "EventHook",
    "EventRecorder",
    "EventTarget",
    "EventType",
    "ExhaustionAware",
    "Finalizers",
    "HealthServer",
    "Indexer",
    "Informer",
    "Kind",
    "KubeApi",
    "LeaderElectionConfig",
    "LeaderElector",
    "Manager",
    "Mapper",
    "NotLeader",
    "ObjectKey",
    "OwnerRef",
    "Priority",
    "QueueShutDown",
    "RateLimiter",
    "Reason",
    "Reconciler",
    "RecordedEvent",
    "Recurrence",
    "Request",
    "Result",
    "RetryPolicy",
    "RunnerStats",
    "SharedInformer",
    "StatusConflict",
    "StatusHook",
    "StatusUpdate",
    "StatusWriter",
    "Store",
    "ThreadedLeaderElector",
    "TimerHeap",
    "Watch",
    "WorkQueue",
    "combine_selectors",
    "decide",
    "default_identity",
    "event_name",
    "field_indexer",
    "has_finalizer",
    "is_being_deleted",
    "is_transient",
    "key_of",
    "map_by_field",
    "map_by_index",
    "map_to_owner",
    "map_to_same_key",
    "operator_namespace",
    "primary_change",
    "secondary_change",
    "status_code",
]
