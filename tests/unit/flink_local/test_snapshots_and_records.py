"""Checkpoints found on disk, HA metadata files, and the atomically written cluster record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flink_operator.flink.local import records
from flink_operator.flink.local.memory import memory_options, parse_bash_java_utils_output
from flink_operator.flink.local.processes import ProcessRecord
from flink_operator.flink.local.records import ClusterRecord
from flink_operator.flink.local.snapshots import (
    latest_checkpoint_on_disk,
    remove_savepoint_files,
    storage_has,
)
from flink_operator.flink.service import ClusterMode, ClusterRef

pytestmark = pytest.mark.unit


def test_the_latest_complete_checkpoint_is_the_highest_chk_with_metadata(tmp_path: Path) -> None:
    for number, complete in ((3, True), (12, True), (13, False)):
        directory = tmp_path / "job1" / f"chk-{number}"
        directory.mkdir(parents=True)
        if complete:
            (directory / "_metadata").write_bytes(b"x")
    (tmp_path / "job1" / "shared").mkdir()
    found = latest_checkpoint_on_disk(f"file://{tmp_path}", "job1")
    assert found is not None and found.checkpoint_id == 12
    assert found.external_path == f"file:{tmp_path}/job1/chk-12"
    assert latest_checkpoint_on_disk(f"file://{tmp_path}", "other") is None
    assert latest_checkpoint_on_disk("s3://bucket/ckpt", "job1") is None


def test_removing_a_savepoint_is_idempotent(tmp_path: Path) -> None:
    savepoint = tmp_path / "savepoint-1"
    savepoint.mkdir()
    (savepoint / "_metadata").write_bytes(b"x")
    assert remove_savepoint_files(f"file:{savepoint}")
    assert not savepoint.exists()
    assert not remove_savepoint_files(f"file:{savepoint}")


def test_ha_metadata_is_recognised_by_its_files(tmp_path: Path) -> None:
    storage = f"file://{tmp_path}"
    assert not storage_has(storage, "app", "job graph")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "submittedExecutionPlan1a2b").write_bytes(b"x")
    assert storage_has(storage, "app", "job graph") and not storage_has(storage, "app", "checkpoint")
    (tmp_path / "app" / "completedCheckpoint9f").write_bytes(b"x")
    assert storage_has(storage, "app", "checkpoint")


def _record() -> ClusterRecord:
    return ClusterRecord(
        ref=ClusterRef("ns", "demo"),
        mode=ClusterMode.APPLICATION,
        generation=4,
        deployment_id="4-abc",
        flink_version="2.3.0",
        flink_home="/flink",
        conf_dir="/state/conf",
        rest_port=18081,
        rpc_port=16123,
        job_id="a" * 32,
        processes=(ProcessRecord("jobmanager", 10, 99, "/state/conf", "/l", "/o", exit_code=-9),),
    )


def test_records_round_trip_and_replace_atomically(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    records.save(path, _record())
    assert records.load(path) == _record()
    assert [p.name for p in tmp_path.iterdir()] == ["cluster.json"], "no temporary file is left behind"
    assert records.load(tmp_path / "missing.json") is None


def test_a_corrupt_record_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"format": 1, "namespace": "ns"}))
    with pytest.raises(ValueError, match=f"cluster record {path} is unreadable"):
        records.load(path)


def test_bash_java_utils_output_and_the_memory_cache_key() -> None:
    output = (
        "INFO  [] - Loading configuration property: x\n"
        "BASH_JAVA_UTILS_EXEC_RESULT:-Xmx201326592 -Xms201326592 -XX:MaxMetaspaceSize=117440512\n"
        "BASH_JAVA_UTILS_EXEC_RESULT:-D jobmanager.memory.off-heap.size=33554432b "
        "-D jobmanager.memory.heap.size=1b\n"
    )
    memory = parse_bash_java_utils_output(output)
    assert memory.jvm_args == ("-Xmx201326592", "-Xms201326592", "-XX:MaxMetaspaceSize=117440512")
    assert memory.dynamic_args() == [
        "-D",
        "jobmanager.memory.off-heap.size=33554432b",
        "-D",
        "jobmanager.memory.heap.size=1b",
    ]
    key = memory_options(
        {"rest.port": "1", "taskmanager.memory.process.size": "1g", "taskmanager.numberOfTaskSlots": "2"}
    )
    assert key == (("taskmanager.memory.process.size", "1g"), ("taskmanager.numberOfTaskSlots", "2"))
    with pytest.raises(ValueError, match="expected two"):
        parse_bash_java_utils_output("nothing")


async def test_ha_data_in_a_configured_storage_is_found_after_the_cluster_is_gone(tmp_path: Path) -> None:
    from flink_operator.flink.local import housekeeping
    from flink_operator.flink.local.layout import ClusterLayout
    from flink_operator.flink.local.options import LocalFlinkSettings
    from flink_operator.flink.local.service import LocalFlinkService

    service = LocalFlinkService(LocalFlinkSettings(state_dir=tmp_path / "state"))
    ref = ClusterRef("ns", "demo")
    layout = ClusterLayout.of(service.state_dir, ref)
    storage = tmp_path / "elsewhere" / "ha"
    (storage / "demo").mkdir(parents=True)
    (storage / "demo" / "submittedExecutionPlan1a2b").write_bytes(b"x")
    record = ClusterRecord(
        ref=ref,
        mode=ClusterMode.APPLICATION,
        generation=1,
        deployment_id="1-abc",
        flink_version="2.3.0",
        flink_home="/flink",
        conf_dir="/c",
        rest_port=1,
        rpc_port=2,
        ha_enabled=True,
        ha_storage=f"file://{storage}",
    )
    housekeeping.remember_ha_storage(layout, f"file://{storage}")  # as a deployment start does
    records.save(layout.record, record)

    await service.delete_cluster(ref, delete_ha_data=False)  # last-state suspend: the record goes
    assert records.load(layout.record) is None
    assert await service.ha_metadata_available(ref)

    await service.delete_cluster(ref, delete_ha_data=True)
    assert not (storage / "demo").exists()
    assert not layout.ha_location.exists()
    assert not await service.ha_metadata_available(ref)
