"""Settings of the Kubernetes runtimes, read from the operator configuration.

Existing operator options are reused (REST timeouts, cleanup timeout, deletion propagation, artifact
rules); the REST address override is `kubernetes.operator.flink.rest.url-template` (see
`flink_operator.kube.kube_options`). Log configuration defaults to `flink_operator.kube.log_config`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flink_operator.config import Configuration
from flink_operator.config.operator_options import (
    FLINK_CLIENT_CANCEL_TIMEOUT,
    FLINK_CLIENT_TIMEOUT,
    RESOURCE_CLEANUP_TIMEOUT,
    RESOURCE_DELETION_PROPAGATION,
)
from flink_operator.flink import artifacts
from flink_operator.flink.artifact_options import ARTIFACTS_BASE_DIR
from flink_operator.kube.kube_options import REST_URL_TEMPLATE
from flink_operator.kube.log_config import DEFAULT_LOG_FILES


def _default_artifacts_dir() -> Path:
    return Path(tempfile.gettempdir()) / "flink-operator-artifacts"


@dataclass(frozen=True)
class KubernetesSettings:
    """How the Kubernetes runtimes talk to the API server and to Flink (times in seconds).

    `jobmanager_pods_timeout` bounds the wait for JobManager pods to go after scaling to zero before a
    foreground deletion (upstream: min(1 min, cleanup timeout / 2)). `poll_interval` is the pause between
    checks while waiting for a deletion.
    """

    rest_url_template: str | None = None
    rest_timeout: float = 10.0
    cancel_timeout: float = 60.0
    savepoint_timeout: float = 600.0
    cleanup_timeout: float = 300.0
    propagation: str = "Foreground"
    readiness_timeout: float = 2.0
    poll_interval: float = 0.25
    artifacts_dir: Path = field(default_factory=_default_artifacts_dir)
    artifact_settings: artifacts.ArtifactSettings = field(default_factory=artifacts.ArtifactSettings)
    default_log_files: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LOG_FILES))
    field_manager: str = "flink-operator"

    @property
    def jobmanager_pods_timeout(self) -> float:
        return min(60.0, self.cleanup_timeout / 2)

    @classmethod
    def from_configuration(cls, configuration: Configuration) -> KubernetesSettings:
        base_dir = configuration.get(ARTIFACTS_BASE_DIR)
        return cls(
            rest_url_template=configuration.get(REST_URL_TEMPLATE),
            rest_timeout=configuration.get(FLINK_CLIENT_TIMEOUT).total_seconds(),
            cancel_timeout=configuration.get(FLINK_CLIENT_CANCEL_TIMEOUT).total_seconds(),
            cleanup_timeout=configuration.get(RESOURCE_CLEANUP_TIMEOUT).total_seconds(),
            propagation=configuration.get(RESOURCE_DELETION_PROPAGATION).value,
            artifacts_dir=Path(base_dir) if base_dir else _default_artifacts_dir(),
            artifact_settings=artifacts.ArtifactSettings.from_configuration(configuration),
        )
