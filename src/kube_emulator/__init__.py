"""A Kubernetes API server emulator for tests and for local mode.

It knows nothing about Flink, and the operator never imports it. Public names:

- `EmbeddedApiServer` (async context manager), `ThreadedApiServer` (background thread), `serve()`;
- `EmulatorConfig` (port, state dir, CRD files, history size, bookmark interval, GC delay...);
- `ClusterHooks` (via `server.hooks`): request log, faults, watch cuts, compaction, seeding, status;
- `write_kubeconfig()`; the pytest fixtures live in `kube_emulator.pytest_plugin`.
"""

from .faults import FaultRule, Faults
from .hooks import ClusterHooks
from .http_api import RequestRecord
from .kubeconfig import kubeconfig, write_kubeconfig
from .server import EmbeddedApiServer, EmulatorConfig, ThreadedApiServer, load_manifests, serve

__all__ = [
    "ClusterHooks",
    "EmbeddedApiServer",
    "EmulatorConfig",
    "FaultRule",
    "Faults",
    "RequestRecord",
    "ThreadedApiServer",
    "kubeconfig",
    "load_manifests",
    "serve",
    "write_kubeconfig",
]
