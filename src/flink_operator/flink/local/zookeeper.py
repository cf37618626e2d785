"""A single-node ZooKeeper per HA cluster, run from the ZooKeeper server shaded into flink-dist.

Each HA cluster gets its own ZooKeeper (loopback only, data under the cluster's ``ha/zookeeper``), started
before its JobManager and stopped with it. Keeping one ZooKeeper per cluster makes "delete HA data" a
directory removal and keeps clusters from seeing each other's metadata; it costs ~100 MB per HA cluster.
Znodes are edited with ZooKeeper's own command-line client, also shaded into flink-dist.

Not guaranteed: fast failover. After a JobManager is killed, a new leader is elected only once its
ZooKeeper session expires (bounded by 20 x tickTime).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from flink_operator.flink.local.distribution import FlinkDistribution
from flink_operator.flink.service import DeploymentError

QUORUM_PEER = "org.apache.flink.runtime.zookeeper.FlinkZooKeeperQuorumPeer"
CLI_MAIN = "org.apache.flink.shaded.zookeeper3.org.apache.zookeeper.ZooKeeperMain"
ROOT = "/flink"


def zoo_cfg(data_dir: Path, client_port: int, tick_time_ms: int) -> str:
    # No server.N entries: with none, FlinkZooKeeperQuorumPeer runs a standalone server (no peer ports).
    return "\n".join(
        [
            f"tickTime={tick_time_ms}",
            "initLimit=10",
            "syncLimit=5",
            f"dataDir={data_dir}",
            f"clientPort={client_port}",
            "clientPortAddress=127.0.0.1",
            "admin.enableServer=false",
            "4lw.commands.whitelist=ruok",
            "",
        ]
    )


def _classpath(distribution: FlinkDistribution) -> str:
    log4j = [str(j) for j in distribution.lib_jars if j.name.startswith("log4j-")]
    return ":".join([str(distribution.dist_jar), *log4j])


def server_argv(
    distribution: FlinkDistribution, *, java: str, config_file: Path, log_file: Path, log4j_config: Path
) -> list[str]:
    return [
        java,
        "-Xmx128m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Dzookeeper.jmx.log4j.disable=true",
        f"-Dlog.file={log_file}",
        f"-Dlog4j.configurationFile=file:{log4j_config}",
        "-cp",
        _classpath(distribution),
        QUORUM_PEER,
        "--zkConfigFile",
        str(config_file),
        "--peerId",
        "1",
    ]


async def is_serving(port: int) -> bool:
    """ZooKeeper answers the 'ruok' four-letter command with 'imok'."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(b"ruok")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(4), 1.0)
        return answer == b"imok"
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


async def wait_serving(port: int, within: float, alive: Callable[[], bool]) -> None:
    """Until ZooKeeper answers; fails at once when ``alive()`` says the server process has exited."""
    deadline = time.monotonic() + within
    while not await is_serving(port):
        if not alive():
            raise DeploymentError(f"ZooKeeper for port {port} exited during start-up; see its log")
        if time.monotonic() >= deadline:
            raise DeploymentError(f"ZooKeeper on 127.0.0.1:{port} did not start within {within:.0f} s")
        await asyncio.sleep(0.1)


async def delete_recursively(
    distribution: FlinkDistribution, *, java: str, port: int, path: str, within: float = 60.0
) -> None:
    """``deleteall path`` with ZooKeeper's shaded command-line client; a missing node is fine."""
    argv = [java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", _classpath(distribution), CLI_MAIN]
    argv += ["-server", f"127.0.0.1:{port}", "deleteall", path]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise DeploymentError(f"deleting ZooKeeper node {path} took longer than {within:.0f} s") from None
    text = output.decode(errors="replace")
    if proc.returncode != 0 and "Node does not exist" not in text:
        raise DeploymentError(f"deleting ZooKeeper node {path} failed: {text.strip()[-400:]}")
