"""Local mode: the Kubernetes API emulator, the operator and real Flink processes on this machine.

`flink-operator local up|status|down|demo` are thin commands over this package. Public names:

- `LocalOptions` (state dir, port, kubeconfig copy, overrides) and `LocalPaths` (where things live);
- `run_up(options, console)`: the foreground stack until SIGINT/SIGTERM (returns the exit code);
- `collect_status(paths)` -> `StatusReport` (each resource, its states and Flink URL);
- `stop_background(paths)`: what `local down` does;
- `run_demo(options, console)`: start, apply the demo example, wait for STABLE, stop.

Everything else is internal and may change.
"""

from flink_operator.local_mode.layout import LocalPaths
from flink_operator.local_mode.settings import LocalOptions

__all__ = ["LocalOptions", "LocalPaths"]
