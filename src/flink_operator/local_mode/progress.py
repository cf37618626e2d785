"""What changed, as a person watching `local up` wants to read it (pure functions over plain data).

A resource is reduced to a `ResourceView` (lifecycle, job, JobManager, REST URL, error); comparing two views
gives the transitions worth a line. `ProgressTracker` remembers the last view of every resource and when
its current spec was applied (first seen, or the generation changed), so each line carries the time since
the user's change. Warning events about Flink resources get a line too (an invalid spec shows up as a
ValidationError event). The tracker never does I/O: the watcher feeds it, the printer renders its lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = Mapping[str, Any]

FLINK_KINDS = frozenset({"FlinkDeployment", "FlinkSessionJob"})
REST_URL_KEY = "rest-url"
"""The `status.clusterInfo` key holding a cluster's REST / Web UI address."""


@dataclass(frozen=True)
class ResourceView:
    kind: str
    namespace: str
    name: str
    generation: int = 0
    lifecycle: str | None = None
    job_state: str | None = None
    jobmanager: str | None = None
    rest_url: str | None = None
    error: str | None = None
    deleting: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind.lower()}/{self.name}" + (
            "" if self.namespace == "default" else f" ({self.namespace})"
        )


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def readable_error(text: str | None) -> str | None:
    """`status.error` as a person reads it: upstream stores a JSON object (type, message, ...); show
    "<short type>: <message>" for those, other text as it is."""
    if not text or not text.lstrip().startswith("{"):
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if not isinstance(parsed, dict) or not parsed.get("message"):
        return text
    kind = str(parsed.get("type") or "").rsplit(".", 1)[-1]
    return f"{kind}: {parsed['message']}" if kind else str(parsed["message"])


def view_of(obj: JSON) -> ResourceView:
    """The parts of a FlinkDeployment or FlinkSessionJob that progress lines are about."""
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    job = status.get("jobStatus") or {}
    info = status.get("clusterInfo") or {}
    return ResourceView(
        kind=str(obj.get("kind") or ""),
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        generation=int(metadata.get("generation") or 0),
        lifecycle=_text(status.get("lifecycleState")),
        job_state=_text(job.get("state")),
        jobmanager=_text(status.get("jobManagerDeploymentStatus")),
        rest_url=_text(info.get(REST_URL_KEY)),
        error=readable_error(_text(status.get("error"))),
        deleting=bool(metadata.get("deletionTimestamp")),
    )


@dataclass(frozen=True)
class Transition:
    """One thing that changed: `what` (lifecycle, job, JobManager, ...), from `before` to `after`."""

    what: str
    before: str | None = None
    after: str | None = None


def transitions(old: ResourceView | None, new: ResourceView) -> list[Transition]:
    """What changed from `old` (None: first sight) to `new`, in reading order."""
    found: list[Transition] = []
    if old is None:
        found.append(Transition("seen", after=f"generation {new.generation}"))
    elif new.generation != old.generation and not (new.deleting and not old.deleting):
        # (Marking an object for deletion bumps its generation too; that is no spec change.)
        found.append(
            Transition("spec changed", f"generation {old.generation}", f"generation {new.generation}")
        )
    before = old or ResourceView(new.kind, new.namespace, new.name)
    if new.deleting and not before.deleting:
        found.append(Transition("deleting"))
    for what, attribute in (("lifecycle", "lifecycle"), ("JobManager", "jobmanager"), ("job", "job_state")):
        was, now = getattr(before, attribute), getattr(new, attribute)
        if now != was and now is not None:
            found.append(Transition(what, was, now))
    if new.error and new.error != before.error:
        found.append(Transition("error", after=new.error))
    ready = new.jobmanager == "READY" and new.rest_url is not None
    was_ready = before.jobmanager == "READY" and before.rest_url == new.rest_url
    if ready and not was_ready:
        found.append(Transition("web ui", after=new.rest_url))
    return found


@dataclass(frozen=True)
class ProgressLine:
    elapsed: float
    """Seconds since the resource's current spec was applied."""
    subject: str
    transition: Transition

    @property
    def severity(self) -> str:
        """'good', 'bad' or 'info': how the line should look."""
        after = self.transition.after or ""
        if self.transition.what in ("error", "warning") or after in ("FAILED", "ERROR", "MISSING"):
            return "bad"
        if after in ("STABLE", "RUNNING", "READY") or self.transition.what == "web ui":
            return "good"
        return "info"

    def plain(self) -> str:
        t = self.transition
        if t.before is not None and t.after is not None:
            change = f"{t.what} {t.before} -> {t.after}"
        elif t.after is not None:
            change = f"{t.what} {t.after}" if t.what != "web ui" else f"Flink Web UI / REST: {t.after}"
        else:
            change = t.what
        return f"+{self.elapsed:6.1f}s  {self.subject}  {change}"


def event_transition(event: JSON) -> tuple[tuple[str, str, str], Transition] | None:
    """A Warning Event about a Flink resource, as (resource key, transition); None for anything else."""
    involved = event.get("involvedObject") or event.get("regarding") or {}
    kind = str(involved.get("kind") or "")
    if kind not in FLINK_KINDS or event.get("type") != "Warning":
        return None
    reason = str(event.get("reason") or "")
    message = str(event.get("message") or event.get("note") or "").strip()
    key = (
        kind,
        str(involved.get("namespace") or event.get("metadata", {}).get("namespace") or ""),
        str(involved.get("name") or ""),
    )
    return key, Transition("warning", after=f"{reason}: {message}" if message else reason)


@dataclass
class _Tracked:
    view: ResourceView
    applied_at: float


@dataclass
class ProgressTracker:
    """Feeds of resource versions and events in, progress lines out. `clock` is monotonic seconds."""

    clock: Callable[[], float]
    _resources: dict[tuple[str, str, str], _Tracked] = field(default_factory=dict)
    _events_seen: dict[str, str] = field(default_factory=dict)

    def resource(self, obj: JSON) -> list[ProgressLine]:
        new = view_of(obj)
        now = self.clock()
        tracked = self._resources.get(new.key)
        old = tracked.view if tracked is not None else None
        if tracked is None or new.generation != tracked.view.generation:
            tracked = _Tracked(new, now)
        tracked.view = new
        self._resources[new.key] = tracked
        return [ProgressLine(now - tracked.applied_at, new.label, t) for t in transitions(old, new)]

    def deleted(self, obj: JSON) -> list[ProgressLine]:
        view = view_of(obj)
        tracked = self._resources.pop(view.key, None)
        applied = tracked.applied_at if tracked is not None else self.clock()
        return [ProgressLine(self.clock() - applied, view.label, Transition("deleted"))]

    def event(self, event: JSON, *, old: bool = False) -> list[ProgressLine]:
        """Lines for a Warning event; `old` events (listed at start) are only remembered."""
        found = event_transition(event)
        if found is None:
            return []
        key, transition = found
        uid = str((event.get("metadata") or {}).get("uid") or "")
        # Repeated events are aggregated into one object (count goes up): one line per distinct message.
        if self._events_seen.get(uid) == transition.after:
            return []
        self._events_seen[uid] = transition.after or ""
        if old:
            return []
        tracked = self._resources.get(key)
        elapsed = self.clock() - tracked.applied_at if tracked is not None else 0.0
        label = tracked.view.label if tracked is not None else f"{key[0].lower()}/{key[2]}"
        return [ProgressLine(elapsed, label, transition)]

    def view(self, kind: str, namespace: str, name: str) -> ResourceView | None:
        tracked = self._resources.get((kind, namespace, name))
        return tracked.view if tracked is not None else None

    def applied_at(self, kind: str, namespace: str, name: str) -> float | None:
        tracked = self._resources.get((kind, namespace, name))
        return tracked.applied_at if tracked is not None else None
