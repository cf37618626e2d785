"""Lifecycle bookkeeping: which transitions a status change completes, their durations, and which state
times survive a change."""

from __future__ import annotations

import itertools

import pytest

from flink_operator.metrics.lifecycle import (
    TRANSITION_NAMES,
    LifecycleTrack,
    Observations,
    State,
    StateTimes,
    advance,
    cleared_states,
    completed_transitions,
    initial_track,
    parse_state,
)

pytestmark = pytest.mark.unit

TERMINAL = {State.SUSPENDED, State.STABLE, State.ROLLED_BACK, State.FAILED, State.DELETED}


def walk(
    steps: list[tuple[State, float]], start: State = State.CREATED, entered: float | None = 0.0
) -> tuple[LifecycleTrack, list[Observations]]:
    track = initial_track(start, entered)
    seen = []
    for state, at in steps:
        track, observations = advance(track, state, at)
        seen.append(observations)
    return track, seen


def transitions(observations: list[Observations]) -> list[tuple[str, float]]:
    return [t for o in observations for t in o.transitions]


def test_transition_names_are_the_contracts() -> None:
    expected = {"Resume", "Upgrade", "Suspend", "Stabilization", "Rollback", "Submission"}
    assert set(TRANSITION_NAMES) == expected


def test_first_deployment_is_a_submission_then_a_stabilization() -> None:
    _, seen = walk([(State.UPGRADING, 10.0), (State.DEPLOYED, 13.0), (State.STABLE, 20.0)])
    assert transitions(seen) == [("Submission", 3.0), ("Stabilization", 7.0)]
    assert [o.time_in_state for o in seen] == [
        (State.CREATED, 10.0), (State.UPGRADING, 3.0), (State.DEPLOYED, 7.0)
    ]


def test_upgrade_of_a_stable_job_counts_from_leaving_stable() -> None:
    steps = [(State.UPGRADING, 100.0), (State.DEPLOYED, 104.0), (State.STABLE, 110.0)]
    track, seen = walk(steps, start=State.STABLE, entered=0.0)
    assert transitions(seen) == [("Submission", 4.0), ("Upgrade", 10.0), ("Stabilization", 6.0)]
    assert seen[0].time_in_state == (State.STABLE, 100.0)
    assert track.state is State.STABLE
    assert dict(track.times) == {State.STABLE: StateTimes(110.0)}


def test_in_place_change_without_upgrading_is_still_an_upgrade() -> None:
    _, seen = walk([(State.DEPLOYED, 50.0), (State.STABLE, 58.0)], start=State.STABLE, entered=0.0)
    assert sorted(transitions(seen)) == [("Stabilization", 8.0), ("Upgrade", 8.0)]


def test_suspend_counts_from_leaving_the_running_state() -> None:
    _, seen = walk([(State.UPGRADING, 30.0), (State.SUSPENDED, 35.0)], start=State.STABLE, entered=0.0)
    assert transitions(seen) == [("Suspend", 5.0)]


def test_suspend_of_a_job_that_never_stabilised_counts_from_deployed() -> None:
    _, seen = walk(
        [(State.UPGRADING, 1.0), (State.DEPLOYED, 2.0), (State.UPGRADING, 9.0), (State.SUSPENDED, 12.0)]
    )
    assert transitions(seen)[-1] == ("Suspend", 3.0)


def test_resume_is_not_an_upgrade() -> None:
    steps = [
        (State.UPGRADING, 10.0), (State.SUSPENDED, 12.0),  # suspend
        (State.UPGRADING, 100.0), (State.DEPLOYED, 103.0), (State.STABLE, 110.0),  # resume
    ]
    _, seen = walk(steps, start=State.STABLE, entered=0.0)
    resumed = sorted(t for o in seen[2:] for t in o.transitions)
    assert resumed == [("Resume", 10.0), ("Stabilization", 7.0), ("Submission", 3.0)]


def test_rollback_and_its_submission() -> None:
    _, seen = walk(
        [(State.UPGRADING, 1.0), (State.DEPLOYED, 2.0), (State.ROLLING_BACK, 62.0), (State.ROLLED_BACK, 65.0)]
    )
    assert sorted(seen[-1].transitions) == [("Rollback", 63.0), ("Submission", 3.0)]


def test_a_repeated_state_observes_nothing_and_keeps_the_track() -> None:
    track = initial_track(State.DEPLOYED, 5.0)
    again, observations = advance(track, State.DEPLOYED, 50.0)
    assert again is track and observations.empty


def test_unknown_entry_time_reports_no_time_in_state_and_no_transition_from_it() -> None:
    # First seen DEPLOYED after a restart: when it was deployed is unknown.
    _, seen = walk([(State.STABLE, 40.0)], start=State.DEPLOYED, entered=None)
    assert seen[0].time_in_state is None
    assert seen[0].transitions == ()
    # Times measured from leaving a state are known once it was left while watched.
    _, later = walk([(State.DEPLOYED, 50.0), (State.STABLE, 55.0)], start=State.STABLE, entered=None)
    assert later[0].time_in_state is None
    assert ("Upgrade", 5.0) in later[1].transitions


def test_durations_are_never_negative() -> None:
    # A clock stepping back (or a creation timestamp from a server clock ahead of ours).
    _, seen = walk([(State.UPGRADING, 5.0), (State.DEPLOYED, 4.0)], entered=10.0)
    assert seen[0].time_in_state == (State.CREATED, 0.0)
    assert seen[1].transitions == (("Submission", 0.0),)


def test_entering_a_terminal_state_forgets_every_other_state() -> None:
    track, _ = walk([(State.UPGRADING, 1.0), (State.DEPLOYED, 2.0), (State.FAILED, 3.0)])
    assert set(track.times) == {State.FAILED}


def test_entering_upgrading_keeps_only_upgrading_and_where_it_came_from() -> None:
    track, _ = walk([(State.UPGRADING, 1.0), (State.DEPLOYED, 2.0), (State.UPGRADING, 3.0)])
    assert set(track.times) == {State.UPGRADING, State.DEPLOYED}
    assert track.times[State.UPGRADING] == StateTimes(3.0)
    assert track.times[State.DEPLOYED] == StateTimes(2.0, 3.0)


def test_other_states_keep_their_times() -> None:
    track, _ = walk([(State.UPGRADING, 1.0), (State.DEPLOYED, 2.0), (State.ROLLING_BACK, 3.0)])
    assert set(track.times) == {State.CREATED, State.UPGRADING, State.DEPLOYED, State.ROLLING_BACK}


@pytest.mark.parametrize(("previous", "new"), list(itertools.permutations(State, 2)))
def test_cleared_states_follow_the_contract(previous: State, new: State) -> None:
    cleared = cleared_states(previous, new)
    if new in TERMINAL:
        assert cleared == frozenset(State) - {new}
    elif new is State.UPGRADING:
        assert cleared == frozenset(State) - {new, previous}
    else:
        assert cleared == frozenset()


def test_completed_transitions_take_the_latest_source_point() -> None:
    times = {
        State.DEPLOYED: StateTimes(0.0, 10.0),
        State.ROLLED_BACK: StateTimes(20.0, 30.0),
        State.UPGRADING: StateTimes(30.0, 31.0),
    }
    assert completed_transitions(times, State.SUSPENDED, 31.0) == (("Suspend", 1.0),)


def test_parse_state() -> None:
    assert parse_state("STABLE") is State.STABLE
    assert parse_state("stable") is None
    assert parse_state(None) is None
    assert parse_state(3) is None
