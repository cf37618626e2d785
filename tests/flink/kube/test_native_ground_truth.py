"""Ground truth with real Flink: the checked-in native references still match what Flink creates, and Flink
reads the configuration files our builders write.

1. Each scenario is captured again (the Flink CLI of the version against the API emulator) and compared with
   the reviewed reference files the unit tests use, so a drift of Flink or of the capture shows up here.
2. Flink's own configuration loader (`GlobalConfiguration`, run through `jshell` with flink-dist on the
   class path) reads the `config.yaml` / `flink-conf.yaml` we render; the typed values it sees (lists,
   maps, owner references, program arguments containing `;`) must be the ones we meant.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.kube_cases import CASES
from tests.support.native_reference import capture, flink_home, load_reference, scenarios

from flink_operator.kube.cluster_objects import build_cluster_objects

pytestmark = pytest.mark.flink

VERSIONS = [
    pytest.param("v2_3", id="flink2"),
    pytest.param("v1_20", id="flink120", marks=pytest.mark.flink120),
]


def _home(version: str) -> Path:
    home = flink_home(version)
    if home is None or shutil.which("java") is None:
        pytest.skip(f"no Flink distribution or Java for {version} (scripts/setup.sh --tests installs them)")
    return home


@pytest.mark.parametrize("version", VERSIONS)
def test_references_match_a_fresh_capture(version: str) -> None:
    _home(version)
    for scenario in scenarios(version):
        fresh = capture(version, scenario)
        stored = load_reference(version, scenario.name)
        assert fresh.objects == stored.objects, (
            f"{version}/{scenario.name}: objects differ from the reference"
        )
        assert fresh.inputs == stored.inputs, f"{version}/{scenario.name}: inputs differ from the reference"


CHECK = """\
import org.apache.flink.configuration.*;
import org.apache.flink.client.deployment.application.ApplicationConfiguration;
import org.apache.flink.kubernetes.configuration.KubernetesConfigOptions;
var c = GlobalConfiguration.loadConfiguration(System.getProperty("confdir"));
System.out.println("ARGS=" + c.get(ApplicationConfiguration.APPLICATION_ARGS));
System.out.println("MAIN=" + c.get(ApplicationConfiguration.APPLICATION_MAIN_CLASS));
System.out.println("JARS=" + c.get(PipelineOptions.JARS));
System.out.println("OWNERS=" + c.get(KubernetesConfigOptions.JOB_MANAGER_OWNER_REFERENCE).size());
System.out.println("PARALLELISM=" + c.get(CoreOptions.DEFAULT_PARALLELISM));
System.out.println("SLOTS=" + c.get(TaskManagerOptions.NUM_TASK_SLOTS));
System.out.println("RPC=" + c.get(JobManagerOptions.ADDRESS));
System.out.println("TEMPLATE=" + c.get(KubernetesConfigOptions.TASK_MANAGER_POD_TEMPLATE));
/exit
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_flink_reads_our_configuration_files(version: str, tmp_path: Path) -> None:
    home = _home(version)
    jshell = shutil.which("jshell")
    if jshell is None:
        pytest.skip("jshell (from a JDK) is needed to run Flink's configuration loader")
    spec = CASES[f"{version}-native-application"]
    built = build_cluster_objects(spec)
    file_name = spec.flink_version.config_file_name
    (tmp_path / file_name).write_text(built.config_map["data"][file_name])
    script = tmp_path / "check.jsh"
    script.write_text(CHECK)
    dist = next((home / "lib").glob("flink-dist-*.jar"))
    done = subprocess.run(
        [jshell, f"-R-Dconfdir={tmp_path}", "--class-path", str(dist), str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and line[0].isupper())
    assert seen == {
        "ARGS": "[--mode, a;b]",
        "MAIN": "org.example.Main",
        "JARS": "[local:///opt/flink/usrlib/job.jar]",
        "OWNERS": "1",
        "PARALLELISM": "3",
        "SLOTS": "2",
        "RPC": "app.flink",
        "TEMPLATE": "/opt/flink/pod-template/taskmanager-pod-template.yaml",
    }, done.stdout + done.stderr
