"""``GET``/``PUT /jobs/:id/resource-requirements``: per-vertex parallelism bounds (adaptive scheduler)."""

from __future__ import annotations

from pydantic import Field

from flink_operator.flink.rest.models._base import FlinkModel


class ParallelismBounds(FlinkModel):
    lower_bound: int = Field(alias="lowerBound")
    upper_bound: int = Field(alias="upperBound")


class VertexResourceRequirements(FlinkModel):
    parallelism: ParallelismBounds


ResourceRequirements = dict[str, VertexResourceRequirements]
"""Vertex id -> requirements, the JSON object Flink sends and accepts."""
