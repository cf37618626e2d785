"""Options and the annotation that bound how long deleting a session cluster or a session job may wait.

Upstream can wedge here (FLINK-39618, FLINK-37766, FLINK-39271): a session job whose session cluster does not
answer keeps its finalizer forever, and a session cluster waits forever for jobs it cannot see the end of.
These bounds make every deletion order converge; the annotation lets a person skip the waiting at once.
"""

from __future__ import annotations

from datetime import timedelta

from flink_operator.config import Configuration, declare
from flink_operator.config import resource_options as ro
from flink_operator.config.option import Scope
from flink_operator.config.values import DURATION
from flink_operator.controllers.sessionjob.deletion import SessionDeletionSettings

DOCS_SECTION = "Session clusters and session jobs"

_P = "kubernetes.operator."

FORCE_DELETION_ANNOTATION = "flink.apache.org/force-deletion"
"""Set to "true" on a FlinkSessionJob or a session FlinkDeployment being deleted: release it without waiting
(a session job is not cancelled; a session cluster does not wait for its jobs)."""

SESSION_JOB_CANCEL_TIMEOUT = declare(
    _P + "session.deletion.job-cancel.timeout",
    DURATION,
    timedelta(minutes=5),
    "How long a FlinkSessionJob being deleted keeps trying to cancel its job when the session cluster "
    "does not answer (JobManager not ready, REST failing) or the cancellation fails; afterwards the "
    "finalizer is released with a Warning event saying the job could not be cancelled and why. Counted "
    f'from the deletion timestamp. Annotate the resource with `{FORCE_DELETION_ANNOTATION}: "true"` to '
    "release it at once.",
    scope=Scope.DYNAMIC,
    upstream_default="(none: upstream retries forever)",
)
SESSION_UNMANAGED_JOBS_TIMEOUT = declare(
    _P + "session.deletion.unmanaged-jobs.timeout",
    DURATION,
    timedelta(minutes=5),
    "How long a session cluster being deleted waits for jobs that no FlinkSessionJob manages "
    "(`session.deletion.block-on-unmanaged-jobs`) before it is deleted anyway, with a Warning event naming "
    "them. Counted from the deletion timestamp. Annotate the FlinkDeployment with "
    f'`{FORCE_DELETION_ANNOTATION}: "true"` to delete it at once.',
    scope=Scope.DYNAMIC,
    upstream_default="(none: upstream waits forever)",
)


def session_deletion_settings(configuration: Configuration) -> SessionDeletionSettings:
    """The deletion options of a session cluster from its effective configuration (defaults for values
    that cannot be read: the validator reports them)."""
    try:
        return SessionDeletionSettings(
            block_on_session_jobs=configuration.get(ro.SESSION_DELETION_BLOCK_ON_SESSION_JOBS),
            block_on_unmanaged_jobs=configuration.get(ro.SESSION_DELETION_BLOCK_ON_UNMANAGED_JOBS),
            job_cancel_timeout=configuration.get(SESSION_JOB_CANCEL_TIMEOUT).total_seconds(),
            unmanaged_jobs_timeout=configuration.get(SESSION_UNMANAGED_JOBS_TIMEOUT).total_seconds(),
        )
    except ValueError:
        return SessionDeletionSettings()
