"""A minimal local Flink session cluster (1 JobManager + 1 TaskManager) for the REST client's own tests.

Started with ``java`` directly (memory flags from Flink's BashJavaUtils, as the bin scripts compute
them), bound to 127.0.0.1 on free ports, with a private conf/log/checkpoint directory, the SMALL memory
preset and SerialGC; stopped by PID. This stays small on purpose: the project's local runtime is the
real launcher; this one only serves the REST tests until they can use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
_UTILS_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
_JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=48m", "-Xss512k"]
_SMALL_PRESET = {
    "jobmanager.memory.process.size": "384m",
    "jobmanager.memory.jvm-metaspace.size": "112m",
    "jobmanager.memory.jvm-overhead.min": "48m",
    "jobmanager.memory.off-heap.size": "32m",
    "taskmanager.memory.process.size": "448m",
    "taskmanager.memory.jvm-metaspace.size": "112m",
    "taskmanager.memory.jvm-overhead.min": "48m",
    "taskmanager.memory.managed.size": "0m",
    "taskmanager.memory.framework.heap.size": "64m",
    "taskmanager.memory.framework.off-heap.size": "32m",
    "taskmanager.memory.network.min": "24m",
    "taskmanager.memory.network.max": "24m",
}


@dataclass(frozen=True)
class Distribution:
    home: Path
    version: str

    @property
    def lib_jars(self) -> list[Path]:
        jars = sorted((self.home / "lib").glob("*.jar"))
        dist = [j for j in jars if j.name.startswith("flink-dist")]
        return [j for j in jars if j not in dist] + dist  # flink-dist last, like the scripts


def find_distribution(venv: Path | None) -> Distribution | None:
    """The Flink distribution inside a virtualenv (None if it is not installed there)."""
    if venv is None:
        import pyflink  # the project venv's own apache-flink

        home = Path(pyflink.__file__).resolve().parent
    else:
        candidates = sorted(venv.glob("lib/python3*/site-packages/pyflink"))
        if not candidates:
            return None
        home = candidates[0]
    dist_jars = sorted((home / "lib").glob("flink-dist-*.jar"))
    if not dist_jars:
        return None
    version = dist_jars[0].name[len("flink-dist-") : -len(".jar")]
    return Distribution(home=home, version=version)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise RuntimeError("java is not on PATH (install openjdk-17-jdk-headless)")
    return found


def build_probe_job(dist: Distribution, out_dir: Path) -> Path:
    """Compile tests/flink/rest/probe_job into a jar (runs on 1.19+ and 2.x)."""
    javac = shutil.which("javac")
    jar_tool = shutil.which("jar")
    if javac is None or jar_tool is None:
        raise RuntimeError("javac/jar are not on PATH (install openjdk-17-jdk-headless)")
    source = Path(__file__).parent / "probe_job" / "probe" / "ProbeJob.java"
    classes = out_dir / "classes"
    classes.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [javac, "--release", "11", "-cp", f"{dist.home}/lib/*", "-d", str(classes), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    jar = out_dir / "probe-job.jar"
    subprocess.run(
        [jar_tool, "--create", "--file", str(jar), "--main-class", "probe.ProbeJob", "-C", str(classes), "."],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return jar


@dataclass
class LocalSessionCluster:
    dist: Distribution
    workdir: Path
    extra_config: dict[str, str] = field(default_factory=dict)
    slots: int = 4
    rest_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def checkpoint_dir(self) -> Path:
        return self.workdir / "ckpt"

    @property
    def savepoint_dir(self) -> Path:
        return self.workdir / "sp"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def _write_conf(self) -> Path:
        conf = self.workdir / "conf"
        shutil.copytree(self.dist.home / "conf", conf)
        stock = yaml.safe_load((self.dist.home / "conf" / "config.yaml").read_text())
        java_opts = stock["env"]["java"]["opts"]["all"]
        for sub in ("log", "tmp", "ckpt", "sp", "upload"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.rest_port = free_port()
        settings = {
            "env.java.opts.all": java_opts,
            "io.tmp.dirs": str(self.workdir / "tmp"),
            "web.tmpdir": str(self.workdir / "tmp"),
            "web.upload.dir": str(self.workdir / "upload"),
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.bind-host": "127.0.0.1",
            "jobmanager.rpc.port": str(free_port()),
            "taskmanager.host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "rest.port": str(self.rest_port),
            "taskmanager.numberOfTaskSlots": str(self.slots),
            "execution.checkpointing.dir": f"file://{self.checkpoint_dir}",
            "execution.checkpointing.savepoint-dir": f"file://{self.savepoint_dir}",
            "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
            "jobmanager.scheduler": "adaptive",
            "jobmanager.adaptive-scheduler.scaling-interval.min": "1s",
            "web.refresh-interval": "500",
            **_SMALL_PRESET,
            **self.extra_config,
        }
        # Flat "key: value" lines are valid in 1.20's and 2.x's config.yaml alike.
        lines = [
            f"{key}: {yaml.safe_dump(value, default_style=None).strip()}" for key, value in settings.items()
        ]
        lines = [line.removesuffix("\n...") for line in lines]
        (conf / "config.yaml").write_text("\n".join(lines) + "\n")
        return conf

    def _env(self, conf: Path) -> dict[str, str]:
        home = self.dist.home
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLINK_")}
        env.update(
            FLINK_HOME=str(home),
            FLINK_CONF_DIR=str(conf),
            FLINK_LIB_DIR=str(home / "lib"),
            FLINK_OPT_DIR=str(home / "opt"),
            FLINK_PLUGINS_DIR=str(home / "plugins"),
            FLINK_BIN_DIR=str(home / "bin"),
        )
        return env

    def _resource_params(self, conf: Path, command: str, env: dict[str, str]) -> tuple[list[str], list[str]]:
        classpath = ":".join(
            [str(self.dist.home / "bin" / "bash-java-utils.jar")] + [str(j) for j in self.dist.lib_jars]
        )
        done = subprocess.run(
            [
                java(),
                "-cp",
                classpath,
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                command,
                "--configDir",
                str(conf),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        results = [
            line[len(_UTILS_PREFIX) :] for line in done.stdout.splitlines() if line.startswith(_UTILS_PREFIX)
        ]
        if done.returncode != 0 or len(results) < 2:
            raise RuntimeError(f"BashJavaUtils {command} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        return results[0].split(), results[1].split()

    def _spawn(self, conf: Path, env: dict[str, str], name: str, main_class: str, command: str) -> None:
        jvm_args, dynamic = self._resource_params(conf, command, env)
        stock = yaml.safe_load((conf / "config.yaml").read_text())
        java_opts = str(stock["env.java.opts.all"]).split()
        classpath = ":".join(str(j) for j in self.dist.lib_jars)
        log = self.workdir / "log"
        argv = [
            java(),
            *jvm_args,
            *java_opts,
            *_JVM_FLAGS,
            f"-Dlog.file={log / (name + '.log')}",
            f"-Dlog4j.configurationFile=file:{conf / 'log4j.properties'}",
            "-classpath",
            classpath,
            main_class,
            "--configDir",
            str(conf),
            *dynamic,
        ]
        out = (log / f"{name}.out").open("wb")
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        finally:
            out.close()
        self.processes.append(process)

    def start(self, within: float = 90.0) -> None:
        conf = self._write_conf()
        env = self._env(conf)
        self._spawn(
            conf,
            env,
            "jobmanager",
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            "GET_JM_RESOURCE_PARAMS",
        )
        self._spawn(
            conf,
            env,
            "taskmanager",
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
            "GET_TM_RESOURCE_PARAMS",
        )
        deadline = time.monotonic() + within
        with httpx.Client(trust_env=False, timeout=2.0) as http:
            while time.monotonic() < deadline:
                for process in self.processes:
                    if process.poll() is not None:
                        logs = self.workdir / "log"
                        raise RuntimeError(
                            f"a Flink process exited early (rc={process.returncode}); logs in {logs}"
                        )
                with contextlib.suppress(httpx.HTTPError):
                    overview = http.get(f"{self.rest_url}/overview").json()
                    if overview.get("taskmanagers", 0) >= 1:
                        return
                time.sleep(0.2)
        raise RuntimeError(
            f"Flink session cluster not ready within {within} s; logs in {self.workdir / 'log'}"
        )

    def stop(self, grace: float = 15.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def alive_pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None or Path(f"/proc/{p.pid}").exists()]


if __name__ == "__main__":  # manual use: python tests/flink/rest/local_cluster.py [venv]
    chosen = find_distribution(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    assert chosen is not None
    print(chosen)
