"""Cluster-level responses: ``/overview``, ``/config``, ``/taskmanagers``."""

from __future__ import annotations

from pydantic import Field

from flink_operator.flink.rest.models._base import FlinkModel


class ClusterOverview(FlinkModel):
    """``GET /overview``: the readiness probe (TaskManagers registered, slots, job counts)."""

    taskmanagers: int = 0
    slots_total: int = Field(0, alias="slots-total")
    slots_available: int = Field(0, alias="slots-available")
    jobs_running: int = Field(0, alias="jobs-running")
    jobs_finished: int = Field(0, alias="jobs-finished")
    jobs_cancelled: int = Field(0, alias="jobs-cancelled")
    jobs_failed: int = Field(0, alias="jobs-failed")
    flink_version: str = Field("", alias="flink-version")
    flink_commit: str = Field("", alias="flink-commit")


class ClusterConfig(FlinkModel):
    """``GET /config``: the dashboard configuration, which carries the version."""

    flink_version: str = Field(alias="flink-version")
    flink_revision: str = Field("", alias="flink-revision")
    refresh_interval: int | None = Field(None, alias="refresh-interval")


class TaskManagerInfo(FlinkModel):
    """One entry of ``GET /taskmanagers``."""

    id: str
    path: str = ""
    data_port: int | None = Field(None, alias="dataPort")
    time_since_last_heartbeat: int | None = Field(None, alias="timeSinceLastHeartbeat")
    slots_number: int = Field(0, alias="slotsNumber")
    free_slots: int = Field(0, alias="freeSlots")


class TaskManagerList(FlinkModel):
    taskmanagers: list[TaskManagerInfo] = Field(default_factory=list)
