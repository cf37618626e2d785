"""Runs the FlinkDeployment decision the way the controller shell does, against an in-memory Flink world.

`Driver.reconcile()` = build the context (facts from the world), decide, persist the intent, perform the
action, persist the outcome; `crash=` stops it at a step boundary, as a killed operator would, leaving
the persisted status and the world as they were at that point. No Kubernetes API is involved: the
"persisted" status is the resource's status in memory.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.flink_world import InMemoryFlink

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentStatus,
    ResourceLifecycleState,
    compute_lifecycle_state,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.job_exceptions import ExceptionMarks
from flink_operator.controllers.deployment.inputs import build_context
from flink_operator.controllers.deployment.planner import decide
from flink_operator.controllers.deployment.runtime_calls import perform
from flink_operator.controllers.deployment.steps import Step
from flink_operator.flink.service import ClusterRef

JAR = "local:///opt/flink/examples/streaming/Counter.jar"


def deployment_document(
    name: str = "demo",
    *,
    upgrade_mode: str = "savepoint",
    state: str = "running",
    parallelism: int = 1,
    config: dict[str, Any] | None = None,
    generation: int = 1,
    **spec: Any,
) -> dict[str, Any]:
    flink_configuration = {
        "execution.checkpointing.dir": "file:/checkpoints",
        "execution.checkpointing.savepoint-dir": "file:/savepoints",
        **(config or {}),
    }
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "generation": generation},
        "spec": {
            "flinkVersion": "v2_3",
            "serviceAccount": "flink",
            "flinkConfiguration": flink_configuration,
            "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
            "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
            "job": {
                "jarURI": JAR,
                "entryClass": "demo.CounterJob",
                "parallelism": parallelism,
                "upgradeMode": upgrade_mode,
                "state": state,
            },
            **spec,
        },
    }


class Crash(enum.Enum):
    """Where a simulated operator crash stops a reconcile."""

    BEFORE_INTENT = "before the intent is written"
    AFTER_INTENT = "after the intent is written, before the action"
    AFTER_ACTION = "after the action, before its outcome is written"


@dataclass
class Driver:
    world: InMemoryFlink
    resource: FlinkDeployment
    configuration: DefaultConfiguration = field(default_factory=lambda: DefaultConfiguration({}))
    validate: Callable[[FlinkDeployment], str | None] = lambda _: None
    events: list[EventSpec] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    writes: int = 0
    released: bool = False
    last_requeue: float | None = None
    """The delay the last reconcile asked for (0: look again at once)."""
    exceptions: ExceptionMarks = field(default_factory=ExceptionMarks)
    """How far the job's exception history was reported (the controller keeps the same, in memory)."""

    @classmethod
    def of(cls, world: InMemoryFlink | None = None, **document: Any) -> Driver:
        return cls(world or InMemoryFlink(), FlinkDeployment.from_dict(deployment_document(**document)))

    @property
    def ref(self) -> ClusterRef:
        return ClusterRef(self.resource.namespace, self.resource.name)

    @property
    def status(self) -> FlinkDeploymentStatus:
        return self.resource.status

    @property
    def lifecycle(self) -> ResourceLifecycleState:
        return compute_lifecycle_state(self.status)

    def new_id(self) -> str:
        return self.world.new_id()

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the spec as a user would (generation + 1)."""
        document = self.resource.to_dict()
        spec = copy.deepcopy(document["spec"])
        change(spec)
        if spec != document["spec"]:
            document["spec"] = spec
            document["metadata"]["generation"] = (self.resource.metadata.generation or 0) + 1
        self.resource = FlinkDeployment.from_dict(document)

    def edit_job(self, **fields: Any) -> None:
        self.edit(lambda spec: spec["job"].update(fields))

    def delete(self) -> None:
        document = self.resource.to_dict()
        document["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
        self.resource = FlinkDeployment.from_dict(document)

    def _persist(self, status: FlinkDeploymentStatus) -> None:
        if status.to_dict() != self.resource.status.to_dict():
            self.writes += 1
        self.resource = self.resource.model_copy(update={"status": status.model_copy(deep=True)})

    async def reconcile(self, crash: Crash | None = None) -> Step:
        mark = self.exceptions.get(self.resource.metadata.uid or "", self.world.now_ms)
        context = await build_context(
            self.resource,
            desired=self.resource.spec,
            validation_error=self.validate(self.resource),
            flink=self.world,
            configuration=self.configuration,
            now_ms=self.world.now_ms,
            new_id=self.new_id,
            exceptions=mark,
        )
        step = decide(context)
        self.steps.append(step)
        if crash is Crash.BEFORE_INTENT:
            return step
        self._persist(step.status)
        self.events.extend(step.events)
        facts = context.facts
        if facts.exceptions_since_ms is not None and facts.job is not None:
            self.exceptions.read(self.resource.metadata.uid or "", mark, facts.job, facts.exceptions)
        if step.action is None:
            self.released = self.released or step.remove_finalizer
            self.last_requeue = step.requeue.after
            return step
        if crash is Crash.AFTER_INTENT:
            return step
        try:
            result = await perform(self.world, self.ref, step.action)
        except Exception as error:
            outcome = step.on_failure(error)
        else:
            if crash is Crash.AFTER_ACTION:
                return step
            outcome = step.on_success(result)
        self._persist(outcome.status)
        self.events.extend(outcome.events)
        self.released = self.released or outcome.remove_finalizer
        self.last_requeue = outcome.requeue.after
        return step

    async def run(self, loops: int = 1) -> list[Step]:
        """Reconcile `loops` times, letting the world settle after each (JobManagers start, jobs run)."""
        steps = []
        for _ in range(loops):
            steps.append(await self.reconcile())
            self.world.settle()
        return steps

    async def converge(self, limit: int = 20) -> list[Step]:
        """Reconcile until nothing is left to do for the current generation (or fail after `limit`)."""
        steps: list[Step] = []
        for _ in range(limit):
            step = await self.reconcile()
            self.world.settle()
            steps.append(step)
            if self.settled:
                return steps
        raise AssertionError(
            f"no convergence after {limit} reconciles: lifecycle {self.lifecycle}, "
            f"notes {[s.note for s in steps]}"
        )

    @property
    def settled(self) -> bool:
        if self.released:
            return True
        current = self.status.observed_generation == self.resource.metadata.generation
        return (
            current
            and self.last_requeue != 0
            and self.lifecycle
            in (
                ResourceLifecycleState.STABLE,
                ResourceLifecycleState.SUSPENDED,
                ResourceLifecycleState.FAILED,
                ResourceLifecycleState.ROLLED_BACK,
            )
        )

    def reasons(self) -> list[str]:
        return [event.reason for event in self.events]
