"""Request bodies per Flink version, version parsing and the retry policy."""

from __future__ import annotations

import random

import pytest

from flink_operator.flink.rest.requests import (
    CheckpointType,
    JarRunRequest,
    SavepointFormat,
    checkpoint_trigger_body,
    jar_run_body,
    resource_requirements_body,
    savepoint_trigger_body,
    stop_body,
)
from flink_operator.flink.rest.retry import FailureKind, RetryPolicy
from flink_operator.flink.rest.versions import ClaimMode, FlinkVersion

pytestmark = pytest.mark.unit

V23 = FlinkVersion.parse("2.3.0")
V120 = FlinkVersion.parse("1.20.5")
V119 = FlinkVersion.parse("1.19.1")


def test_minimal_run_body_always_has_program_args_list_and_never_the_string() -> None:
    body = jar_run_body(JarRunRequest(), V23)
    assert body == {"programArgsList": []}


def test_full_run_body() -> None:
    request = JarRunRequest(
        entry_class="demo.CounterJob",
        program_args=["--sleepMs", "10"],
        parallelism=2,
        job_id="00000000000000000000000000000ABC",
        savepoint_path="file:/sp/savepoint-1",
        allow_non_restored_state=True,
        claim_mode=ClaimMode.CLAIM,
        flink_configuration={"execution.checkpointing.interval": "2 s", "x.flag": True, "n": 3},
    )
    body = jar_run_body(request, V23)
    assert body == {
        "programArgsList": ["--sleepMs", "10"],
        "entryClass": "demo.CounterJob",
        "parallelism": 2,
        "jobId": "00000000000000000000000000000abc",
        "savepointPath": "file:/sp/savepoint-1",
        "allowNonRestoredState": True,
        "claimMode": "CLAIM",
        "flinkConfiguration": {"execution.checkpointing.interval": "2 s", "x.flag": "true", "n": "3"},
    }
    assert "programArgs" not in body


@pytest.mark.parametrize("parallelism", [None, 0, -1])
def test_parallelism_sent_only_when_positive(parallelism: int | None) -> None:
    assert "parallelism" not in jar_run_body(JarRunRequest(parallelism=parallelism), V23)


@pytest.mark.parametrize(
    ("version", "field"), [(V23, "claimMode"), (V120, "claimMode"), (V119, "restoreMode")]
)
def test_claim_mode_field_per_version(version: FlinkVersion, field: str) -> None:
    body = jar_run_body(JarRunRequest(claim_mode=ClaimMode.NO_CLAIM), version)
    assert body[field] == "NO_CLAIM"


def test_legacy_claim_mode_is_passed_through() -> None:
    # Both 1.20's RestoreMode and 2.3's RecoveryClaimMode still accept LEGACY (seen in their 400 answers).
    assert jar_run_body(JarRunRequest(claim_mode=ClaimMode.LEGACY), V23)["claimMode"] == "LEGACY"


def test_bad_job_id_is_named() -> None:
    with pytest.raises(ValueError, match="32 hexadecimal characters, got 'xyz'"):
        jar_run_body(JarRunRequest(job_id="xyz"), V23)


def test_snapshot_bodies() -> None:
    assert savepoint_trigger_body(None, None) == {"cancel-job": False}
    assert savepoint_trigger_body("file:/sp", SavepointFormat.NATIVE) == {
        "cancel-job": False,
        "target-directory": "file:/sp",
        "formatType": "NATIVE",
    }
    assert stop_body("file:/sp", True, SavepointFormat.CANONICAL) == {
        "drain": True,
        "targetDirectory": "file:/sp",
        "formatType": "CANONICAL",
    }
    assert checkpoint_trigger_body(CheckpointType.FULL) == {"checkpointType": "FULL"}


def test_resource_requirements_body() -> None:
    assert resource_requirements_body({"v1": 3, "v2": (2, 4)}) == {
        "v1": {"parallelism": {"lowerBound": 1, "upperBound": 3}},
        "v2": {"parallelism": {"lowerBound": 2, "upperBound": 4}},
    }
    with pytest.raises(ValueError, match="vertex v1 must satisfy 1 <= lower <= upper"):
        resource_requirements_body({"v1": (3, 2)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.3.0", (2, 3, 0)), ("1.20.5", (1, 20, 5)), ("2.3-SNAPSHOT", (2, 3, 0)), ("v1_20", (1, 20, 0))],
)
def test_version_parsing(text: str, expected: tuple[int, int, int]) -> None:
    version = FlinkVersion.parse(text)
    assert (version.major, version.minor, version.patch) == expected


def test_version_parsing_error_names_input() -> None:
    with pytest.raises(ValueError, match="not a Flink version: 'latest'"):
        FlinkVersion.parse("latest")


def test_version_order_and_features() -> None:
    assert V119 < V120 < V23
    assert V120.supports_checkpoint_trigger and FlinkVersion(1, 16).supports_checkpoint_trigger is False


def test_retry_connect_failures_retried_for_any_method() -> None:
    policy = RetryPolicy(attempts=3, jitter=0)
    assert policy.next_delay(1, FailureKind.CONNECT, idempotent=False) == pytest.approx(0.2)
    assert policy.next_delay(2, FailureKind.CONNECT, idempotent=False) == pytest.approx(0.4)
    assert policy.next_delay(3, FailureKind.CONNECT, idempotent=False) is None


def test_retry_never_repeats_a_sent_non_idempotent_call() -> None:
    policy = RetryPolicy(attempts=5)
    assert policy.next_delay(1, FailureKind.TRANSPORT, idempotent=False) is None
    assert policy.next_delay(1, FailureKind.STATUS, idempotent=False, status=503) is None


@pytest.mark.parametrize(
    ("status", "retried"), [(500, True), (503, True), (504, True), (400, False), (404, False)]
)
def test_retry_statuses_for_idempotent_calls(status: int, retried: bool) -> None:
    policy = RetryPolicy(attempts=2)
    delay = policy.next_delay(1, FailureKind.STATUS, idempotent=True, status=status)
    assert (delay is not None) is retried


def test_backoff_is_capped_and_jitter_bounded() -> None:
    policy = RetryPolicy(attempts=10, initial_backoff=0.5, max_backoff=1.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.backoff(n, rng) for n in range(1, 8)]
    assert all(0.5 <= d <= 1.5 for d in delays)
    assert delays[0] <= 0.75


def test_retry_policy_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        RetryPolicy(attempts=0)
