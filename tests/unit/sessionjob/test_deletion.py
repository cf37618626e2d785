"""The pure deletion rules of session clusters and session jobs, rule by rule, and a small simulation of every
deletion order (job first, session first, both at once, session unreachable) that must always converge."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from flink_operator.api import FlinkJobState
from flink_operator.controllers.sessionjob.deletion import (
    JobCleanupInputs,
    JobCleanupKind,
    SessionAvailability,
    SessionCleanupInputs,
    SessionCleanupKind,
    SessionJobRef,
    session_cleanup,
    session_job_cleanup,
)
from flink_operator.flink.service import SuspendMode

pytestmark = pytest.mark.unit

RUNNING = FlinkJobState.RUNNING


def job_inputs(**overrides: object) -> JobCleanupInputs:
    values: dict[str, object] = {
        "job_id": "a" * 32,
        "job_state": RUNNING,
        "never_deployed": False,
        "reconciled_suspended": False,
        "job_not_found": False,
        "session": SessionAvailability.READY,
        "timeout_s": 60.0,
    }
    values.update(overrides)
    return JobCleanupInputs(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "kind"),
    [
        ({"never_deployed": True}, JobCleanupKind.RELEASE),
        ({"job_id": None}, JobCleanupKind.RELEASE),
        ({"job_state": FlinkJobState.CANCELED}, JobCleanupKind.RELEASE),
        ({"job_state": FlinkJobState.FAILED}, JobCleanupKind.RELEASE),
        ({"reconciled_suspended": True}, JobCleanupKind.RELEASE),
        ({"session": SessionAvailability.MISSING}, JobCleanupKind.RELEASE),
        ({"session": SessionAvailability.DELETING, "block_on_session_jobs": False}, JobCleanupKind.RELEASE),
        ({"job_not_found": True}, JobCleanupKind.RELEASE),
        ({"session": SessionAvailability.NOT_READY, "session_ha": False}, JobCleanupKind.RELEASE),
        ({"session": SessionAvailability.NOT_READY, "session_ha": True}, JobCleanupKind.WAIT),
        (
            {"session": SessionAvailability.NOT_READY, "session_ha": True, "waited_s": 60.0},
            JobCleanupKind.RELEASE_UNCANCELLED,
        ),
        ({"session": SessionAvailability.UNREACHABLE}, JobCleanupKind.WAIT),
        ({"session": SessionAvailability.UNREACHABLE, "waited_s": 61.0}, JobCleanupKind.RELEASE_UNCANCELLED),
        ({"job_state": FlinkJobState.CANCELLING}, JobCleanupKind.WAIT),
        ({"job_state": FlinkJobState.CANCELLING, "waited_s": 60.0}, JobCleanupKind.RELEASE_UNCANCELLED),
        ({"last_failure": "Cancellation Error: boom"}, JobCleanupKind.CANCEL),
        ({"last_failure": "Cancellation Error: boom", "waited_s": 60.0}, JobCleanupKind.RELEASE_UNCANCELLED),
        ({"force": True}, JobCleanupKind.RELEASE_UNCANCELLED),
        ({"force": True, "job_state": FlinkJobState.CANCELED}, JobCleanupKind.RELEASE),
        ({}, JobCleanupKind.CANCEL),
    ],
)
def test_session_job_cleanup_rules(overrides: dict[str, object], kind: JobCleanupKind) -> None:
    assert session_job_cleanup(job_inputs(**overrides)).kind is kind


def test_cancel_mode_follows_savepoint_on_deletion_and_falls_back_after_a_failed_savepoint() -> None:
    assert session_job_cleanup(job_inputs()).mode is SuspendMode.STATELESS
    assert session_job_cleanup(job_inputs(savepoint_on_deletion=True)).mode is SuspendMode.SAVEPOINT
    fallback = session_job_cleanup(job_inputs(savepoint_on_deletion=True, savepoint_failed=True))
    assert fallback.mode is SuspendMode.STATELESS
    not_running = session_job_cleanup(
        job_inputs(savepoint_on_deletion=True, job_state=FlinkJobState.RESTARTING)
    )
    assert not_running.mode is SuspendMode.STATELESS


def test_released_uncancelled_says_which_job_and_why() -> None:
    decision = session_job_cleanup(
        job_inputs(
            session=SessionAvailability.UNREACHABLE, session_detail="REST call failed: 503", waited_s=70
        )
    )
    assert "a" * 32 in decision.reason and "could not be cancelled" in decision.reason
    assert "REST call failed: 503" in decision.reason and "may still run" in decision.reason


def test_session_blocked_by_session_jobs_names_them() -> None:
    decision = session_cleanup(SessionCleanupInputs(session_jobs=[SessionJobRef("b"), SessionJobRef("a")]))
    assert decision.kind is SessionCleanupKind.BLOCKED_BY_SESSION_JOBS
    assert decision.warning and decision.blockers == ("a", "b")
    assert "The session jobs [a, b] should be deleted first" in decision.message


def test_session_waits_for_deleting_session_jobs_for_a_bounded_time() -> None:
    deleting = SessionJobRef("a", deleting=True, deleting_for_s=10)
    waiting = session_cleanup(SessionCleanupInputs(session_jobs=[deleting], job_cancel_timeout_s=60))
    assert waiting.kind is SessionCleanupKind.WAIT_FOR_SESSION_JOBS and not waiting.warning
    late = SessionJobRef("a", deleting=True, deleting_for_s=61)
    assert session_cleanup(SessionCleanupInputs(session_jobs=[late], job_cancel_timeout_s=60)).kind is (
        SessionCleanupKind.DELETE
    )


def test_session_without_blocking_deletes_with_jobs() -> None:
    inputs = SessionCleanupInputs(
        session_jobs=[SessionJobRef("a")], block_on_session_jobs=False, jm_ready=True
    )
    assert session_cleanup(inputs).kind is SessionCleanupKind.DELETE


@pytest.mark.parametrize(
    ("inputs", "kind", "warning"),
    [
        (
            SessionCleanupInputs(jm_ready=True, unmanaged_jobs=["x"]),
            SessionCleanupKind.WAIT_FOR_UNMANAGED_JOBS,
            True,
        ),
        (
            SessionCleanupInputs(jm_ready=True, unmanaged_jobs=["x"], waited_s=400),
            SessionCleanupKind.DELETE,
            True,
        ),
        (
            SessionCleanupInputs(jm_ready=True, unmanaged_jobs=None),
            SessionCleanupKind.WAIT_FOR_UNMANAGED_JOBS,
            False,
        ),
        (
            SessionCleanupInputs(jm_ready=True, unmanaged_jobs=None, waited_s=400),
            SessionCleanupKind.DELETE,
            False,
        ),
        (SessionCleanupInputs(jm_ready=False, unmanaged_jobs=None), SessionCleanupKind.DELETE, False),
        (
            SessionCleanupInputs(jm_ready=True, unmanaged_jobs=["x"], block_on_unmanaged_jobs=False),
            SessionCleanupKind.DELETE,
            False,
        ),
        (SessionCleanupInputs(jm_ready=True, unmanaged_jobs=[]), SessionCleanupKind.DELETE, False),
        (
            SessionCleanupInputs(session_jobs=[SessionJobRef("a")], unmanaged_jobs=["x"], force=True),
            SessionCleanupKind.DELETE,
            True,
        ),
    ],
)
def test_unmanaged_jobs_and_force(
    inputs: SessionCleanupInputs, kind: SessionCleanupKind, warning: bool
) -> None:
    decision = session_cleanup(inputs)
    assert decision.kind is kind and decision.warning is warning


# --- every order converges -------------------------------------------------------------------------------


@dataclass
class Job:
    name: str
    running: bool = True
    deleting_since: float | None = None
    gone: bool = False
    released_uncancelled: bool = False


@dataclass
class World:
    """Session cluster + session jobs as the two decisions see them, advanced one second per tick."""

    jobs: list[Job]
    session_deleting_since: float | None = None
    session_gone: bool = False
    reachable: bool = True
    ha: bool = True
    now: float = 0.0
    timeout: float = 30.0
    log: list[str] = field(default_factory=list)

    def availability(self) -> SessionAvailability:
        if self.session_gone:
            return SessionAvailability.MISSING
        if self.session_deleting_since is not None:
            return SessionAvailability.READY if self.reachable else SessionAvailability.NOT_READY
        return SessionAvailability.READY if self.reachable else SessionAvailability.NOT_READY

    def tick(self) -> None:
        for job in self.jobs:
            if job.gone or job.deleting_since is None:
                continue
            decision = session_job_cleanup(
                JobCleanupInputs(
                    job_id=job.name,
                    job_state=RUNNING if job.running else FlinkJobState.CANCELED,
                    never_deployed=False,
                    reconciled_suspended=False,
                    job_not_found=False,
                    session=self.availability(),
                    session_ha=self.ha,
                    waited_s=self.now - job.deleting_since,
                    timeout_s=self.timeout,
                )
            )
            if decision.kind is JobCleanupKind.CANCEL:
                job.running = False  # the session answers: the cancel succeeds, the finalizer goes
                job.gone = True
            elif decision.kind in (JobCleanupKind.RELEASE, JobCleanupKind.RELEASE_UNCANCELLED):
                job.gone = True
                job.released_uncancelled = decision.kind is JobCleanupKind.RELEASE_UNCANCELLED
        if self.session_deleting_since is not None and not self.session_gone:
            refs = [
                SessionJobRef(j.name, j.deleting_since is not None, self.now - (j.deleting_since or self.now))
                for j in self.jobs
                if not j.gone
            ]
            decision = session_cleanup(
                SessionCleanupInputs(
                    session_jobs=refs,
                    jm_ready=self.reachable,
                    unmanaged_jobs=[j.name for j in self.jobs if j.gone and j.running]
                    if self.reachable
                    else None,
                    waited_s=self.now - self.session_deleting_since,
                    job_cancel_timeout_s=self.timeout,
                    unmanaged_timeout_s=self.timeout,
                )
            )
            if decision.kind is SessionCleanupKind.DELETE:
                self.session_gone = True
        self.now += 1.0


ACTIONS = ("delete-session", "delete-jobs", "session-unreachable")


@pytest.mark.parametrize("order", list(itertools.permutations(ACTIONS)), ids="/".join)
@pytest.mark.parametrize("gap", [0, 1, 5])
@pytest.mark.parametrize("ha", [True, False])
def test_every_deletion_order_converges(order: tuple[str, ...], gap: int, ha: bool) -> None:
    world = World(jobs=[Job("one"), Job("two")], ha=ha)
    schedule = [(index * gap, action) for index, action in enumerate(order)]
    last = schedule[-1][0]
    for _ in range(200):
        for action in [a for t, a in schedule if t == world.now]:
            if action == "delete-session":
                world.session_deleting_since = world.now
            elif action == "delete-jobs":
                for job in world.jobs:
                    job.deleting_since = world.now
            else:
                world.reachable = False
        world.tick()
        if world.session_gone and all(j.gone for j in world.jobs) and world.now > last:
            break
    assert world.session_gone and all(j.gone for j in world.jobs), f"not converged after {world.now} s"
    # Bounded: everything is gone within two timeouts of the last action (job cancel + unmanaged jobs).
    assert world.now <= last + 2 * world.timeout + 3


def test_session_first_while_jobs_stay_is_blocked_until_they_are_deleted() -> None:
    world = World(jobs=[Job("one")])
    world.session_deleting_since = 0.0
    for _ in range(100):
        world.tick()
    assert not world.session_gone, "a session with session jobs is not torn down under them"
    world.jobs[0].deleting_since = world.now
    for _ in range(5):
        world.tick()
    assert world.jobs[0].gone and not world.jobs[0].released_uncancelled, "the job was cancelled normally"
    assert world.session_gone
