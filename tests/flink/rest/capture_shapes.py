"""Capture real Flink REST JSON shapes into tests/unit/flink_rest/data/flink-<major.minor>/ (a development tool).

Usage, from the repository root: ``.venv/bin/python tests/flink/rest/capture_shapes.py [v2_3|v1_20]``.
It starts a local session cluster through the local runtime, runs the probe job (probe_job/: the counter
job plus a way to fail on purpose), walks through the REST operations the client uses (including failures
and bad requests), saves every answer as {"status", "body"} and stops the cluster. Serialized Java
throwables are omitted and the temporary work directory is replaced by /tmp/flink-rest-test.
"""

# ruff: noqa: E501
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.support.flink_local import flink_home_for, kill_all, processes_with_marker, wait_ready

from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.service import ClusterRef, ClusterRequest

VERSION = sys.argv[1] if len(sys.argv) > 1 else "v2_3"
HOME = flink_home_for(VERSION)
assert HOME is not None, f"no Flink distribution for {VERSION}"
CONFIG = {
    "taskmanager.numberOfTaskSlots": "4",
    "jobmanager.scheduler": "adaptive",
    "jobmanager.adaptive-scheduler.scaling-interval.min": "1s",
    "web.refresh-interval": "500",
}
PROBE = "probe.ProbeJob"
work = Path(tempfile.mkdtemp(prefix="capture-"))
jar = build_counter_job(HOME, work / "job", sources=Path(__file__).parent / "probe_job")
service = LocalFlinkService(
    LocalFlinkSettings(state_dir=work / "state", flink_homes={VERSION: HOME}, stop_timeout=5.0)
)
REF = ClusterRef("capture", "shapes")


async def start() -> str:
    t0 = time.monotonic()
    await service.deploy_session_cluster(ClusterRequest(REF, VERSION, CONFIG, generation=1))
    await wait_ready(service, REF)
    print("ready", time.monotonic() - t0)
    url = service.rest_url(REF)
    assert url is not None
    return url


async def stop_cluster() -> None:
    await service.delete_cluster(REF, delete_ha_data=True)
    await service.close()


def scrub(value):
    if isinstance(value, dict):
        return {k: ("<omitted>" if k == "serialized-throwable" else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return value.replace(str(work), "/tmp/flink-rest-test")
    return value


def save(name, r):
    try:
        body = r.json()
    except Exception:
        body = r.text
    (out / f"{name}.json").write_text(
        json.dumps({"status": r.status_code, "body": scrub(body)}, indent=1, sort_keys=True) + "\n"
    )
    print(name, r.status_code, str(body)[:150])
    return body


def poll_save(name, path):
    def get():
        r = h.get(R + path)
        return r if r.status_code != 200 or r.json()["status"]["id"] == "COMPLETED" else None

    save(name, until(get, name))


def until(fn, what, within=60):
    d = time.monotonic() + within
    while time.monotonic() < d:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError(what)


def capture(url: str) -> None:
    global R, h, out
    R = url
    h = httpx.Client(trust_env=False, timeout=30)
    flavour = "flink-" + ".".join(h.get(R + "/config").json()["flink-version"].split(".")[:2])
    out = Path(__file__).resolve().parents[3] / "tests" / "unit" / "flink_rest" / "data" / flavour
    out.mkdir(parents=True, exist_ok=True)
    save("overview", h.get(R + "/overview"))
    save("config", h.get(R + "/config"))
    save("jobs_overview_empty", h.get(R + "/jobs/overview"))
    save("taskmanagers", h.get(R + "/taskmanagers"))
    up = save(
        "jar_upload",
        h.post(
            R + "/jars/upload",
            files={"jarfile": ("probe-job.jar", jar.read_bytes(), "application/x-java-archive")},
        ),
    )
    jar_id = up["filename"].rsplit("/", 1)[-1]
    save("jars_list", h.get(R + "/jars"))
    save("error_jar_run_unknown_jar", h.post(R + "/jars/nope.jar/run", json={"programArgsList": []}))
    save(
        "error_jar_run_bad_entry",
        h.post(R + f"/jars/{jar_id}/run", json={"entryClass": "no.Such", "programArgsList": []}),
    )
    save(
        "error_jar_run_bad_claim",
        h.post(R + f"/jars/{jar_id}/run", json={"claimMode": "NOT_A_MODE", "programArgsList": []}),
    )
    run = save(
        "jar_run",
        h.post(
            R + f"/jars/{jar_id}/run",
            json={
                "entryClass": PROBE,
                "parallelism": 1,
                "programArgsList": ["--sleepMs", "10", "--checkpointMs", "500"],
            },
        ),
    )
    jid = run["jobid"]
    save("job_status_early", h.get(R + f"/jobs/{jid}/status"))
    save("job_details_early", h.get(R + f"/jobs/{jid}"))
    save("execution_result_running", h.get(R + f"/jobs/{jid}/execution-result"))
    save("checkpoints_early", h.get(R + f"/jobs/{jid}/checkpoints"))
    save(
        "vertex_metrics_first",
        h.get(
            R
            + f"/jobs/{jid}/vertices/{h.get(R + f'/jobs/{jid}').json()['vertices'][0]['id']}/subtasks/metrics",
            params={"get": "busyTimeMsPerSecond,numRecordsOutPerSecond", "agg": "min,max,avg,sum"},
        ),
    )

    def running():
        d = h.get(R + f"/jobs/{jid}").json()
        return d if d["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in d["vertices"]) else None

    details = until(running, "running")
    save("job_details_running", h.get(R + f"/jobs/{jid}"))
    save("jobs_overview", h.get(R + "/jobs/overview"))
    until(lambda: h.get(R + f"/jobs/{jid}/checkpoints").json()["counts"]["completed"] >= 2, "ckpts")
    cps = save("checkpoints", h.get(R + f"/jobs/{jid}/checkpoints"))
    save(
        "checkpoint_details", h.get(R + f"/jobs/{jid}/checkpoints/details/{cps['latest']['completed']['id']}")
    )
    save("error_checkpoint_details_unknown", h.get(R + f"/jobs/{jid}/checkpoints/details/999999"))
    save("checkpoint_config", h.get(R + f"/jobs/{jid}/checkpoints/config"))
    trig = save("checkpoint_trigger", h.post(R + f"/jobs/{jid}/checkpoints", json={"checkpointType": "FULL"}))
    save("checkpoint_trigger_status_first", h.get(R + f"/jobs/{jid}/checkpoints/{trig['request-id']}"))
    until(
        lambda: (
            h.get(R + f"/jobs/{jid}/checkpoints/{trig['request-id']}").json()["status"]["id"] == "COMPLETED"
        ),
        "ck trig",
    )
    save("checkpoint_trigger_status", h.get(R + f"/jobs/{jid}/checkpoints/{trig['request-id']}"))
    save(
        "error_checkpoint_trigger_unknown",
        h.get(R + f"/jobs/{jid}/checkpoints/00000000000000000000000000000001"),
    )
    save(
        "error_checkpoint_trigger_bad_type",
        h.post(R + f"/jobs/{jid}/checkpoints", json={"checkpointType": "WEIRD"}),
    )
    trig = save(
        "savepoint_trigger",
        h.post(R + f"/jobs/{jid}/savepoints", json={"cancel-job": False, "formatType": "CANONICAL"}),
    )
    save("savepoint_status_first", h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}"))
    until(
        lambda: (
            h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}").json()["status"]["id"] == "COMPLETED"
        ),
        "sp",
    )
    sp = save("savepoint_status", h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}"))
    trig = save(
        "savepoint_trigger_bad_dir",
        h.post(
            R + f"/jobs/{jid}/savepoints",
            json={"cancel-job": False, "target-directory": "file:///proc/no-such-place"},
        ),
    )
    until(
        lambda: (
            h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}").json()["status"]["id"] == "COMPLETED"
        ),
        "sp fail",
    )
    save("savepoint_status_failed", h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}"))
    save(
        "error_savepoint_trigger_unknown",
        h.get(R + f"/jobs/{jid}/savepoints/00000000000000000000000000000001"),
    )
    save(
        "error_savepoint_trigger_bad_format",
        h.post(R + f"/jobs/{jid}/savepoints", json={"formatType": "WEIRD"}),
    )
    save(
        "job_metrics",
        h.get(
            R + f"/jobs/{jid}/metrics",
            params={"get": "numRestarts,fullRestarts,numberOfCompletedCheckpoints,uptime"},
        ),
    )
    save("job_metrics_list", h.get(R + f"/jobs/{jid}/metrics"))
    vids = [v["id"] for v in details["vertices"]]
    q = {
        "get": "busyTimeMsPerSecond,backPressuredTimeMsPerSecond,idleTimeMsPerSecond,numRecordsInPerSecond,numRecordsOutPerSecond,counter.totalCount",
        "agg": "min,max,avg,sum",
    }
    t1 = time.monotonic()
    until(
        lambda: len(h.get(R + f"/jobs/{jid}/vertices/{vids[1]}/subtasks/metrics", params=q).json()) >= 5,
        "metrics",
        30,
    )
    print("fresh vertex metrics after", time.monotonic() - t1)
    save(
        "vertex_metrics_source",
        h.get(
            R + f"/jobs/{jid}/vertices/{vids[0]}/subtasks/metrics",
            params={
                "get": "busyTimeMsPerSecond,numRecordsOutPerSecond,Source__seq.numRecordsOutPerSecond",
                "agg": "min,max,avg,sum,skew",
            },
        ),
    )
    save(
        "job_metrics_fresh",
        h.get(
            R + f"/jobs/{jid}/metrics",
            params={"get": "numRestarts,fullRestarts,numberOfCompletedCheckpoints,uptime"},
        ),
    )
    save("vertex_metrics", h.get(R + f"/jobs/{jid}/vertices/{vids[1]}/subtasks/metrics", params=q))
    save("vertex_metrics_list", h.get(R + f"/jobs/{jid}/vertices/{vids[1]}/subtasks/metrics"))
    save(
        "jobmanager_metrics",
        h.get(
            R + "/jobmanager/metrics",
            params={"get": "taskSlotsTotal,taskSlotsAvailable,Status.JVM.Memory.Heap.Used"},
        ),
    )
    tm = h.get(R + "/taskmanagers").json()["taskmanagers"][0]["id"]
    save(
        "taskmanager_metrics",
        h.get(
            R + f"/taskmanagers/{tm}/metrics",
            params={"get": "Status.JVM.Memory.Heap.Used,Status.JVM.Memory.Heap.Max"},
        ),
    )
    save(
        "taskmanagers_metrics_agg",
        h.get(
            R + "/taskmanagers/metrics",
            params={
                "get": "Status.JVM.Memory.Heap.Used,Status.JVM.Memory.Heap.Max",
                "agg": "min,max,avg,sum",
            },
        ),
    )
    rr = save("resource_requirements", h.get(R + f"/jobs/{jid}/resource-requirements"))
    save(
        "resource_requirements_put",
        h.put(
            R + f"/jobs/{jid}/resource-requirements",
            json={k: {"parallelism": {"lowerBound": 1, "upperBound": 2}} for k in rr},
        ),
    )
    save(
        "error_resource_requirements_bad",
        h.put(
            R + f"/jobs/{jid}/resource-requirements",
            json={"nonsense": {"parallelism": {"lowerBound": 1, "upperBound": 2}}},
        ),
    )
    t1 = time.monotonic()
    until(
        lambda: all(
            v["parallelism"] == 2 and v["status"] == "RUNNING"
            for v in h.get(R + f"/jobs/{jid}").json()["vertices"]
        ),
        "rescale",
        90,
    )
    print("rescaled in", time.monotonic() - t1)
    save("job_details_rescaled", h.get(R + f"/jobs/{jid}"))
    save("exceptions_running", h.get(R + f"/jobs/{jid}/exceptions"))
    save(
        "error_rr_unknown_vertex",
        h.put(
            R + f"/jobs/{jid}/resource-requirements",
            json={"0" * 32: {"parallelism": {"lowerBound": 1, "upperBound": 2}}},
        ),
    )
    time.sleep(0.6)
    until(lambda: h.get(R + f"/jobs/{jid}/metrics", params={"get": "numRestarts"}).json(), "job metrics")
    time.sleep(10.5)  # past metrics.fetcher.update-interval: the next read triggers a fetch
    h.get(R + f"/jobs/{jid}/metrics", params={"get": "numRestarts"})
    time.sleep(0.5)
    save(
        "job_metrics_after_rescale",
        h.get(R + f"/jobs/{jid}/metrics", params={"get": "numRestarts,fullRestarts,numRescales"}),
    )
    trig = save("stop_trigger", h.post(R + f"/jobs/{jid}/stop", json={"drain": False}))
    until(
        lambda: (
            h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}").json()["status"]["id"] == "COMPLETED"
        ),
        "stop",
    )
    stop = save("stop_status", h.get(R + f"/jobs/{jid}/savepoints/{trig['request-id']}"))
    until(lambda: h.get(R + f"/jobs/{jid}/status").json()["status"] == "FINISHED", "finished")
    save("job_status_finished", h.get(R + f"/jobs/{jid}/status"))
    save("execution_result_finished", h.get(R + f"/jobs/{jid}/execution-result"))
    t = save("error_stop_finished_job", h.post(R + f"/jobs/{jid}/stop", json={"drain": False}))
    poll_save("error_stop_finished_job_status", f"/jobs/{jid}/savepoints/{t['request-id']}")
    save("cancel_finished_job", h.patch(R + f"/jobs/{jid}", params={"mode": "cancel"}))
    # resume
    run2 = save(
        "jar_run_resume",
        h.post(
            R + f"/jars/{jar_id}/run",
            json={
                "entryClass": PROBE,
                "parallelism": 2,
                "savepointPath": stop["operation"]["location"],
                "programArgsList": ["--sleepMs", "10", "--checkpointMs", "500"],
            },
        ),
    )
    jid2 = run2["jobid"]
    until(lambda: h.get(R + f"/jobs/{jid2}/checkpoints").json()["latest"].get("restored"), "restored")
    save("checkpoints_restored", h.get(R + f"/jobs/{jid2}/checkpoints"))
    save("cancel", h.patch(R + f"/jobs/{jid2}", params={"mode": "cancel"}))
    until(lambda: h.get(R + f"/jobs/{jid2}/status").json()["status"] == "CANCELED", "canceled")
    save("execution_result_canceled", h.get(R + f"/jobs/{jid2}/execution-result"))
    save("cancel_again", h.patch(R + f"/jobs/{jid2}", params={"mode": "cancel"}))
    save(
        "error_jar_run_duplicate_job_id",
        h.post(R + f"/jars/{jar_id}/run", json={"entryClass": PROBE, "jobId": jid2, "programArgsList": []}),
    )
    t = save(
        "error_savepoint_canceled_job", h.post(R + f"/jobs/{jid2}/savepoints", json={"cancel-job": False})
    )
    poll_save("error_savepoint_canceled_job_status", f"/jobs/{jid2}/savepoints/{t['request-id']}")
    # restore from a savepoint that does not exist
    bad = save(
        "jar_run_missing_savepoint",
        h.post(
            R + f"/jars/{jar_id}/run",
            json={
                "entryClass": PROBE,
                "parallelism": 1,
                "savepointPath": "file:///no/such/savepoint",
                "programArgsList": [],
            },
        ),
    )
    if "jobid" in bad:
        until(
            lambda: (
                h.get(R + f"/jobs/{bad['jobid']}/status").json()["status"]
                in ("FAILED", "FINISHED", "CANCELED")
            ),
            "missing sp fails",
        )
        save("job_status_missing_savepoint", h.get(R + f"/jobs/{bad['jobid']}/status"))
        save("execution_result_missing_savepoint", h.get(R + f"/jobs/{bad['jobid']}/execution-result"))
        time.sleep(0.6)
        save("exceptions_missing_savepoint", h.get(R + f"/jobs/{bad['jobid']}/exceptions"))
    # failing job
    run3 = save(
        "jar_run_failing",
        h.post(
            R + f"/jars/{jar_id}/run",
            json={
                "entryClass": PROBE,
                "parallelism": 1,
                "programArgsList": ["--sleepMs", "1", "--failAtCount", "20"],
                "flinkConfiguration": {"restart-strategy.type": "none"},
            },
        ),
    )
    jid3 = run3["jobid"]
    until(lambda: h.get(R + f"/jobs/{jid3}/status").json()["status"] == "FAILED", "failed")
    save("job_status_failed", h.get(R + f"/jobs/{jid3}/status"))
    save("execution_result_failed", h.get(R + f"/jobs/{jid3}/execution-result"))
    time.sleep(0.6)
    save("exceptions_failed", h.get(R + f"/jobs/{jid3}/exceptions"))
    save("job_details_failed", h.get(R + f"/jobs/{jid3}"))
    save("error_checkpoint_config_disabled", h.get(R + f"/jobs/{jid3}/checkpoints/config"))
    # disposal
    trig = save(
        "disposal_trigger",
        h.post(R + "/savepoint-disposal", json={"savepoint-path": sp["operation"]["location"]}),
    )
    until(
        lambda: h.get(R + f"/savepoint-disposal/{trig['request-id']}").json()["status"]["id"] == "COMPLETED",
        "disp",
    )
    save("disposal_status", h.get(R + f"/savepoint-disposal/{trig['request-id']}"))
    trig = save(
        "disposal_trigger_missing",
        h.post(R + "/savepoint-disposal", json={"savepoint-path": "file:///no/such/savepoint"}),
    )
    until(
        lambda: h.get(R + f"/savepoint-disposal/{trig['request-id']}").json()["status"]["id"] == "COMPLETED",
        "disp2",
    )
    save("disposal_status_failed", h.get(R + f"/savepoint-disposal/{trig['request-id']}"))
    save("error_disposal_unknown_trigger", h.get(R + "/savepoint-disposal/00000000000000000000000000000001"))
    # errors
    unknown = "0123456789abcdef0123456789abcdef"
    save("error_job_status_unknown", h.get(R + f"/jobs/{unknown}/status"))
    save("error_job_details_unknown", h.get(R + f"/jobs/{unknown}"))
    save("error_job_checkpoints_unknown", h.get(R + f"/jobs/{unknown}/checkpoints"))
    save("error_execution_result_unknown", h.get(R + f"/jobs/{unknown}/execution-result"))
    save("error_exceptions_unknown", h.get(R + f"/jobs/{unknown}/exceptions"))
    save("error_cancel_unknown", h.patch(R + f"/jobs/{unknown}", params={"mode": "cancel"}))
    t = save(
        "error_savepoint_unknown_job", h.post(R + f"/jobs/{unknown}/savepoints", json={"cancel-job": False})
    )
    poll_save("error_savepoint_unknown_job_status", f"/jobs/{unknown}/savepoints/{t['request-id']}")
    t = save("error_stop_unknown_job", h.post(R + f"/jobs/{unknown}/stop", json={"drain": False}))
    poll_save("error_stop_unknown_job_status", f"/jobs/{unknown}/savepoints/{t['request-id']}")
    t = save("error_checkpoint_unknown_job", h.post(R + f"/jobs/{unknown}/checkpoints", json={}))
    poll_save("error_checkpoint_unknown_job_status", f"/jobs/{unknown}/checkpoints/{t['request-id']}")
    save("error_metrics_unknown_job", h.get(R + f"/jobs/{unknown}/metrics", params={"get": "numRestarts"}))
    save("error_rr_unknown_job", h.get(R + f"/jobs/{unknown}/resource-requirements"))
    save("error_job_bad_id", h.get(R + "/jobs/not-a-job-id/status"))
    save("error_unknown_route", h.get(R + "/no/such/route"))
    save("error_jar_delete_unknown", h.delete(R + "/jars/nope.jar"))
    save("jar_delete", h.delete(R + f"/jars/{jar_id}"))
    save(
        "error_bad_json",
        h.post(
            R + f"/jobs/{jid2}/savepoints", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
    )
    save("cluster_shutdown", h.delete(R + "/cluster"))


async def main() -> None:
    url = await start()
    try:
        await asyncio.to_thread(capture, url)
    finally:
        await stop_cluster()
        left = processes_with_marker(str(work))
        kill_all(left)
        print("left after stop:", left)


asyncio.run(main())
