"""The cluster health evaluator (contract §3.18): restarts in a window, checkpoint progress, the stored
ClusterHealthInfo JSON."""

from __future__ import annotations

import json

import pytest

from flink_operator.controllers.common.health import (
    ClusterHealthInfo,
    HealthResult,
    HealthSample,
    HealthSettings,
    checkpoint_window_ms,
    evaluate,
    read_info,
    sample_from_metrics,
)

pytestmark = pytest.mark.unit

MIN = 60_000
RESTARTS = HealthSettings(restarts_threshold=3, restarts_window_ms=2 * MIN, checkpoint_progress_enabled=False)


def run(settings: HealthSettings, *samples: tuple[int, int, int | None]) -> list[ClusterHealthInfo]:
    """Evaluate (time, restarts, checkpoints) samples in order; the info after each."""
    infos: list[ClusterHealthInfo] = []
    info = None
    for time, restarts, checkpoints in samples:
        info = evaluate(info, HealthSample(time, restarts, checkpoints), settings)
        infos.append(info)
    return infos


def verdicts(infos: list[ClusterHealthInfo]) -> list[str | None]:
    results = [info.health_result for info in infos]
    return [None if r is None or r.healthy else r.error for r in results]


def test_the_first_sample_sets_the_baseline_and_is_healthy() -> None:
    [info] = run(RESTARTS, (1000, 50, 7))
    assert info == ClusterHealthInfo(1000, 50, 1000, 7, 1000, HealthResult(True))


def test_restarts_above_the_threshold_within_the_window_are_unhealthy() -> None:
    infos = run(RESTARTS, (0, 10, None), (30_000, 12, None), (60_000, 13, None), (90_000, 14, None))
    assert verdicts(infos) == [None, None, None, "Restart count hit threshold: 4"]
    # The baseline stays at the start of the window while the window lasts.
    assert infos[-1].num_restarts == 10 and infos[-1].num_restarts_evaluation_time_stamp == 0


def test_restarts_equal_to_the_threshold_are_still_healthy() -> None:
    infos = run(RESTARTS, (0, 0, None), (10_000, 3, None))
    assert verdicts(infos) == [None, None]


def test_restarts_are_scaled_to_the_window_when_the_baseline_is_older() -> None:
    # 8 restarts over 4 minutes are 4 per 2-minute window: above 3.
    infos = run(RESTARTS, (0, 0, None), (4 * MIN, 8, None))
    assert verdicts(infos) == [None, "Restart count hit threshold: 4"]
    # 6 restarts over 4 minutes are 3 per window: not above.
    infos = run(RESTARTS, (0, 0, None), (4 * MIN, 6, None))
    assert verdicts(infos) == [None, None]


def test_a_baseline_older_than_the_window_moves_forward() -> None:
    infos = run(RESTARTS, (0, 0, None), (3 * MIN, 2, None), (3 * MIN + 10_000, 5, None))
    assert (infos[1].num_restarts, infos[1].num_restarts_evaluation_time_stamp) == (2, 3 * MIN)
    # Three restarts since the moved baseline: not above the threshold.
    assert verdicts(infos) == [None, None, None]
    more = evaluate(infos[-1], HealthSample(3 * MIN + 20_000, 6, None), RESTARTS)
    assert verdicts([more]) == ["Restart count hit threshold: 4"]


def test_a_restart_counter_that_went_down_resets_the_baseline() -> None:
    infos = run(RESTARTS, (0, 40, None), (10_000, 2, None), (20_000, 5, None), (30_000, 6, None))
    assert verdicts(infos) == [None, None, None, "Restart count hit threshold: 4"]
    assert (infos[1].num_restarts, infos[1].num_restarts_evaluation_time_stamp) == (2, 10_000)


def test_a_clock_going_backwards_starts_afresh() -> None:
    infos = run(RESTARTS, (100_000, 0, None), (50_000, 100, None))
    assert verdicts(infos) == [None, None]
    assert infos[1].num_restarts == 100 and infos[1].num_restarts_evaluation_time_stamp == 50_000


CHECKPOINTS = HealthSettings(
    restarts_threshold=1000,
    checkpoint_progress_enabled=True,
    checkpoint_interval_ms=10_000,
    checkpoint_timeout_ms=5_000,
    tolerable_failed_checkpoints=1,
)


def test_the_checkpoint_window_has_a_minimum_from_interval_timeout_and_tolerable_failures() -> None:
    assert checkpoint_window_ms(CHECKPOINTS) == 10_000 * 3
    configured = HealthSettings(
        checkpoint_interval_ms=10_000, checkpoint_timeout_ms=5_000, checkpoint_window_ms=5 * MIN
    )
    assert checkpoint_window_ms(configured) == 5 * MIN
    too_small = HealthSettings(
        checkpoint_interval_ms=10_000, checkpoint_timeout_ms=60_000, checkpoint_window_ms=1000
    )
    assert checkpoint_window_ms(too_small) == 60_000 * 2
    assert checkpoint_window_ms(HealthSettings(checkpoint_interval_ms=None, checkpoint_window_ms=MIN)) is None
    assert (
        checkpoint_window_ms(HealthSettings(checkpoint_interval_ms=1000, checkpoint_progress_enabled=False))
        is None
    )


def test_no_checkpoint_progress_for_longer_than_the_window_is_unhealthy() -> None:
    infos = run(CHECKPOINTS, (0, 0, 5), (20_000, 0, 6), (45_000, 0, 6), (50_001, 0, 6), (60_000, 0, 7))
    assert verdicts(infos) == [None, None, None, "Cluster is not able to complete checkpoints", None]
    assert infos[-1].num_completed_checkpoints_increased_time_stamp == 60_000


def test_both_verdicts_are_joined() -> None:
    settings = HealthSettings(
        restarts_threshold=0, restarts_window_ms=MIN, checkpoint_interval_ms=1000, checkpoint_timeout_ms=1000
    )
    infos = run(settings, (0, 0, 1), (5000, 1, 1))
    assert verdicts(infos)[-1] == "Restart count hit threshold: 1|Cluster is not able to complete checkpoints"


def test_a_job_without_periodic_checkpoints_is_not_judged_by_checkpoint_progress() -> None:
    settings = HealthSettings(checkpoint_window_ms=1000, checkpoint_interval_ms=None)
    infos = run(settings, (0, 0, 0), (10 * MIN, 0, 0))
    assert verdicts(infos) == [None, None]


def test_a_sample_without_checkpoint_counter_keeps_the_last_one() -> None:
    infos = run(CHECKPOINTS, (0, 0, 3), (5000, 0, None), (40_000, 0, None))
    assert infos[-1].num_completed_checkpoints == 3
    assert verdicts(infos) == [None, None, None]


def test_job_configuration_supplies_the_checkpointing_options() -> None:
    settings = HealthSettings().with_job_configuration(
        {
            "execution.checkpointing.interval": "30 s",
            "execution.checkpointing.timeout": "2 min",
            "execution.checkpointing.tolerable-failed-checkpoints": "3",
        }
    )
    assert (settings.checkpoint_interval_ms, settings.checkpoint_timeout_ms) == (30_000, 120_000)
    assert settings.tolerable_failed_checkpoints == 3
    assert checkpoint_window_ms(settings) == 120_000 * 5
    off = HealthSettings().with_job_configuration({"execution.checkpointing.interval": "0"})
    assert off.checkpoint_interval_ms is None
    bad = HealthSettings().with_job_configuration({"execution.checkpointing.timeout": "soon"})
    assert bad.checkpoint_timeout_ms == 600_000 and bad.checkpoint_interval_ms is None


def test_samples_come_from_job_metrics() -> None:
    assert sample_from_metrics({"numRestarts": "4", "numberOfCompletedCheckpoints": "9"}, 5) == HealthSample(
        5, 4, 9
    )
    assert sample_from_metrics({"fullRestarts": "2"}, 5) == HealthSample(5, 2, None)
    assert sample_from_metrics({"numberOfCompletedCheckpoints": "9"}, 5) is None
    assert sample_from_metrics({"numRestarts": "n/a"}, 5) is None


def test_the_info_is_stored_as_upstreams_json() -> None:
    info = ClusterHealthInfo(10, 2, 5, 7, 8, HealthResult(False, "Restart count hit threshold: 70"))
    body = json.loads(info.to_json())
    assert body == {
        "timeStamp": 10,
        "numRestarts": 2,
        "numRestartsEvaluationTimeStamp": 5,
        "numCompletedCheckpoints": 7,
        "numCompletedCheckpointsIncreasedTimeStamp": 8,
        "healthResult": {"healthy": False, "error": "Restart count hit threshold: 70"},
    }
    assert ClusterHealthInfo.from_json(info.to_json()) == info
    assert read_info({"ClusterHealthInfo": info.to_json()}) == info
    # What upstream writes before its first verdict reads too.
    assert read_info({"ClusterHealthInfo": '{"timeStamp": 3, "numRestarts": 1}'}) == ClusterHealthInfo(
        3, 1, 3, 0, 3, None
    )
    assert read_info({"ClusterHealthInfo": "not json"}) is None
    assert read_info({"ClusterHealthInfo": '{"numRestarts": 1}'}) is None
    assert read_info({}) is None
