"""Lifecycle bookkeeping for metrics: which transitions a state change completes and how long they took.

Pure functions over plain data; the clock and the histograms live in `lifecycle_metrics`.

A `LifecycleTrack` is what is remembered about one resource: its current lifecycle state and, per state it
passed through recently, when it entered and left that state. `advance(track, new_state, now)` returns
the next track and the `Observations` made by the change:

* the time spent in the state that was left (only when its entry time is known: a resource first seen
  mid-life, e.g. after an operator restart, has an unknown entry time and reports nothing for that state);
* every transition of `TRANSITIONS` the change completes, with its duration.

A transition is named by the contract (§7.2) and measured from a point in the past to the moment the target
state is entered. The point is either when a source state was *entered* (`Submission` counts from entering
UPGRADING) or when it was *left* (`Upgrade` counts from leaving STABLE, not the time spent stable before).
When several source states qualify, the most recent point is used, so one change records a transition once.

Which remembered times survive a change follows upstream's `getClearedStatesAfterTransition` (contract §2.1,
`ResourceLifecycleState.cleared_states_after_transition`): entering a terminal state forgets every other
state; entering UPGRADING forgets all but UPGRADING and the state it came from. That is what makes, e.g.,
SUSPENDED -> UPGRADING -> DEPLOYED -> STABLE a `Resume` and STABLE -> UPGRADING -> DEPLOYED -> STABLE an
`Upgrade` (SUSPENDED was forgotten when the job reached STABLE before).

Not guaranteed: exactness across operator restarts (nothing is persisted); a change that happens between two
status writes of the operator is not seen (only written states are).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from flink_operator.api.enums import ResourceLifecycleState

State = ResourceLifecycleState


class MeasuredFrom(enum.Enum):
    """Which moment of a source state a transition is timed from."""

    ENTRY = "entry"
    EXIT = "exit"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[State]
    target: State
    measured_from: MeasuredFrom


def _transition(name: str, sources: set[State], target: State, measured_from: MeasuredFrom) -> Transition:
    return Transition(name, frozenset(sources), target, measured_from)


TRANSITIONS: tuple[Transition, ...] = (
    # A resumed job: from leaving SUSPENDED until it is stable again.
    _transition("Resume", {State.SUSPENDED}, State.STABLE, MeasuredFrom.EXIT),
    # An upgrade of a stable job: from leaving STABLE until it is stable again.
    _transition("Upgrade", {State.STABLE}, State.STABLE, MeasuredFrom.EXIT),
    # Taking a running job down: from leaving a running state until SUSPENDED.
    _transition(
        "Suspend", {State.DEPLOYED, State.STABLE, State.ROLLED_BACK}, State.SUSPENDED, MeasuredFrom.EXIT
    ),
    # A deployment proving itself: from being deployed until stable.
    _transition("Stabilization", {State.DEPLOYED}, State.STABLE, MeasuredFrom.ENTRY),
    # A deployment that never stabilised: from being deployed until rolled back.
    _transition("Rollback", {State.DEPLOYED}, State.ROLLED_BACK, MeasuredFrom.ENTRY),
    # Getting a spec onto the cluster: from the start of an upgrade (or rollback) until deployed.
    _transition("Submission", {State.UPGRADING}, State.DEPLOYED, MeasuredFrom.ENTRY),
    _transition("Submission", {State.ROLLING_BACK}, State.ROLLED_BACK, MeasuredFrom.ENTRY),
)

TRANSITION_NAMES: tuple[str, ...] = tuple(dict.fromkeys(t.name for t in TRANSITIONS))


@dataclass(frozen=True)
class StateTimes:
    """When a state was entered (None: unknown) and left (None: not yet)."""

    entered: float | None
    exited: float | None = None


@dataclass(frozen=True)
class LifecycleTrack:
    state: State
    times: Mapping[State, StateTimes] = field(default_factory=dict)


@dataclass(frozen=True)
class Observations:
    """What one state change reports: time spent in the left state, and completed transitions."""

    time_in_state: tuple[State, float] | None = None
    transitions: tuple[tuple[str, float], ...] = ()

    @property
    def empty(self) -> bool:
        return self.time_in_state is None and not self.transitions


def parse_state(value: object) -> State | None:
    """A lifecycle state from a status value, None for anything else."""
    if isinstance(value, str):
        try:
            return State(value)
        except ValueError:
            return None
    return None


def initial_track(state: State, entered: float | None) -> LifecycleTrack:
    """The track of a resource first seen in `state` (entered at `entered`, None when unknown)."""
    return LifecycleTrack(state, {state: StateTimes(entered)})


def cleared_states(previous: State, new: State) -> frozenset[State]:
    """States whose times a change from `previous` to `new` forgets (contract §2.1)."""
    return new.cleared_states_after_transition(previous)


def completed_transitions(
    times: Mapping[State, StateTimes], new_state: State, now: float
) -> tuple[tuple[str, float], ...]:
    """The transitions entering `new_state` completes, given the remembered times (which must already
    record the exit of the state being left), with their durations in seconds (never negative)."""
    completed: list[tuple[str, float]] = []
    for transition in TRANSITIONS:
        if transition.target is not new_state:
            continue
        points = [
            point
            for source in transition.sources
            if (remembered := times.get(source)) is not None
            and (
                point := remembered.entered
                if transition.measured_from is MeasuredFrom.ENTRY
                else remembered.exited
            )
            is not None
        ]
        if points:
            completed.append((transition.name, max(0.0, now - max(points))))
    return tuple(completed)


def advance(track: LifecycleTrack, new_state: State, now: float) -> tuple[LifecycleTrack, Observations]:
    """The track after the resource entered `new_state` at `now`, and what that change reports."""
    previous = track.state
    if new_state is previous:
        return track, Observations()
    times = dict(track.times)
    left = times.get(previous, StateTimes(None))
    times[previous] = StateTimes(left.entered, now)
    time_in_state = None if left.entered is None else (previous, max(0.0, now - left.entered))
    transitions = completed_transitions(times, new_state, now)
    for state in cleared_states(previous, new_state):
        times.pop(state, None)
    times[new_state] = StateTimes(now)
    return LifecycleTrack(new_state, times), Observations(time_in_state, transitions)
