"""Live reload of the config file: polling task, ConfigMap symlink swaps, bad files, subscribers."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from flink_operator.config import ConfigChange, ConfigReloader
from flink_operator.config.operator_options import DYNAMIC_CONFIG_CHECK_INTERVAL, RECONCILE_INTERVAL

pytestmark = pytest.mark.unit

RI = "kubernetes.operator.reconcile.interval"
FAST = "kubernetes.operator.dynamic.config.check.interval: 50 ms\n"
DEADLINE_S = 10.0


class Recorder:
    """A subscriber that remembers changes and lets a test wait for one matching a condition."""

    def __init__(self) -> None:
        self.changes: list[ConfigChange] = []
        self._updated = asyncio.Condition()

    async def __call__(self, change: ConfigChange) -> None:
        async with self._updated:
            self.changes.append(change)
            self._updated.notify_all()

    async def wait_for(self, predicate: Callable[[ConfigChange], bool]) -> ConfigChange:
        async def matching() -> ConfigChange:
            async with self._updated:
                while True:
                    for change in self.changes:
                        if predicate(change):
                            return change
                    await self._updated.wait()

        return await asyncio.wait_for(matching(), DEADLINE_S)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[ConfigReloader], None]]:
    tasks: list[asyncio.Task[None]] = []

    def start(reloader: ConfigReloader) -> None:
        tasks.append(asyncio.create_task(reloader.run()))

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def log_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def interval_of(reloader: ConfigReloader) -> timedelta:
    return reloader.current.configuration.get(RECONCILE_INTERVAL)


async def test_edited_file_applies_without_restart(
    tmp_path: Path, running: Callable[[ConfigReloader], None]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(FAST + f"{RI}: 15 s\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    recorder = Recorder()
    reloader.subscribe(recorder)
    running(reloader)
    assert interval_of(reloader) == timedelta(seconds=15)

    config.write_text(FAST + f"{RI}: 45 s\n")
    change = await recorder.wait_for(lambda c: RI in c.changed_keys)
    assert interval_of(reloader) == timedelta(seconds=45)
    assert change.current is reloader.current
    assert change.current.generation == change.previous.generation + 1


async def test_configmap_symlink_swap_is_detected(
    tmp_path: Path, running: Callable[[ConfigReloader], None]
) -> None:
    # The layout the kubelet gives a ConfigMap volume: config.yaml -> ..data/config.yaml, ..data -> ..<ts>.
    first = tmp_path / "..2024_01_01_00_00_00.1"
    first.mkdir()
    (first / "config.yaml").write_text(FAST + f"{RI}: 15 s\n")
    (tmp_path / "..data").symlink_to(first.name)
    (tmp_path / "config.yaml").symlink_to("..data/config.yaml")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    recorder = Recorder()
    reloader.subscribe(recorder)
    running(reloader)

    second = tmp_path / "..2024_01_01_00_01_00.2"
    second.mkdir()
    (second / "config.yaml").write_text(FAST + f"{RI}: 16 s\n")
    (tmp_path / "..data_tmp").symlink_to(second.name)
    os.replace(tmp_path / "..data_tmp", tmp_path / "..data")  # atomic swap, as the kubelet does
    (first / "config.yaml").unlink()
    first.rmdir()

    await recorder.wait_for(lambda c: RI in c.changed_keys)
    assert interval_of(reloader) == timedelta(seconds=16)


async def test_broken_file_keeps_previous_configuration_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    seen: list[ConfigChange] = []
    reloader.subscribe(seen.append)
    caplog.set_level(logging.ERROR, logger="flink_operator.config.reload")

    config.write_text(f"{RI}: 5 minutez\n")
    assert await reloader.check() is None
    assert reloader.last_error is not None
    assert f"{RI}: '5 minutez' is not a duration" in reloader.last_error
    reports = [m for m in log_messages(caplog) if "keeping the previous configuration" in m]
    assert len(reports) == 1
    assert "5 minutez" in reports[0]
    assert interval_of(reloader) == timedelta(seconds=15)
    # Reported once, not at every check.
    assert await reloader.check() is None
    assert len([m for m in log_messages(caplog) if "keeping the previous" in m]) == 1

    config.write_text(f"{RI}: [broken yaml\n")
    assert await reloader.check() is None
    assert "not valid YAML" in (reloader.last_error or "")
    assert interval_of(reloader) == timedelta(seconds=15)
    assert seen == []

    config.write_text(f"{RI}: 20 s\n")
    assert await reloader.check() is not None
    assert interval_of(reloader) == timedelta(seconds=20)
    assert reloader.last_error is None


async def test_subscribers_see_exactly_the_changed_keys(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\na: 1\nb: 2\nc: 3\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    seen: list[frozenset[str]] = []
    reloader.subscribe(lambda change: seen.append(change.changed_keys))

    config.write_text(f"{RI}: 15 s\na: 1\nb: 20\nd: 4\n")
    change = await reloader.check()
    assert change is not None
    assert seen == [frozenset({"b", "c", "d"})]


async def test_unchanged_content_notifies_nobody(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    seen: list[ConfigChange] = []
    reloader.subscribe(seen.append)
    config.write_text(f"{RI}: 15 s\n")
    os.utime(config)
    assert await reloader.check() is None
    # Same values in another spelling: the files differ, the configuration does not.
    config.write_text("kubernetes.operator:\n  reconcile.interval: 15 s\n")
    assert await reloader.check() is None
    assert seen == []
    assert reloader.current.generation == 0


async def test_same_size_rewrite_within_one_mtime_tick_is_seen(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\n")
    before = config.stat()
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    config.write_text(f"{RI}: 30 s\n")
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert config.stat().st_mtime_ns == before.st_mtime_ns
    assert config.stat().st_size == before.st_size
    assert await reloader.check() is not None
    assert interval_of(reloader) == timedelta(seconds=30)


async def test_file_appearing_later_is_loaded(tmp_path: Path) -> None:
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    assert reloader.current.values == {}
    (tmp_path / "flink-conf.yaml").write_text(f"{RI}: 25 s\n")
    assert await reloader.check() is not None
    assert interval_of(reloader) == timedelta(seconds=25)


async def test_change_is_logged_with_secrets_masked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    config.write_text(f"{RI}: 15 s\ns3.secret-key: hunter2222\ns3.endpoint: http://minio:9000\n")
    with caplog.at_level(logging.INFO, logger="flink_operator.config.reload"):
        assert await reloader.check() is not None
    messages = [m for m in log_messages(caplog) if "Setting default configuration to" in m]
    assert len(messages) == 1
    assert "hunter2222" not in messages[0]
    assert "'s3.secret-key': '******'" in messages[0]
    assert "http://minio:9000" in messages[0]


async def test_failing_subscriber_does_not_stop_the_others(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})

    def broken(change: ConfigChange) -> None:
        raise RuntimeError("subscriber bug")

    seen: list[ConfigChange] = []
    reloader.subscribe(broken)
    unsubscribe = reloader.subscribe(seen.append)
    config.write_text(f"{RI}: 16 s\n")
    assert await reloader.check() is not None
    assert len(seen) == 1
    unsubscribe()
    config.write_text(f"{RI}: 17 s\n")
    assert await reloader.check() is not None
    assert len(seen) == 1


async def test_disabled_reload_stops_the_task(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("kubernetes.operator.dynamic.config.enabled: false\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    await asyncio.wait_for(reloader.run(), DEADLINE_S)


async def test_pushed_configmap_content_applies_and_bad_content_is_rejected(tmp_path: Path) -> None:
    reloader = ConfigReloader(environ={})
    change = await reloader.apply_files({"config.yaml": f"{RI}: 12 s\n"})
    assert change is not None
    assert interval_of(reloader) == timedelta(seconds=12)
    assert await reloader.apply_files({"config.yaml": f"{RI}: twelve\n"}) is None
    assert reloader.last_error is not None
    assert interval_of(reloader) == timedelta(seconds=12)


def test_broken_file_at_startup_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"{RI}: 5 minutez\n")
    with pytest.raises(Exception, match="5 minutez"):
        ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})


async def test_change_applies_within_ten_seconds_with_the_default_interval(
    tmp_path: Path, running: Callable[[ConfigReloader], None]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"{RI}: 15 s\n")
    reloader = ConfigReloader(environ={"FLINK_CONF_DIR": str(tmp_path)})
    assert reloader.current.configuration.get(DYNAMIC_CONFIG_CHECK_INTERVAL) <= timedelta(seconds=2)
    recorder = Recorder()
    reloader.subscribe(recorder)
    config.write_text(f"{RI}: 30 s\n")
    running(reloader)
    # The first check runs at once; once it has seen 30 s, the task is in its periodic wait.
    await recorder.wait_for(lambda c: c.current.values.get(RI) == "30 s")
    config.write_text(f"{RI}: 45 s\n")
    await recorder.wait_for(lambda c: c.current.values.get(RI) == "45 s")  # DEADLINE_S = 10 s
    assert interval_of(reloader) == timedelta(seconds=45)
