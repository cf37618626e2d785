"""Pruning old JobResultStore directories: which may go (pure), and the file-system pass over a real
temporary directory."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from flink_operator.flink.job_result_store import (
    CLEANUP_ENABLED_KEY,
    STORAGE_PATH_KEY,
    StoreDir,
    is_operator_store,
    local_directory,
    prune_after_deploy,
    stale_stores,
)

pytestmark = pytest.mark.unit

HEX = [f"{i:032x}" for i in range(1, 6)]


def test_only_ids_the_operator_makes_are_its_stores() -> None:
    assert is_operator_store(uuid.uuid4().hex)
    assert is_operator_store(str(uuid.uuid4()))
    assert is_operator_store("12-0123456789ab")  # the local runtime's <generation>-<12 hex digits>
    for name in ("backup", "job-result-store", "ABCDEF" * 6, "12-xyz", uuid.uuid4().hex + "x", ".tmp"):
        assert not is_operator_store(name), name


def test_the_current_and_the_newest_previous_store_are_kept() -> None:
    entries = [StoreDir(name, float(i)) for i, name in enumerate(HEX)]  # HEX[4] is the newest
    assert stale_stores(entries, current=HEX[4]) == HEX[:3]
    # The current one is kept wherever it sorts; the newest other one is kept as the previous.
    assert stale_stores(entries, current=HEX[1]) == [HEX[0], HEX[2], HEX[3]]
    assert stale_stores(entries, current=HEX[4], keep_previous=0) == HEX[:4]
    assert stale_stores(entries[:2], current=HEX[1]) == []
    assert stale_stores([], current=HEX[0]) == []


def test_foreign_directories_are_never_candidates() -> None:
    entries = [StoreDir("keep-me", 0.0), StoreDir(HEX[0], 1.0), StoreDir(HEX[1], 2.0), StoreDir(HEX[2], 3.0)]
    assert stale_stores(entries, current=HEX[2]) == [HEX[0]]


def test_local_directories_are_file_uris_or_absolute_paths() -> None:
    assert local_directory("file:///data/ha") == Path("/data/ha")
    assert local_directory("file:/data/ha") == Path("/data/ha")
    assert local_directory("file://localhost/data/ha") == Path("/data/ha")
    assert local_directory("/data/ha") == Path("/data/ha")
    for remote in ("s3://bucket/ha", "hdfs://nn:8020/ha", "file://otherhost/ha", "relative/ha"):
        assert local_directory(remote) is None, remote


def make_stores(base: Path, names: list[str]) -> None:
    for age, name in enumerate(reversed(names)):
        path = base / name
        (path / "nested").mkdir(parents=True)
        (path / "nested" / "job-result.json").write_text("{}")
        stamp = 1_700_000_000 - age * 60
        os.utime(path, (stamp, stamp))


def test_a_deployment_prunes_the_stores_of_older_deployments(tmp_path: Path) -> None:
    base = tmp_path / "ha" / "job-result-store" / "demo"
    make_stores(base, HEX)  # HEX[4] is the newest
    (base / "notes").mkdir()
    current = uuid.uuid4().hex
    (base / current).mkdir()
    removed = prune_after_deploy({STORAGE_PATH_KEY: f"file://{base}/{current}"})
    assert sorted(p.name for p in removed) == HEX[:4]
    assert sorted(p.name for p in base.iterdir()) == sorted([current, HEX[4], "notes"])
    # Idempotent.
    assert prune_after_deploy({STORAGE_PATH_KEY: f"file://{base}/{current}"}) == []


def test_pruning_can_be_turned_off(tmp_path: Path) -> None:
    base = tmp_path / "job-result-store" / "demo"
    make_stores(base, HEX)
    configuration = {STORAGE_PATH_KEY: f"{base}/{HEX[4]}", CLEANUP_ENABLED_KEY: "false"}
    assert prune_after_deploy(configuration) == []
    assert len(list(base.iterdir())) == 5


def test_a_path_the_operator_did_not_lay_out_is_left_alone(tmp_path: Path) -> None:
    custom = tmp_path / "results" / "demo"
    make_stores(custom, HEX)
    assert prune_after_deploy({STORAGE_PATH_KEY: f"file://{custom}/{HEX[4]}"}) == []
    user_named = tmp_path / "job-result-store" / "demo"
    make_stores(user_named, HEX)
    assert prune_after_deploy({STORAGE_PATH_KEY: f"file://{user_named}/my-store"}) == []
    assert len(list(user_named.iterdir())) == 5


def test_storage_the_operator_cannot_reach_is_not_pruned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="flink_operator.flink.job_result_store")
    assert prune_after_deploy({STORAGE_PATH_KEY: f"s3://bucket/ha/job-result-store/demo/{HEX[0]}"}) == []
    assert prune_after_deploy({STORAGE_PATH_KEY: f"s3://bucket/ha/job-result-store/other/{HEX[1]}"}) == []
    missing = tmp_path / "absent" / "job-result-store" / "demo"
    assert prune_after_deploy({STORAGE_PATH_KEY: f"file://{missing}/{HEX[0]}"}) == []
    assert prune_after_deploy({}) == []
    said = [r.getMessage() for r in caplog.records]
    assert sum("on s3 storage are not pruned" in m for m in said) <= 1
