"""Which watch events are worth a reconcile, and how urgently: pure functions over cached objects.

For a controller's own (primary) kind, user-driven changes are urgent (`Priority.USER`): a new object, a
deletion or the start of one, a spec change (generation), a label or annotation change. A change that
touches none of these (in practice a status write or a finalizer edit, most often the operator's own) is not
a reason to reconcile: reconciling on its own writes is how controllers loop forever. Kinds without a
generation (ConfigMaps, Secrets...) count every new resourceVersion as a change.

For secondary kinds every real change counts (`Priority.EVENT`): a JobManager Deployment becoming available
is a status change, and it matters.
"""

from __future__ import annotations

from flink_operator.runtime.cache import CachedObject
from flink_operator.runtime.workqueue import Priority


def primary_change(old: CachedObject | None, new: CachedObject | None) -> Priority | None:
    """The priority of a primary-kind event, or None when it is not worth a reconcile.

    `old is None` is an addition, `new is None` a deletion."""
    if old is None or new is None:
        return Priority.USER
    if old.resource_version == new.resource_version:
        return None  # a relist re-delivering what we have
    if new.generation is None or old.generation is None:
        return Priority.USER
    if (
        new.generation != old.generation
        or (new.deletion_timestamp is not None) != (old.deletion_timestamp is not None)
        or new.labels != old.labels
        or new.annotations_digest != old.annotations_digest
    ):
        return Priority.USER
    return None


def secondary_change(old: CachedObject | None, new: CachedObject | None) -> Priority | None:
    """The priority of a secondary-kind event, or None when nothing changed."""
    if old is not None and new is not None and old.resource_version == new.resource_version:
        return None
    return Priority.EVENT
