"""The local runtime: real Flink JobManager and TaskManager processes on 127.0.0.1.

Public names: ``LocalFlinkService`` (the FlinkService), ``LocalFlinkSettings`` and ``settings_from`` (its
options), ``RecoveryReport``, ``build_counter_job`` (the example Java job, compiled on demand).
"""

from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.local.options import LocalFlinkSettings, settings_from
from flink_operator.flink.local.service import LocalFlinkService, RecoveryReport

__all__ = ["LocalFlinkService", "LocalFlinkSettings", "RecoveryReport", "build_counter_job", "settings_from"]
