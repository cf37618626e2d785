"""The operator process: configuration, plugins, the Flink runtime and the controllers wired together.

    await run_operator(OperatorSettings(kubeconfig=Path("kubeconfig")))   # until SIGTERM/SIGINT
    operator = await start_operator(settings, kube_client=c, flink_service=f)  # embedded (local up, tests)
    await operator.stop()                                                 # or operator.kill() (a crash)

Public names: `OperatorSettings`, `Operator`, `start_operator`, `run_operator`, `RUNTIME` (the
`kubernetes.operator.runtime` option), `RuntimeKind`, `create_flink_service`.
"""

from flink_operator.app.operator import Operator, OperatorSettings, run_operator, start_operator
from flink_operator.app.options import RUNTIME, RuntimeKind
from flink_operator.app.runtimes import ManagedFlinkService, create_flink_service

__all__ = [
    "RUNTIME",
    "ManagedFlinkService",
    "Operator",
    "OperatorSettings",
    "RuntimeKind",
    "create_flink_service",
    "run_operator",
    "start_operator",
]
