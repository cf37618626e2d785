"""Rules on a job (`spec.job` of a FlinkDeployment or FlinkSessionJob; contract §4.4 item 8).

* stateful upgrade modes need a checkpoint directory;
* anything that takes savepoints needs a savepoint directory;
* without `spec.taskManager.replicas` the job parallelism must be positive (the replicas rule covers the
  other case).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flink_operator.api import Problem, UpgradeMode
from flink_operator.config import ConfigOption
from flink_operator.config.resource_options import (
    JOB_UPGRADE_LAST_STATE_MAX_ALLOWED_CHECKPOINT_AGE,
    PERIODIC_SAVEPOINT_INTERVAL,
)
from flink_operator.validation.rule import got, rule
from flink_operator.validation.subjects import JobSubject

CHECKPOINT_DIR_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")
SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")


def _any_set(s: JobSubject, keys: tuple[str, ...]) -> bool:
    return any(s.config.is_set(key) for key in keys)


@rule(
    "checkpoint-dir",
    "upgradeMode savepoint or last-state needs a checkpoint directory (execution.checkpointing.dir).",
)
def checkpoint_dir(s: JobSubject) -> Iterator[Problem]:
    mode = s.job.upgrade_mode
    if mode is not UpgradeMode.STATELESS and not _any_set(s, CHECKPOINT_DIR_KEYS):
        yield Problem(
            s.config.path(CHECKPOINT_DIR_KEYS[0]),
            f"must be set (or {CHECKPOINT_DIR_KEYS[1]}) because spec.job.upgradeMode is {mode.value}: "
            "the job is restored from its checkpoints",
        )


@rule(
    "savepoint-dir",
    "Savepoint upgrades, manual and periodic savepoints and the last-state checkpoint-age limit need a "
    "savepoint directory (execution.checkpointing.savepoint-dir).",
)
def savepoint_dir(s: JobSubject) -> Iterator[Problem]:
    if _any_set(s, SAVEPOINT_DIR_KEYS):
        return
    reasons = []
    if s.job.upgrade_mode is UpgradeMode.SAVEPOINT:
        reasons.append("spec.job.upgradeMode is savepoint")
    if s.job.savepoint_trigger_nonce is not None:
        reasons.append("spec.job.savepointTriggerNonce is set")
    options: tuple[ConfigOption[Any], ...] = (
        PERIODIC_SAVEPOINT_INTERVAL,
        JOB_UPGRADE_LAST_STATE_MAX_ALLOWED_CHECKPOINT_AGE,
    )
    for option in options:
        found = s.config.lookup(option)
        if found is not None and s.config.get(option) is not None:
            reasons.append(f"{found[0]} is set{s.config.origin(found[0])}")
    if reasons:
        yield Problem(
            s.config.path(SAVEPOINT_DIR_KEYS[0]),
            f"must be set (or {SAVEPOINT_DIR_KEYS[1]}) because " + " and ".join(reasons),
        )


@rule("job-parallelism", "spec.job.parallelism is > 0 unless spec.taskManager.replicas is set.")
def job_parallelism(s: JobSubject) -> Iterator[Problem]:
    if s.task_manager_replicas is None and s.job.parallelism <= 0:
        when = "" if s.session_job else " when spec.taskManager.replicas is not set"
        yield Problem("spec.job.parallelism", f"must be > 0{when} (got {got(s.job.parallelism)})")
