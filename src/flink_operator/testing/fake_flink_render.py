"""JSON answers of the fake Flink server, in the shapes Flink 2.x or 1.20 produce (per cluster flavour).

The shapes follow the answers captured from real Flink 2.3 and 1.20 (tests/unit/flink_rest/data): the same
keys, nesting and value types, with the 2.x additions (``applicationId``, ``jobType``, ``schedulerType``,
``pending-operators``) and the 1.20 legacy fields (``root-exception``, ``all-exceptions``, ``fullRestarts``)
where each version has them.

Not guaranteed: fields nobody reads are filled with plausible constants (memory sizes, timezone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flink_operator.flink.rest.models.jobs import ExecutionState, JobState
from flink_operator.testing.fake_flink_checkpoints import CheckpointRecord
from flink_operator.testing.fake_flink_cluster import FakeCluster, Operation
from flink_operator.testing.fake_flink_jobs import FakeJob
from flink_operator.testing.fake_flink_topology import FakeVertex

__all__ = ["checkpoint_stats", "job_details", "jobs_overview", "overview"]

_EXECUTION_STATES = [s.value for s in ExecutionState]
_JOB_STATES = [s.value for s in JobState]
_LONG_MAX = 2**63 - 1


def overview(cluster: FakeCluster) -> dict[str, Any]:
    states = [job.state for job in cluster.jobs.values()]
    return {
        "taskmanagers": cluster.taskmanagers,
        "slots-total": cluster.total_slots,
        "slots-available": cluster.free_slots(),
        "jobs-running": sum(1 for s in states if not s.is_terminal),
        "jobs-finished": states.count(JobState.FINISHED),
        "jobs-cancelled": states.count(JobState.CANCELED),
        "jobs-failed": states.count(JobState.FAILED),
        "flink-version": cluster.settings.flink_version,
        "flink-commit": "fake000",
    }


def config(cluster: FakeCluster) -> dict[str, Any]:
    refresh = cluster.config.get("web.refresh-interval", "3000")
    return {
        "refresh-interval": int(refresh) if refresh.isdigit() else 3000,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": cluster.settings.flink_version,
        "flink-revision": "fake000 @ 1970-01-01T00:00:00+00:00",
        "features": {
            "web-submit": True,
            "web-cancel": True,
            "web-rescale": cluster.adaptive,
            "web-history": False,
        },
    }


def _task_counts(job: FakeJob, *, lower: bool) -> dict[str, int]:
    counts = dict.fromkeys(_EXECUTION_STATES, 0)
    for vertex in job.vertices:
        counts[vertex.status.value] += vertex.parallelism
    if lower:
        result = {k.lower(): v for k, v in counts.items()}
        result["total"] = sum(counts.values())
        return result
    return counts


def _duration(job: FakeJob, now: int) -> int:
    return (job.end_ms if job.end_ms >= 0 else now) - job.start_ms


def _scheduler(job: FakeJob) -> str:
    return "Adaptive" if job.adaptive else "Default"


def jobs_overview(cluster: FakeCluster) -> dict[str, Any]:
    now = cluster.now_ms()
    jobs = []
    for job in cluster.jobs.values():
        entry: dict[str, Any] = {
            "jid": job.jid,
            "name": job.name,
            "start-time": job.start_ms,
            "end-time": job.end_ms,
            "duration": _duration(job, now),
            "state": job.state.value,
            "last-modification": max(job.timestamps.values()),
            "tasks": _task_counts(job, lower=True),
        }
        if cluster.is_2x:
            entry.update({"jobType": "STREAMING", "schedulerType": _scheduler(job), "pending-operators": 0})
        jobs.append(entry)
    return {"jobs": jobs}


def jobs_list(cluster: FakeCluster) -> dict[str, Any]:
    return {"jobs": [{"id": job.jid, "status": job.state.value} for job in cluster.jobs.values()]}


def _vertex(vertex: FakeVertex, now: int) -> dict[str, Any]:
    counts = dict.fromkeys(_EXECUTION_STATES, 0)
    counts[vertex.status.value] = vertex.parallelism
    return {
        "id": vertex.id,
        "slotSharingGroupId": "0" * 32,
        "name": vertex.name,
        "maxParallelism": 128,
        "parallelism": vertex.parallelism,
        "status": vertex.status.value,
        "start-time": vertex.start_ms,
        "end-time": vertex.end_ms,
        "duration": ((vertex.end_ms if vertex.end_ms >= 0 else now) - vertex.start_ms)
        if vertex.start_ms >= 0
        else -1,
        "tasks": counts,
        "metrics": {
            "read-bytes": 0,
            "read-bytes-complete": False,
            "write-bytes": 0,
            "write-bytes-complete": False,
            "read-records": 0,
            "read-records-complete": False,
            "write-records": 0,
            "write-records-complete": False,
            "accumulated-backpressured-time": 0,
            "accumulated-idle-time": 0,
            "accumulated-busy-time": 0.0,
        },
    }


def _plan(job: FakeJob) -> dict[str, Any]:
    nodes = []
    for index, vertex in enumerate(job.vertices):
        node: dict[str, Any] = {
            "id": vertex.id,
            "parallelism": vertex.parallelism,
            "operator": "",
            "operator_strategy": "",
            "description": "<br/>+- ".join(vertex.name.split(" -> ")) + "<br/>",
            "optimizer_properties": {},
        }
        if index > 0:
            previous = job.vertices[index - 1].id
            node["inputs"] = [
                {"num": 0, "id": previous, "ship_strategy": "HASH", "exchange": "pipelined_bounded"}
            ]
        nodes.append(node)
    return {"jid": job.jid, "name": job.name, "type": "STREAMING", "nodes": nodes}


def job_details(cluster: FakeCluster, job: FakeJob) -> dict[str, Any]:
    now = cluster.now_ms()
    timestamps = dict.fromkeys(_JOB_STATES, 0)
    timestamps.update(job.timestamps)
    body: dict[str, Any] = {
        "jid": job.jid,
        "name": job.name,
        "isStoppable": False,
        "state": job.state.value,
        "job-type": "STREAMING",
        "start-time": job.start_ms,
        "end-time": job.end_ms,
        "duration": _duration(job, now),
        "maxParallelism": -1,
        "now": now,
        "timestamps": timestamps,
        "vertices": [_vertex(v, now) for v in job.vertices],
        "status-counts": _task_counts(job, lower=False),
        "plan": _plan(job),
    }
    if cluster.is_2x:
        body.update({"application-id": job.jid, "pending-operators": 0, "schedulerType": _scheduler(job)})
    return body


def _failure_cause(exception_class: str, trace: str) -> dict[str, Any]:
    return {"class": exception_class, "stack-trace": trace, "serialized-throwable": ""}


def execution_result(cluster: FakeCluster, job: FakeJob) -> dict[str, Any]:
    if not job.state.is_globally_terminal:
        return {"status": {"id": "IN_PROGRESS"}}
    status = {JobState.FINISHED: "SUCCEEDED", JobState.CANCELED: "CANCELED", JobState.FAILED: "FAILED"}[
        job.state
    ]
    result: dict[str, Any] = {
        "id": job.jid,
        "application-status": status,
        "accumulator-results": {},
        "net-runtime": job.end_ms - job.start_ms,
    }
    if job.state is JobState.FAILED and job.failure is not None:
        result["failure-cause"] = _failure_cause(job.failure.exception_class, job.failure.stack_trace)
    if cluster.is_2x:
        result.update(
            {"name": job.name, "start-time": job.start_ms, "end-time": job.end_ms, "application-id": job.jid}
        )
    return {"status": {"id": "COMPLETED"}, "job-execution-result": result}


def exceptions(cluster: FakeCluster, job: FakeJob, max_exceptions: int | None) -> dict[str, Any]:
    records = job.exceptions[: max_exceptions or None]
    entries = [
        {
            "exceptionName": r.failure.exception_class,
            "stacktrace": r.failure.stack_trace,
            "timestamp": r.failure.timestamp_ms,
            "failureLabels": {},
            "concurrentExceptions": [],
        }
        for r in records
    ]
    body: dict[str, Any] = {
        "exceptionHistory": {"entries": entries, "truncated": len(job.exceptions) > len(records)}
    }
    if not cluster.is_2x:
        body["all-exceptions"] = [
            {
                "exception": r.failure.stack_trace,
                "task": f"{r.task_name} (1/1)" if r.task_name else None,
                "location": "localhost:0",
                "endpoint": "localhost:0",
                "timestamp": r.failure.timestamp_ms,
                "taskManagerId": cluster.taskmanager_ids[0] if cluster.taskmanager_ids else None,
            }
            for r in records
        ]
        body["truncated"] = False
        body["root-exception"] = job.failure.stack_trace if job.failure is not None else None
        body["timestamp"] = job.failure.timestamp_ms if job.failure is not None else None
    return body


def checkpoint_summary(record: CheckpointRecord, job: FakeJob) -> dict[str, Any]:
    subtasks = sum(v.parallelism for v in job.vertices)
    completed = record.status == "COMPLETED"
    body: dict[str, Any] = {
        "className": {"COMPLETED": "completed", "FAILED": "failed"}.get(record.status, "in_progress"),
        "id": record.id,
        "status": record.status,
        "is_savepoint": record.is_savepoint,
        "savepointFormat": record.savepoint_format,
        "trigger_timestamp": record.trigger_ms,
        "latest_ack_timestamp": record.ack_ms if completed else -1,
        "checkpointed_size": record.state_size if completed else 0,
        "state_size": record.state_size if completed else 0,
        "end_to_end_duration": max(0, record.ack_ms - record.trigger_ms) if record.ack_ms else 0,
        "alignment_buffered": 0,
        "processed_data": 0,
        "persisted_data": 0,
        "num_subtasks": subtasks,
        "num_acknowledged_subtasks": subtasks if completed else 0,
        "checkpoint_type": record.checkpoint_type,
        "tasks": {},
    }
    if completed:
        body["external_path"] = record.external_path
        body["discarded"] = record.discarded
    if record.status == "FAILED":
        body["failure_timestamp"] = record.ack_ms
        body["failure_message"] = record.failure_message
    return body


def _stats(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        nan = "NaN"
        return {"min": 0, "max": 0, "avg": 0, "p50": nan, "p90": nan, "p95": nan, "p99": nan, "p999": nan}
    average = sum(values) // len(values)
    top = float(max(values))
    return {
        "min": min(values),
        "max": max(values),
        "avg": average,
        "p50": top,
        "p90": top,
        "p95": top,
        "p99": top,
        "p999": top,
    }


def checkpoint_stats(job: FakeJob) -> dict[str, Any]:
    log = job.checkpoints
    records = log.records
    completed = [r for r in records if r.status == "COMPLETED"]
    sizes = [r.state_size for r in completed]
    durations = [max(0, r.ack_ms - r.trigger_ms) for r in completed]
    latest_checkpoint = log.latest(savepoint=False)
    latest_savepoint = log.latest(savepoint=True)
    latest_failed = log.latest_failed()
    restored = None
    if job.restored is not None:
        restored = {
            "id": job.restored.checkpoint_id,
            "restore_timestamp": job.restore_ms,
            "is_savepoint": job.restored.is_savepoint,
            "external_path": job.restored.path,
        }
    return {
        "counts": {
            "restored": 1 if job.restored is not None else 0,
            "total": log.triggered,
            "in_progress": log.in_progress,
            "completed": log.completed,
            "failed": log.failed,
        },
        "summary": {
            "checkpointed_size": _stats(sizes),
            "state_size": _stats(sizes),
            "end_to_end_duration": _stats(durations),
            "alignment_buffered": _stats([0] * len(completed)),
            "processed_data": _stats([0] * len(completed)),
            "persisted_data": _stats([0] * len(completed)),
        },
        "latest": {
            "completed": checkpoint_summary(latest_checkpoint, job) if latest_checkpoint else None,
            "savepoint": checkpoint_summary(latest_savepoint, job) if latest_savepoint else None,
            "failed": checkpoint_summary(latest_failed, job) if latest_failed else None,
            "restored": restored,
        },
        "history": [checkpoint_summary(r, job) for r in reversed(records)],
    }


def checkpoint_config(job: FakeJob) -> dict[str, Any]:
    interval = job.checkpoint_interval
    retention = job.retention
    return {
        "mode": "exactly_once" if interval is not None else "at_least_once",
        "interval": int(interval * 1000) if interval is not None else _LONG_MAX,
        "timeout": 600000,
        "min_pause": 0,
        "max_concurrent": 1,
        "externalization": {
            "enabled": retention != "NO_EXTERNALIZED_CHECKPOINTS",
            "delete_on_cancellation": retention == "DELETE_ON_CANCELLATION",
        },
        "state_backend": "HashMapStateBackend",
        "checkpoint_storage": "FileSystemCheckpointStorage",
        "unaligned_checkpoints": False,
        "tolerable_failed_checkpoints": 0,
        "aligned_checkpoint_timeout": 0,
        "checkpoints_after_tasks_finish": True,
        "state_changelog_enabled": False,
        "changelog_periodic_materialization_interval": 600000,
        "changelog_storage": "memory",
    }


def operation_status(operation: Operation) -> dict[str, Any]:
    if not operation.done:
        return {"status": {"id": "IN_PROGRESS"}, "operation": None}
    if operation.failure_trace is not None:
        cause = _failure_cause(operation.failure_class or "java.lang.Exception", operation.failure_trace)
        # The checkpoint trigger names it "failureCause", the others "failure-cause" (both versions).
        key = "failureCause" if operation.kind == "checkpoint" else "failure-cause"
        return {"status": {"id": "COMPLETED"}, "operation": {key: cause}}
    if operation.kind == "savepoint":
        return {"status": {"id": "COMPLETED"}, "operation": {"location": operation.location}}
    if operation.kind == "checkpoint":
        return {"status": {"id": "COMPLETED"}, "operation": {"checkpointId": operation.checkpoint_id}}
    return {"status": {"id": "COMPLETED"}, "operation": {}}


def jars_list(cluster: FakeCluster, address: str) -> dict[str, Any]:
    files = []
    for jar in cluster.jars.values():
        entry = [{"name": jar.main_class, "description": None}] if jar.main_class else []
        files.append({"id": jar.id, "name": jar.name, "uploaded": jar.uploaded_ms, "entry": entry})
    return {"address": address, "files": files}


def taskmanagers(cluster: FakeCluster) -> dict[str, Any]:
    slots = cluster.settings.slots_per_taskmanager
    used = cluster.total_slots - cluster.free_slots()
    managers = []
    for tm_id in cluster.taskmanager_ids:
        taken = min(slots, used)
        used -= taken
        resource = {
            "cpuCores": float(slots),
            "taskHeapMemory": 168,
            "taskOffHeapMemory": 0,
            "managedMemory": 0,
            "networkMemory": 24,
            "extendedResources": {},
        }
        entry: dict[str, Any] = {
            "id": tm_id,
            "path": f"pekko.tcp://flink@{tm_id.split('-')[0]}/user/rpc/taskmanager_0",
            "dataPort": 0,
            "jmxPort": -1,
            "timeSinceLastHeartbeat": cluster.now_ms(),
            "slotsNumber": slots,
            "freeSlots": slots - taken,
            "totalResource": resource,
            "freeResource": resource,
            "hardware": {
                "cpuCores": 2,
                "physicalMemory": 25276514304,
                "freeMemory": 235208704,
                "managedMemory": 0,
            },
            "memoryConfiguration": {"totalProcessMemory": 469762048, "totalFlinkMemory": 301989888},
        }
        if cluster.is_2x:
            entry["assignedTasks"] = taken
        managers.append(entry)
    return {"taskmanagers": managers}


def resource_requirements(job: FakeJob) -> dict[str, Any]:
    return {
        vertex.id: {
            "parallelism": {
                "lowerBound": job.wanted_parallelism.get(vertex.id, (1, 1))[0],
                "upperBound": vertex.parallelism,
            }
        }
        for vertex in job.vertices
    }
