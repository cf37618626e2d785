"""Where local mode keeps its files, all under one state directory (default ``.state/local``).

```
<state>/
    kubeconfig          kubeconfig of the emulator (also copied to --kubeconfig-out)
    cluster/            the emulator's persisted objects (objects.json)
    flink/              the local Flink runtime's clusters (records, logs, checkpoints, savepoints, HA)
    usrlib/             stands in for the image's /opt/flink/usrlib (the counter job jar is built here)
    emulator.json       the running emulator process (pid, URL), for adoption by a later `local up`
    instance.json       the running `local up` (pid, state), for `local status` and `local down`
    up.lock             held by the running `local up` (flock; released by the kernel if it dies)
    logs/               operator.log, emulator.log, up.log (background runs)
```

Pure path arithmetic; nothing here touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path(".state") / "local"


@dataclass(frozen=True)
class LocalPaths:
    root: Path

    @staticmethod
    def of(state_dir: Path | None) -> LocalPaths:
        return LocalPaths((state_dir or DEFAULT_STATE_DIR).expanduser().absolute())

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def cluster(self) -> Path:
        return self.root / "cluster"

    @property
    def flink(self) -> Path:
        return self.root / "flink"

    @property
    def usrlib(self) -> Path:
        return self.root / "usrlib"

    @property
    def emulator_record(self) -> Path:
        return self.root / "emulator.json"

    @property
    def instance_record(self) -> Path:
        return self.root / "instance.json"

    @property
    def lock(self) -> Path:
        return self.root / "up.lock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def operator_log(self) -> Path:
        return self.logs / "operator.log"

    @property
    def emulator_log(self) -> Path:
        return self.logs / "emulator.log"

    @property
    def background_log(self) -> Path:
        return self.logs / "up.log"
