"""`status.error` texts and the errors a decision can end in.

`status.error` holds upstream's JSON form of an error, `{"type": ..., "message": ..., "additionalMetadata":
{}, "throwableList": []}`, so tools that parse the Java operator's statuses keep working. The `type` names
upstream's exception classes (they are identifiers of the error kind, not code). Messages are cut to a bounded
length so a huge Flink stack trace cannot bloat the resource.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from flink_operator.controllers.common.events import Reason

_EXCEPTION_PACKAGE = "org.apache.flink.kubernetes.operator.exception."
VALIDATION_ERROR_TYPE = _EXCEPTION_PACKAGE + "ValidationException"
UPGRADE_FAILURE_TYPE = _EXCEPTION_PACKAGE + "UpgradeFailureException"
DEPLOYMENT_FAILED_TYPE = _EXCEPTION_PACKAGE + "DeploymentFailedException"
RECONCILIATION_ERROR_TYPE = _EXCEPTION_PACKAGE + "ReconciliationException"
FLINK_SERVICE_ERROR_TYPE = _EXCEPTION_PACKAGE + "FlinkServiceException"
DEFAULT_MAX_LENGTH = 2048


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def error_json(
    error_type: str,
    message: str,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    reason: str | None = None,
    throwables: Sequence[tuple[str, str]] = (),
) -> str:
    """The JSON text stored in `status.error`; `reason` (e.g. the Kubernetes reason of a failed JobManager)
    goes into `additionalMetadata.reason`, as upstream puts it there; `throwables` are (type, message) of
    the error's causes, for `throwableList`."""
    body = {
        "type": _cut(error_type, max_length),
        "message": _cut(message, max_length),
        "additionalMetadata": {"reason": reason} if reason else {},
        "throwableList": [
            {"type": _cut(kind, max_length), "message": _cut(text, max_length), "additionalMetadata": {}}
            for kind, text in throwables
        ],
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def error_message(error: str | None) -> str | None:
    """The human message inside a `status.error` (the text itself when it is not upstream's JSON form)."""
    if not error:
        return None
    try:
        body = json.loads(error)
    except ValueError:
        return error
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return error


def error_type(error: str | None) -> str | None:
    if not error:
        return None
    try:
        body = json.loads(error)
    except ValueError:
        return None
    return str(body.get("type")) if isinstance(body, dict) and body.get("type") else None


class UpgradeFailureError(Exception):
    """A stateful upgrade or restore that cannot be done without losing state (upstream's
    UpgradeFailureException); `reason` is the event reason (UpgradeFailed, RestoreFailed, ...)."""

    def __init__(self, message: str, reason: Reason = Reason.UPGRADE_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


MANUAL_RESTORE = "Manual restore required."
MSG_TERMINAL_UNKNOWN_CHECKPOINT = (
    "Job is in terminal state but last checkpoint is unknown, possibly due to an unrecoverable restore "
    "error. " + MANUAL_RESTORE
)
MSG_JM_MISSING_NO_HA = (
    "JobManager deployment is missing and HA metadata is not available to make stateful upgrades. It is "
    "possible that the job has finished or terminally failed, or the configmaps have been deleted. "
    + MANUAL_RESTORE
)
MSG_HA_NOT_AVAILABLE = (
    "HA metadata is not available to restore from last state. It is possible that the job has finished or "
    "terminally failed, or the configmaps have been deleted. " + MANUAL_RESTORE
)
