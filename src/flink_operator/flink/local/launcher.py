"""Starting one deployment of a local cluster: conf dir, ports, memory flags, then ZooKeeper, JobManager, TMs.

The JVM command lines are built here the way Flink's bin scripts build them (classpath with flink-dist
last, the distribution's ``env.java.opts.all``, log4j settings, ``--configDir`` and BashJavaUtils' ``-D``
memory properties), but the processes are started directly, never through a shell. Every command line
carries the deployment's private conf dir, the marker by which processes are recognised as ours.

The record is saved before anything starts and again after each process starts, so an operator crash at
any point leaves every started process either recorded or recognisable by its marker.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flink_operator.config import parse_memory_size
from flink_operator.flink.local import housekeeping, processes, records, zookeeper
from flink_operator.flink.local.configuration import (
    Ports,
    config_file_name,
    effective_configuration,
    render_config_file,
    taskmanager_replicas,
)
from flink_operator.flink.local.distribution import FlinkDistribution
from flink_operator.flink.local.layout import ClusterLayout, DeploymentLayout
from flink_operator.flink.local.memory import ProcessMemory, process_memory
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.records import ClusterRecord
from flink_operator.flink.service import ClusterMode, ClusterRequest, DeploymentError

SESSION_ENTRYPOINT = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
APPLICATION_ENTRYPOINT = "org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint"
TASKMANAGER_RUNNER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
_LOGGING_FILES = ("log4j.properties", "log4j-console.properties", "logback.xml")
# A resource's `logConfiguration` names the files a container reads; local processes read the plain ones.
_LOCAL_LOG_FILE_NAMES = {"log4j-console.properties": "log4j.properties", "logback-console.xml": "logback.xml"}


def free_port() -> int:
    """A port nobody listens on right now (bind 127.0.0.1:0 and read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Launch:
    """What ``start_deployment`` needs besides the request."""

    settings: LocalFlinkSettings
    distribution: FlinkDistribution
    cluster: ClusterLayout
    jar: Path | None


def jvm_command(
    *,
    java: str,
    distribution: FlinkDistribution,
    memory: ProcessMemory,
    conf: dict[str, str],
    conf_dir: Path,
    log_file: Path,
    role_opts_key: str,
    main_class: str,
    with_python: bool,
    arguments: Sequence[str] = (),
) -> list[str]:
    """The command line Flink's bin scripts would run for one JobManager or TaskManager."""
    log4j = conf_dir / "log4j.properties"
    return [
        java,
        *memory.jvm_args,
        *shlex.split(conf.get("env.java.opts.all", "")),
        *shlex.split(conf.get(role_opts_key, "")),
        f"-Dlog.file={log_file}",
        f"-Dlog4j.configuration=file:{log4j}",
        f"-Dlog4j.configurationFile=file:{log4j}",
        f"-Dlogback.configurationFile=file:{conf_dir / 'logback.xml'}",
        "-classpath",
        distribution.classpath(with_python=with_python),
        main_class,
        "--configDir",
        str(conf_dir),
        *memory.dynamic_args(),
        *arguments,
    ]


def application_arguments(request: ClusterRequest, jar: Path, job_id: str) -> list[str]:
    """StandaloneApplicationClusterEntryPoint options, then the program's own arguments."""
    assert request.job is not None
    args: list[str] = []
    if request.job.entry_class:
        args += ["--job-classname", request.job.entry_class]
    args += ["--jars", str(jar.resolve()), "--job-id", job_id]
    if request.restore_path:
        args += ["--fromSavepoint", request.restore_path]
    if request.allow_non_restored_state:
        args.append("--allowNonRestoredState")
    if request.job.parallelism:
        args += ["-D", f"parallelism.default={request.job.parallelism}"]
    return [*args, *request.job.args]


def uses_python(request: ClusterRequest) -> bool:
    """PyFlink needs flink-python on the JobManager's and TaskManagers' classpath."""
    entry = request.job.entry_class if request.job else None
    return entry == "org.apache.flink.client.python.PythonDriver" or any(
        key.startswith("python.") for key in request.configuration
    )


def cluster_totals(conf: dict[str, str], replicas: int) -> tuple[float, int]:
    """Total cpu and memory (bytes) the way upstream's cluster info counts them: JM + TMs x replicas."""
    jm_memory = parse_memory_size(conf["jobmanager.memory.process.size"]).bytes
    tm_memory = parse_memory_size(conf["taskmanager.memory.process.size"]).bytes
    jm_cpu = float(conf.get("kubernetes.jobmanager.cpu.amount", "1.0"))
    tm_cpu = float(
        conf.get("kubernetes.taskmanager.cpu.amount", conf.get("taskmanager.numberOfTaskSlots", "1"))
    )
    return jm_cpu + tm_cpu * replicas, jm_memory + tm_memory * replicas


def _prepare_conf_dir(
    distribution: FlinkDistribution,
    deployment: DeploymentLayout,
    conf: dict[str, str],
    log_files: Mapping[str, str] | None = None,
) -> None:
    """The deployment's configuration directory: the distribution's logging files, overridden by the
    request's log configuration, and the configuration file."""
    for directory in (
        deployment.conf,
        deployment.log,
        deployment.tmp,
        deployment.upload,
        deployment.artifacts,
    ):
        directory.mkdir(parents=True, exist_ok=True)
    for name in _LOGGING_FILES:
        source = distribution.conf_dir / name
        if source.is_file():
            shutil.copyfile(source, deployment.conf / name)
    for name, content in (log_files or {}).items():
        if "/" in name or name in ("", ".", ".."):
            raise DeploymentError(f"logConfiguration: {name!r} is not a plain file name")
        (deployment.conf / _LOCAL_LOG_FILE_NAMES.get(name, name)).write_text(content, encoding="utf-8")
    (deployment.conf / config_file_name(distribution.version)).write_text(
        render_config_file(conf), encoding="utf-8"
    )


async def start_deployment(request: ClusterRequest, launch: Launch) -> ClusterRecord:
    """Start all processes of a new deployment of ``request`` and return its (saved) record."""
    settings, distribution, cluster = launch.settings, launch.distribution, launch.cluster
    if request.mode is ClusterMode.APPLICATION and launch.jar is None:
        raise DeploymentError(f"{request.ref}: an application cluster needs a job jar")
    deployment_id = f"{request.generation}-{uuid.uuid4().hex[:12]}"
    deployment = cluster.deployment(deployment_id)
    ports = Ports(rest=free_port(), rpc=free_port(), zookeeper=free_port() if request.ha_enabled else None)
    conf = effective_configuration(
        request,
        distribution=distribution,
        cluster=cluster,
        deployment=deployment,
        deployment_id=deployment_id,
        ports=ports,
        memory_preset=settings.memory_preset,
        jvm_options=settings.jvm_options,
    )
    replicas = taskmanager_replicas(request)
    await asyncio.to_thread(_prepare_conf_dir, distribution, deployment, conf, request.log_files)
    jm_memory, tm_memory = await asyncio.gather(
        process_memory(distribution, "jobmanager", conf, java=settings.java),
        process_memory(distribution, "taskmanager", conf, java=settings.java),
    )
    job_id = None
    if request.mode is ClusterMode.APPLICATION:
        job_id = request.job_id or new_job_id()
    total_cpu, total_memory = cluster_totals(conf, replicas)
    record = ClusterRecord(
        ref=request.ref,
        mode=request.mode,
        generation=request.generation,
        deployment_id=deployment_id,
        flink_version=distribution.version,
        flink_home=str(distribution.home),
        conf_dir=str(deployment.conf),
        rest_port=ports.rest,
        rpc_port=ports.rpc,
        zookeeper_port=ports.zookeeper,
        ha_enabled=request.ha_enabled,
        job_id=job_id,
        job_result_store=conf.get("job-result-store.storage-path"),
        ha_storage=conf.get("high-availability.storageDir"),
        checkpoint_dir=conf.get("execution.checkpointing.dir") or conf.get("state.checkpoints.dir"),
        total_cpu=total_cpu,
        total_memory_bytes=total_memory,
    )
    if record.ha_storage:
        housekeeping.remember_ha_storage(cluster, record.ha_storage)
    records.save(cluster.record, record)
    env = {**_base_env(), **distribution.environment(deployment.conf)}
    marker = str(deployment.conf)

    def started(proc: processes.ProcessRecord) -> ClusterRecord:
        nonlocal record
        record = record.with_processes((*record.processes, proc))
        records.save(cluster.record, record)
        return record

    if request.ha_enabled:
        assert ports.zookeeper is not None
        await _start_zookeeper(request, launch, deployment, env, marker, ports.zookeeper, started)

    with_python = uses_python(request)
    if request.mode is ClusterMode.APPLICATION:
        assert launch.jar is not None and job_id is not None
        jm_main, jm_args = APPLICATION_ENTRYPOINT, application_arguments(request, launch.jar, job_id)
    else:
        jm_main, jm_args = SESSION_ENTRYPOINT, []
    commands = [
        (
            "jobmanager",
            jvm_command(
                java=settings.java,
                distribution=distribution,
                memory=jm_memory,
                conf=conf,
                conf_dir=deployment.conf,
                log_file=deployment.log_file("jobmanager"),
                role_opts_key="env.java.opts.jobmanager",
                main_class=jm_main,
                with_python=with_python,
                arguments=jm_args,
            ),
        )
    ]
    for index in range(replicas):
        role = f"taskmanager-{index}"
        commands.append(
            (
                role,
                jvm_command(
                    java=settings.java,
                    distribution=distribution,
                    memory=tm_memory,
                    conf=conf,
                    conf_dir=deployment.conf,
                    log_file=deployment.log_file(role),
                    role_opts_key="env.java.opts.taskmanager",
                    main_class=TASKMANAGER_RUNNER,
                    with_python=with_python,
                ),
            )
        )
    for role, argv in commands:
        try:
            proc = processes.launch(
                role,
                argv,
                env=env,
                cwd=deployment.root,
                marker=marker,
                log_file=deployment.log_file(role),
                out_file=deployment.out_file(role),
            )
        except OSError as error:
            raise DeploymentError(f"{request.ref}: cannot start the {role} process: {error}") from error
        started(proc)
    return record


async def _start_zookeeper(
    request: ClusterRequest,
    launch: Launch,
    deployment: DeploymentLayout,
    env: dict[str, str],
    marker: str,
    port: int,
    started: Callable[[processes.ProcessRecord], ClusterRecord],
) -> None:
    cluster = launch.cluster
    had_data = (cluster.zookeeper / "version-2").is_dir()
    cluster.zookeeper.mkdir(parents=True, exist_ok=True)
    config_file = deployment.conf / "zoo.cfg"
    config_file.write_text(
        zookeeper.zoo_cfg(cluster.zookeeper, port, launch.settings.zookeeper_tick_ms), encoding="utf-8"
    )
    argv = zookeeper.server_argv(
        launch.distribution,
        java=launch.settings.java,
        config_file=config_file,
        log_file=deployment.log_file("zookeeper"),
        log4j_config=deployment.conf / "log4j.properties",
    )
    try:
        proc = processes.launch(
            "zookeeper",
            argv,
            env=env,
            cwd=deployment.root,
            marker=marker,
            log_file=deployment.log_file("zookeeper"),
            out_file=deployment.out_file("zookeeper"),
        )
    except OSError as error:
        raise DeploymentError(f"{request.ref}: cannot start ZooKeeper: {error}") from error
    started(proc)
    await zookeeper.wait_serving(port, launch.settings.operation_timeout, lambda: processes.is_running(proc))
    if request.mode is ClusterMode.APPLICATION and had_data:
        # The new application's job graph must win over one left in HA metadata by an earlier deployment,
        # or a changed job would come back unchanged; its checkpoints stay, so last-state restores work.
        for node in ("jobgraphs", "execution-plans"):
            await zookeeper.delete_recursively(
                launch.distribution,
                java=launch.settings.java,
                port=port,
                path=f"{zookeeper.ROOT}/{request.ref.name}/{node}",
                within=launch.settings.operation_timeout,
            )


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "JAVA_HOME", "USER", "TMPDIR")
    return {key: os.environ[key] for key in keep if key in os.environ}
