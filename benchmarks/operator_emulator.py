"""The Kubernetes API emulator of the operator benchmarks, in a process of its own, with its request log.

`start_emulator_process(kubeconfig)` starts this file as a process: the emulator as `flink-operator
emulator` runs it (long-lived objects frozen out of the garbage collector), with the FlinkDeployment CRDs
installed, plus a line protocol on stdin/stdout to read the emulator's request log from the driver:
`clear` empties the log; `writes` answers one JSON line counting the write requests (POST, PUT, PATCH,
DELETE) logged since, by method, resource (plural, with `/status` for the status subresource) and user
agent. So the driver can count the Kubernetes writes of a window without being in the emulator's process.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

_RESOURCE = re.compile(r"^/apis?/(?:[^/]+/)?[^/]+/(?:namespaces/[^/]+/)?(?P<plural>[a-z0-9.-]+)(?:/[^/]+)?"
                       r"(?P<sub>/[a-z]+)?$")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def resource_of(path: str) -> str:
    """The plural and subresource a path names: `flinkdeployments/status` for
    `/apis/flink.apache.org/v1beta1/namespaces/ns/flinkdeployments/x/status`."""
    match = _RESOURCE.match(path)
    if match is None:
        return path
    return match["plural"] + (match["sub"] or "")


async def serve(kubeconfig: Path, history: int) -> None:
    from flink_operator.api import crd_manifests
    from kube_emulator import EmbeddedApiServer, EmulatorConfig

    config = EmulatorConfig(kubeconfig=kubeconfig, history_size=history, freeze_gc=True)
    async with EmbeddedApiServer(config) as server:
        await server.hooks.seed(list(crd_manifests()))
        print(f"listening on {server.url}", flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

        async def commands() -> None:
            while line := (await reader.readline()).decode().strip():
                if line == "clear":
                    server.hooks.clear_requests()
                    print("{}", flush=True)
                elif line == "writes":
                    counts: collections.Counter[str] = collections.Counter()
                    for record in server.hooks.requests():
                        if record.method in WRITE_METHODS:
                            agent = record.user_agent.split("/")[0]
                            counts[f"{record.method} {resource_of(record.path)} {agent}"] += 1
                    print(json.dumps(counts), flush=True)
            stop.set()

        task = asyncio.create_task(commands())
        await stop.wait()
        task.cancel()


@dataclass
class EmulatorProcess:
    process: asyncio.subprocess.Process
    url: str
    kubeconfig: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _ask(self, command: str) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await asyncio.wait_for(self.process.stdout.readline(), 60))

    async def clear_log(self) -> None:
        await self._ask("clear")

    async def writes(self) -> dict[str, int]:
        """Write requests since the last `clear_log`: {"METHOD resource user-agent": count}."""
        found: dict[str, int] = await self._ask("writes")
        return found

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_emulator_process(kubeconfig: Path, history: int = 100_000) -> EmulatorProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--kubeconfig", str(kubeconfig), "--history", str(history),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO,
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    except TimeoutError:
        line = ""
    if not line.startswith("listening on "):
        process.kill()
        await process.wait()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return EmulatorProcess(process, line.split()[-1], kubeconfig)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="the emulator process of the operator benchmarks")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--history", type=int, default=100_000)
    options = parser.parse_args()
    asyncio.run(serve(options.kubeconfig, options.history))
