"""Where a local cluster's files live under the state directory.

```
<state>/clusters/<namespace>/<name>/
    cluster.json                   the cluster record (processes, ports, generation), replaced atomically
    checkpoints/ savepoints/       default checkpoint and savepoint storage; outlive deployments
    ha/zookeeper/  ha/storage/     ZooKeeper data and high-availability.storageDir (kept until HA data
                                   is deleted)
    ha/storage-location            the HA storage a resource configured elsewhere (outlives the record,
                                   so HA data is found and removed after the cluster is gone)
    artifacts/<job>/               downloaded jars of session jobs
    deployments/<deployment-id>/   one per start: conf/ log/ tmp/ upload/ artifacts/
```

Pure path arithmetic only; nothing here touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flink_operator.flink.service import ClusterRef

RECORD_FILE = "cluster.json"


@dataclass(frozen=True)
class ClusterLayout:
    root: Path

    @staticmethod
    def of(state_dir: Path, ref: ClusterRef) -> ClusterLayout:
        return ClusterLayout(state_dir / "clusters" / ref.namespace / ref.name)

    @property
    def record(self) -> Path:
        return self.root / RECORD_FILE

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def savepoints(self) -> Path:
        return self.root / "savepoints"

    @property
    def ha(self) -> Path:
        return self.root / "ha"

    @property
    def zookeeper(self) -> Path:
        return self.ha / "zookeeper"

    @property
    def ha_storage(self) -> Path:
        return self.ha / "storage"

    @property
    def ha_location(self) -> Path:
        return self.ha / "storage-location"

    @property
    def deployments(self) -> Path:
        return self.root / "deployments"

    def artifacts(self, job_name: str) -> Path:
        return self.root / "artifacts" / job_name

    def deployment(self, deployment_id: str) -> DeploymentLayout:
        return DeploymentLayout(self.deployments / deployment_id)


@dataclass(frozen=True)
class DeploymentLayout:
    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def upload(self) -> Path:
        return self.root / "upload"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def log_file(self, role: str) -> Path:
        return self.log / f"{role}.log"

    def out_file(self, role: str) -> Path:
        return self.log / f"{role}.out"
