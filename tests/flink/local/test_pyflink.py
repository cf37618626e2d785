"""A PyFlink job in thread mode on a real local session cluster (Flink 2.x): it runs, stops with a
savepoint, and no process of the cluster listens beyond 127.0.0.1."""

from __future__ import annotations

import sys
import sysconfig
import uuid
from pathlib import Path

import pytest
from tests.flink.local.conftest import home_or_skip, local_settings
from tests.support.flink_local import FAST_TEST_CONFIG, listening_addresses, wait_ready

from flink_operator.flink.local.distribution import inspect_distribution
from flink_operator.flink.local.jobs import PYTHON_COUNTER_JOB
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.rest import wait_for_job_running
from flink_operator.flink.service import ClusterRef, ClusterRequest, JobSpec, SessionJobRequest, SuspendMode

pytestmark = pytest.mark.flink

PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"


async def test_pyflink_thread_mode_job_runs_on_loopback_only(
    tmp_path: Path, service_factory: list[LocalFlinkService]
) -> None:
    version = "v2_3"
    distribution = inspect_distribution(home_or_skip(version))
    assert distribution.python_jar is not None
    service = LocalFlinkService(local_settings(tmp_path / "state", version))
    service_factory.append(service)
    ref = ClusterRef("tests", "pyflink")
    python_conf = {
        **FAST_TEST_CONFIG,
        "python.execution-mode": "thread",
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
        "python.pythonpath": sysconfig.get_paths()["purelib"],
    }
    await service.deploy_session_cluster(ClusterRequest(ref, version, python_conf, generation=1))
    await wait_ready(service, ref)

    job_id = uuid.uuid4().hex
    spec = JobSpec(f"file://{distribution.python_jar}", PYTHON_DRIVER, ("-py", str(PYTHON_COUNTER_JOB)), 1)
    await service.submit_job(SessionJobRequest(ref, "python-counter", spec, job_id))
    rest = service._rest(ref)
    await wait_for_job_running(rest, job_id, within=120)

    pids = [p.pid for record in service.list_clusters() for p in record.processes]
    listening = listening_addresses(pids)
    assert listening and all(host == "127.0.0.1" for host, _ in listening), listening

    result = await service.cancel_job(ref, job_id, SuspendMode.SAVEPOINT)
    assert result.final_state == "FINISHED" and result.savepoint_path
