"""`decide(ctx) -> Step`: the one decision of a FlinkStateSnapshot reconcile, pure.

A resource being deleted goes to `cleanup.decide_cleanup`, every other one to the state machine
(`state_machine.transition`).
"""

from __future__ import annotations

from flink_operator.controllers.snapshot.cleanup import decide_cleanup
from flink_operator.controllers.snapshot.state_machine import transition
from flink_operator.controllers.snapshot.steps import SnapshotContext, Step


def decide(ctx: SnapshotContext) -> Step:
    if ctx.deleting:
        return decide_cleanup(ctx)
    return transition(ctx)
