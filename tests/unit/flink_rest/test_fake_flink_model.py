"""Pure parts of the fake Flink server: counter gauges, checkpoint retention, snapshot paths, timers, jars."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.fake_jars import fake_jar

from flink_operator.flink.rest.models.jobs import JobState
from flink_operator.testing.fake_flink_checkpoints import CheckpointLog, keeps_checkpoints
from flink_operator.testing.fake_flink_clock import Clock, Timers
from flink_operator.testing.fake_flink_counter import Counter
from flink_operator.testing.fake_flink_errors import FakeRestError
from flink_operator.testing.fake_flink_jars import effective_program_args, entry_class, job_name, read_jar
from flink_operator.testing.fake_flink_snapshots import Snapshot, SnapshotStore, normalise_path, to_local_path

pytestmark = pytest.mark.unit


class ManualClock(Clock):
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def wall_ms(self) -> int:
        return int(self.now * 1000)


def test_counter_counts_only_while_running_and_restores() -> None:
    counter = Counter()
    counter.start(0.0)
    assert counter.current(2.0, rate=10) == 20
    counter.stop(2.0, rate=10)
    assert counter.current(50.0, rate=10) == 20, "no counting while the tasks are down"
    counter.reset(7)
    assert counter.current(60.0, rate=10) == 7


def test_counter_gauges_follow_the_example_job() -> None:
    counter = Counter()
    counter.start(0.0)
    assert counter.gauges(0.0, rate=8, keys=4, subtasks=2) == [(0, 0), (0, 0)], "nothing processed yet"
    # 16 records over 4 keys: 4 each; subtask 0 owns keys 0 and 2, subtask 1 keys 1 and 3.
    assert counter.gauges(2.0, rate=8, keys=4, subtasks=2) == [(1, 4), (1, 4)]
    counter.stop(2.0, rate=8)
    counter.reset(16)
    counter.start(10.0)
    assert counter.gauges(11.0, rate=8, keys=4, subtasks=2) == [(5, 6), (5, 6)], "restored counts continue"
    assert counter.gauges(11.0, rate=8, keys=2, subtasks=3)[2] == (0, 0), "a subtask without keys"


@pytest.mark.parametrize(
    ("retention", "final", "kept"),
    [
        ("RETAIN_ON_CANCELLATION", JobState.CANCELED, True),
        ("DELETE_ON_CANCELLATION", JobState.CANCELED, False),
        ("DELETE_ON_CANCELLATION", JobState.FAILED, True),
        ("NO_EXTERNALIZED_CHECKPOINTS", JobState.FINISHED, False),
    ],
)
def test_checkpoint_retention(retention: str, final: JobState, kept: bool) -> None:
    assert keeps_checkpoints(retention, final) is kept


def test_checkpoint_log_ids_history_and_subsumption(tmp_path: Path) -> None:
    store = SnapshotStore(write_files=True)
    log = CheckpointLog()
    log.continue_after(41)
    paths = []
    for n in range(12):
        record = log.begin(savepoint=False, format_type=None, now_ms=n)
        path = f"file:{tmp_path}/chk-{record.id}"
        store.record(Snapshot(path, "j", record.id, False, n, n))
        log.complete(record, path, n + 1)
        log.subsume(record, store)
        paths.append(path)
    assert [r.id for r in log.records] == list(range(44, 54)), "ids continue after a restore; history of 10"
    assert (log.triggered, log.completed) == (12, 12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chk-53"], "one retained checkpoint"
    assert log.latest() is log.records[-1]
    failed = log.begin(savepoint=True, format_type="NATIVE", now_ms=99)
    log.fail(failed, "declined", 100)
    assert log.latest_failed() is failed and log.failed == 1 and log.latest(savepoint=True) is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("file:///a/b/", "file:/a/b"),
        ("file:/a/b", "file:/a/b"),
        ("/a/b", "file:/a/b"),
        ("s3://x/y/", "s3://x/y"),
    ],
)
def test_snapshot_paths_normalise_like_flink_prints_them(raw: str, normalised: str) -> None:
    assert normalise_path(raw) == normalised


def test_snapshot_store_finds_files_and_foreign_snapshots(tmp_path: Path) -> None:
    store = SnapshotStore(write_files=True)
    stored = store.record(Snapshot(f"file://{tmp_path}/sp-1/", "j", 3, True, 42, 1))
    assert stored.path == f"file:{tmp_path}/sp-1"
    again = SnapshotStore(write_files=True)  # another server process reading the same disk
    found = again.lookup(f"{tmp_path}/sp-1/_metadata")
    assert found is not None and found.count == 42 and found.checkpoint_id == 3
    (tmp_path / "real" / "chk-7").mkdir(parents=True)
    (tmp_path / "real" / "chk-7" / "_metadata").write_bytes(b"\x00binary from real Flink")
    foreign = again.lookup(f"file:{tmp_path}/real/chk-7")
    assert foreign is not None and foreign.count == 0
    assert again.discard(stored.path) and not (tmp_path / "sp-1").exists()
    assert not again.discard(stored.path)
    assert to_local_path("hdfs://nn/x") is None


def test_timers_run_in_due_order_and_can_be_cancelled() -> None:
    clock = ManualClock()
    timers = Timers(clock)
    ran: list[str] = []
    timers.after(2, lambda: ran.append("b"))
    timers.after(1, lambda: ran.append("a"))
    cancelled = timers.after(1.5, lambda: ran.append("never"))
    cancelled.cancel()
    timers.after(5, lambda: ran.append("late"))
    clock.now += 2
    assert timers.run_due() == 2 and ran == ["a", "b"]
    assert len(timers) == 1 and timers.next_due() == 105.0


def test_jars_entry_classes_and_program_arguments() -> None:
    jar = read_jar("job.jar", fake_jar("demo.CounterJob", "demo.Other"), now_ms=1)
    assert jar.main_class == "demo.CounterJob" and jar.valid and jar.id.endswith("_job.jar")
    assert entry_class(jar, None) == "demo.CounterJob" and entry_class(jar, "demo.Other") == "demo.Other"
    with pytest.raises(FakeRestError, match="500"):
        entry_class(jar, "demo.Missing")
    assert not read_jar("broken.jar", b"not a zip", now_ms=1).valid
    with pytest.raises(FakeRestError) as refused:
        read_jar("job.zip", b"", now_ms=1)
    assert refused.value.status == 400
    body = {"programArgs": "--a 1 --b 'two words'"}
    assert effective_program_args(body, is_2x=True) == []
    assert effective_program_args(body, is_2x=False) == ["--a", "1", "--b", "two words"]
    with pytest.raises(FakeRestError, match="400"):
        effective_program_args({**body, "programArgsList": ["--x"]}, is_2x=False)
    assert job_name("demo.CounterJob") == "counter-job"
