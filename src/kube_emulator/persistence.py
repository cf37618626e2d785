"""Optional persistence of the emulated cluster to a state directory.

The whole store is written as one JSON file (`<state-dir>/objects.json`), atomically (temporary
file, fsync, rename), at most every `interval` seconds after a change and once more on shutdown. On
start the file is read back: objects keep their uids and resourceVersions and the counter continues
after the highest one, so clients that resume watches or compare versions across a restart see a
monotonic resourceVersion (their watches answer 410 and they re-list, as after etcd compaction).
A crash loses at most the last `interval` seconds of changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .state import ClusterState

FILE_NAME = "objects.json"
FORMAT = 1


def load(state_dir: Path) -> tuple[list[tuple[tuple[str, str], dict[str, Any]]], int] | None:
    path = state_dir / FILE_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_bytes())
        objects = [((str(item["r"][0]), str(item["r"][1])), item["o"]) for item in data["objects"]]
        return objects, int(data["resourceVersion"])
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(
            f"{path}: not a kube-emulator state file ({exc}); move it away to start empty"
        ) from exc


def dump(state: ClusterState) -> bytes:
    parts = [b'{"format":%d,"resourceVersion":%d,"objects":[' % (FORMAT, state.store.rv)]
    items = []
    for (group, plural), stored in state.store.snapshot():
        items.append(b'{"r":' + json.dumps([group, plural]).encode() + b',"o":' + stored.raw + b"}")
    parts.append(b",\n".join(items))
    parts.append(b"]}\n")
    return b"".join(parts)


def write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Persister:
    """Writes the state directory after changes (debounced) and on stop."""

    def __init__(self, state: ClusterState, state_dir: Path, interval: float = 0.2) -> None:
        self.state = state
        self.path = state_dir / FILE_NAME
        self.interval = interval
        self.writes = 0
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._written_rv = state.store.rv
        state.change_listeners.append(lambda _change: self._dirty.set())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kube-emulator-persist")

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self.interval)
            self.flush()

    def flush(self) -> None:
        self._dirty.clear()
        if self.state.store.rv == self._written_rv and self.path.exists():
            return
        write_atomic(self.path, dump(self.state))
        self._written_rv = self.state.store.rv
        self.writes += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.flush()
