"""The fake Flink server models the counter job's failure switches as real Flink runs them: `--keys 0` fails
the job at start (its main() refuses it), `--failEveryMs N` makes every attempt fail after N ms, restarting
per the restart strategy; seen through the REST client and the FlinkService conversions."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.flink_rest.conftest import quick_config
from tests.support.fake_jars import fake_jar

from flink_operator.flink.job_failures import exceptions_from_history, failure_from_result
from flink_operator.flink.rest import FlinkRestClient, JarRunRequest, JobState, wait_for_job_state
from flink_operator.testing.fake_flink import FakeFlinkServer

pytestmark = pytest.mark.integration


async def _submit(flink: FlinkRestClient, *args: str) -> str:
    jar = await flink.upload_jar(fake_jar(), filename="counter-job.jar")
    return (await flink.run_jar(jar, JarRunRequest(program_args=list(args)))).jobid


async def test_keys_zero_fails_the_job_at_start_with_the_main_methods_error(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _submit(flink, "--keys", "0")
        await wait_for_job_state(flink, job, {JobState.FAILED}, within=5)
        failure = failure_from_result(await flink.execution_result(job))
        assert failure is not None
        assert failure.exception_class == "org.apache.flink.client.program.ProgramInvocationException"
        assert failure.message == "The main method caused an error: --keys must be at least 1, got 0"
        assert [c.exception_class for c in failure.causes] == [
            "org.apache.flink.client.program.ProgramInvocationException",
            "java.lang.IllegalArgumentException",
        ]


async def test_fail_every_restarts_the_job_while_the_strategy_allows(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    config = quick_config(
        tmp_path,
        **{"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "3"},
    )
    cluster = await server.add_cluster("c", config=config)
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _submit(flink, "--failEveryMs", "50", "--checkpointMs", "20")
        await wait_for_job_state(flink, job, {JobState.FAILED}, within=10)
        fake = cluster.jobs[job]
        assert fake.restarts == 3, "three restarts, then the strategy gives up"
        history = exceptions_from_history(await flink.exceptions(job, 10), since_ms=0, limit=10)
        assert len(history) == 4
        assert all("injected failure 50 ms after the counter started" in e.stack_trace for e in history)
