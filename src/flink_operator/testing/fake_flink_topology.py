"""The shape of a fake job: its vertices (names, operators, source/counter roles) and their stable ids.

The default topology is the example counter job's as real Flink chains it: ``Source: seq -> throttle``
and ``counter -> Sink: print``. Vertex ids are derived from the program and the vertex, so a job restored
from a savepoint of the same program has the same vertex ids, as real ids derived from operator uids do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flink_operator.flink.rest.models.jobs import ExecutionState

__all__ = ["DEFAULT_TOPOLOGY", "FakeVertex", "VertexSpec", "vertex_id"]


@dataclass(frozen=True)
class VertexSpec:
    """A vertex of the fake topology: name, operators' metric prefixes, source or counter holder."""

    name: str
    operators: tuple[str, ...]
    source: bool = False
    counter: bool = False


DEFAULT_TOPOLOGY: tuple[VertexSpec, ...] = (
    VertexSpec("Source: seq -> throttle", ("Source__seq", "throttle"), source=True),
    VertexSpec("counter -> Sink: print", ("counter", "Sink__print"), counter=True),
)


@dataclass
class FakeVertex:
    id: str
    spec: VertexSpec
    parallelism: int
    status: ExecutionState = ExecutionState.CREATED
    start_ms: int = -1
    end_ms: int = -1
    metric_overrides: dict[str, float | list[float]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name


def vertex_id(entry: str, index: int, spec: VertexSpec) -> str:
    """Stable across jobs of the same program, as real vertex ids derived from operator uids are."""
    return hashlib.md5(f"{entry}|{index}|{spec.name}".encode(), usedforsecurity=False).hexdigest()
