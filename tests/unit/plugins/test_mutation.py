"""Running mutators: the default mutator, the documented order, and all-or-nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from tests.support.plugin_files import write_files
from tests.support.plugin_resources import SECRET_CONFIG_VALUE, deployment, session_job, snapshot

from flink_operator.api import LABEL_TARGET_SESSION
from flink_operator.plugins._default_mutator import DefaultFlinkMutator
from flink_operator.plugins._host import PluginHost
from flink_operator.plugins._mutation import MutatorFailure

pytestmark = pytest.mark.unit

C = "tests.support.plugin_classes"
M = "kubernetes.operator.plugins.mutators."
MakeHost = Callable[..., PluginHost]


def test_default_mutator_labels_session_jobs_with_their_session() -> None:
    mutator = DefaultFlinkMutator()
    job = mutator.mutate_session_job(session_job(deployment_name="shared"), None)
    assert job.metadata.labels == {LABEL_TARGET_SESSION: "shared"}
    relabelled = mutator.mutate_session_job(
        session_job(deployment_name="new-session", **{LABEL_TARGET_SESSION: "old-session", "team": "a"}), None
    )
    assert relabelled.metadata.labels == {LABEL_TARGET_SESSION: "new-session", "team": "a"}
    unnamed = mutator.mutate_session_job(session_job(deployment_name=None), None)
    assert unnamed.metadata.labels is None
    untouched = deployment()
    assert mutator.mutate_deployment(untouched) is untouched
    shot = snapshot()
    assert mutator.mutate_state_snapshot(shot) is shot


async def test_host_runs_the_default_mutator_first(make_host: MakeHost) -> None:
    result = await make_host().mutators.mutate(session_job(deployment_name="shared"))
    assert result.resource.metadata.labels == {LABEL_TARGET_SESSION: "shared"}
    assert result.changed_by == ("default",)
    assert (await make_host().mutators.mutate_session_job(result.resource, None)).changed is False


@pytest.mark.usefixtures("isolated_imports")
async def test_mutators_run_in_the_documented_order(make_host: MakeHost, tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    for name in ("zz-dir", "aa-dir"):
        write_files(
            plugins_dir / name,
            {
                "order_mutator.py": f"""
                    from {C} import OrderRecordingMutator

                    class DirMutator(OrderRecordingMutator):
                        pass
                """
            },
        )
    points = [
        EntryPoint("b-ep", f"{C}:OrderRecordingMutator", "flink_operator.mutators"),
        EntryPoint("a-ep", f"{C}:OrderRecordingMutator", "flink_operator.mutators"),
    ]
    config = {M + "m.class": f"{C}:OrderRecordingMutator", M + "c.class": f"{C}:OrderRecordingMutator"}
    for name in ("a-ep", "b-ep", "aa-dir", "zz-dir", "c", "m"):
        config[f"{M}{name}.tag"] = name
    host = make_host(config, plugins_dir=plugins_dir, entry_points=points)
    assert host.mutators.names == ("default", "a-ep", "b-ep", "aa-dir", "zz-dir", "c", "m")
    result = await host.mutators.mutate_deployment(deployment())
    assert (result.resource.metadata.annotations or {})["order"] == "a-ep,b-ep,aa-dir,zz-dir,c,m"
    assert result.changed_by == ("a-ep", "b-ep", "aa-dir", "zz-dir", "c", "m")


async def test_a_failing_mutator_changes_nothing_and_the_rest_continue(make_host: MakeHost) -> None:
    host = make_host(
        {
            "kubernetes.operator.plugins.call-timeout": "1 s",
            M + "a-first.class": f"{C}:LabelMutator",
            M + "a-first.label": "first",
            M + "b-raises.class": f"{C}:HalfWayRaisingMutator",
            M + "c-renames.class": f"{C}:RenamingMutator",
            M + "d-wrong-type.class": f"{C}:WrongTypeMutator",
            M + "e-in-place.class": f"{C}:NoneReturningMutator",
            M + "f-last.class": f"{C}:LabelMutator",
            M + "f-last.label": "last",
        }
    )
    original = deployment()
    result = await host.mutators.mutate_deployment(original)
    assert result.resource.metadata.name == "orders"
    assert result.resource.metadata.labels == {
        "first": "LabelMutator",
        "in-place": "yes",
        "last": "LabelMutator",
    }
    assert result.changed_by == ("a-first", "e-in-place", "f-last")
    assert result.failures == (
        MutatorFailure("b-raises", "RuntimeError: mutator bug"),
        MutatorFailure("c-renames", "it changed metadata.name, which mutators may not"),
        MutatorFailure("d-wrong-type", "it returned dict, expected FlinkDeployment"),
    )
    assert str(result.failures[0]) == "mutator 'b-raises' skipped: RuntimeError: mutator bug"
    assert original.metadata.labels is None  # the caller's object is never changed


def test_sync_convenience(make_host: MakeHost) -> None:
    result = make_host().mutators.mutate_sync(session_job(deployment_name="s"))
    assert result.resource.metadata.labels == {LABEL_TARGET_SESSION: "s"}


async def test_a_mutator_quoting_a_secret_in_its_exception_leaks_it_nowhere(
    make_host: MakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    host = make_host({M + "quoting.class": f"{C}:SecretQuotingMutator"})
    result = await host.mutators.mutate_deployment(deployment(secrets=True))
    (failure,) = result.failures
    assert failure.reason == "ValueError: cannot use ******"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged and "mutator 'quoting' skipped" in logged
    assert SECRET_CONFIG_VALUE not in logged
