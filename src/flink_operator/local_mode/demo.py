"""`local demo`: the whole local mode in one command, for the README's first command.

Starts the stack in a state directory of its own (``.state/demo``; leftovers of an earlier demo are
stopped and its API objects cleared first), applies an example FlinkDeployment (default
``examples/basic-flink2.yaml``: the repository's counter job, built from source), waits until it is
STABLE with its job RUNNING, prints the Flink Web UI URL and the job's progress, deletes the resource (the
cluster must go away), and stops everything. Each phase is timed; a summary table ends the run. Exit code
0 on success, 1 on failure or timeout (with the resource's state and error), 130 when interrupted.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from lightkube.types import PatchType

from flink_operator.local_mode.background import stop_background
from flink_operator.local_mode.counter import wait_for_count
from flink_operator.local_mode.display import Display
from flink_operator.local_mode.progress import ProgressTracker
from flink_operator.local_mode.settings import LocalOptions
from flink_operator.local_mode.stack import LocalStack
from flink_operator.local_mode.up import operator_logging, run_stack
from flink_operator.local_mode.watcher import FLINK_DEPLOYMENT
from flink_operator.runtime import KubeApi

DEMO_STATE_DIR = Path(".state") / "demo"
DEFAULT_EXAMPLE = Path("examples") / "basic-flink2.yaml"
FIELD_MANAGER = "flink-operator-demo"
COUNT_TO_SEE = 100
"""The demo waits until the job has counted this far: proof that records flow, not just that it runs."""

T = TypeVar("T")


class DemoFailed(RuntimeError):
    pass


class Interrupted(RuntimeError):
    pass


def load_deployment(example: Path) -> dict[str, Any]:
    """The (single) FlinkDeployment of an example file."""
    try:
        documents = [d for d in yaml.safe_load_all(example.read_text(encoding="utf-8")) if d]
    except (OSError, yaml.YAMLError) as error:
        raise DemoFailed(f"{example}: cannot be read: {error}") from error
    found = [d for d in documents if isinstance(d, dict) and d.get("kind") == "FlinkDeployment"]
    if len(found) != 1:
        raise DemoFailed(f"{example}: expected exactly one FlinkDeployment, found {len(found)}")
    deployment = found[0]
    deployment.setdefault("metadata", {}).setdefault("namespace", "default")
    return deployment


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T:
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        raise Interrupted()
    return task.result()


class DemoSession:
    def __init__(self, example: Path, timeout: float) -> None:
        self.example = example
        self.timeout = timeout

    async def __call__(self, stack: LocalStack, stop: asyncio.Event) -> int:
        try:
            return await self._run(stack, stop)
        except Interrupted:
            stack.display.info("interrupted")
            return 130
        except DemoFailed as error:
            stack.display.error(str(error))
            return 1

    async def _run(self, stack: LocalStack, stop: asyncio.Event) -> int:
        display, api, watcher = stack.display, stack.api, stack.watcher
        assert api is not None and watcher is not None and stack.flink is not None
        deployment = load_deployment(self.example)
        namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        key = ("FlinkDeployment", namespace, name)

        with display.phase(f"applied {self.example}"):
            await _apply(api, deployment)

        def settled(tracker: ProgressTracker) -> bool:
            view = tracker.view(*key)
            if view is None:
                return False
            stable = view.lifecycle == "STABLE" and view.job_state == "RUNNING"
            return stable or view.lifecycle == "FAILED"

        with display.phase(f"{name} STABLE, job RUNNING"):
            settled_in_time = await _unless_stopped(stop, watcher.wait_for(settled, within=self.timeout))
            view = watcher.tracker.view(*key)
            if not settled_in_time or view is None or view.lifecycle != "STABLE":
                state = (
                    "not seen"
                    if view is None
                    else f"lifecycle {view.lifecycle}, job {view.job_state}, "
                    f"JobManager {view.jobmanager}, error: {view.error or '-'}"
                )
                verdict = (
                    "failed" if settled_in_time else f"did not become STABLE within {self.timeout:.0f} s"
                )
                raise DemoFailed(f"{name} {verdict} ({state}); operator log: {stack.paths.operator_log}")
        if view.rest_url:
            display.note("Flink Web UI / REST", view.rest_url)
            with display.phase("counter job counting") as phase:
                reading = await _unless_stopped(
                    stop, wait_for_count(view.rest_url, COUNT_TO_SEE, within=self.timeout)
                )
                if reading is None:
                    raise DemoFailed(f"no running counter job found at {view.rest_url}")
                if reading.max_count < COUNT_TO_SEE:
                    raise DemoFailed(
                        f"the counter job is stuck at {reading.max_count} (job {reading.job_id})"
                    )
                phase["detail"] = f"job {reading.job_id}: counter.maxCount = {reading.max_count}"

        with display.phase(f"{name} deleted, cluster gone"):
            await api.delete(FLINK_DEPLOYMENT, name, namespace)
            gone = await _unless_stopped(
                stop, watcher.wait_for(lambda tracker: tracker.view(*key) is None, within=self.timeout)
            )
            if not gone:
                raise DemoFailed(f"{name} was not deleted within {self.timeout:.0f} s")
            left = [
                r for r in stack.flink.list_clusters() if r.ref.name == name and r.ref.namespace == namespace
            ]
            if left:
                raise DemoFailed(
                    f"the Flink cluster of {name} is still recorded after deletion: {left[0].ref}"
                )
        return 0


async def _apply(api: KubeApi, deployment: dict[str, Any]) -> None:
    metadata = deployment["metadata"]
    await api.patch(
        FLINK_DEPLOYMENT,
        metadata["name"],
        metadata["namespace"],
        deployment,
        patch_type=PatchType.APPLY,
        field_manager=FIELD_MANAGER,
        force=True,
    )


async def _reset(options: LocalOptions, display: Display) -> None:
    """Stop what an earlier demo left and forget its objects and clusters (the built jar is kept)."""
    paths = options.paths
    report = await stop_background(paths, keep_clusters=False)
    if report.stopped_instance or report.stopped_emulator or report.stopped_clusters:
        display.info("stopped the leftovers of an earlier demo")
    for directory in (paths.cluster, paths.flink):
        shutil.rmtree(directory, ignore_errors=True)
    paths.kubeconfig.unlink(missing_ok=True)


def run_demo(options: LocalOptions, display: Display, *, example: Path, timeout: float, verbose: bool) -> int:
    try:
        load_deployment(example)
    except DemoFailed as error:
        display.error(str(error))
        return 2

    async def main() -> int:
        with display.phase("clean demo state"):
            await _reset(options, display)
        return await run_stack(options, display, DemoSession(example, timeout), require_counter_job=True)

    with operator_logging(options.paths.operator_log, verbose=verbose):
        code = asyncio.run(main())
    display.summary("demo phases" + ("" if code == 0 else " (failed)"))
    if code == 0:
        display.info("demo finished: everything it started has stopped")
    return code
