"""Offline validation of a set of documents: classification, cross-document lookups, canaries, notes."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
import yaml
from tests.support.resource_builders import (
    application,
    savepoint_snapshot,
    session_cluster,
    session_job,
    with_field,
)

from flink_operator.api import FlinkResource
from flink_operator.config import DefaultConfiguration
from flink_operator.validation import ValidationContext, offline_resolver
from flink_operator.validation.offline import Finding, OfflineValidation
from flink_operator.validation.sources import read_documents

pytestmark = pytest.mark.unit


def run(*documents: object, strict: bool = False, plugins: object = None) -> list[Finding]:
    text = "---\n".join(yaml.safe_dump(d) if not isinstance(d, str) else d for d in documents)
    checker = OfflineValidation(
        ValidationContext(DefaultConfiguration(values={}), resolve_host=offline_resolver), strict=strict
    )
    parsed, errors = read_documents("set.yaml", text)
    checker.add_errors(errors)
    checker.add_documents(parsed)
    return asyncio.run(checker.validate(plugins))  # type: ignore[arg-type]


def problems(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings if f.severity == "problem"]


def notes(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings if f.severity == "note"]


def test_session_jobs_are_checked_against_their_cluster_in_the_same_set() -> None:
    job = with_field(session_job(), "spec.job.parallelism", 0)
    alone = run(job)
    assert problems(alone) == []
    assert notes(alone) == [
        "set.yaml:1: note: FlinkSessionJob default/job: its session cluster FlinkDeployment default/session "
        "is not among the files checked; the checks that need it were skipped"
    ]
    together = run(session_cluster(), job)
    assert problems(together) == [
        "set.yaml:30: FlinkSessionJob default/job: spec.job.parallelism: must be > 0 (got 0)"
    ]


def test_snapshot_targets_are_looked_up_in_the_set() -> None:
    assert problems(run(savepoint_snapshot())) == []
    assert notes(run(savepoint_snapshot()))[0].endswith(
        "its target FlinkDeployment default/basic is not among the files checked; the checks that need it "
        "were skipped"
    )
    found = run(application(), savepoint_snapshot())
    assert problems(found) == [] and notes(found) == []
    wrong = run(session_cluster("basic"), savepoint_snapshot())
    assert len(problems(wrong)) == 1 and "session cluster" in problems(wrong)[0]


def test_canaries_are_accepted_as_is() -> None:
    canary = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "canary", "labels": {"flink.apache.org/canary": "true"}},
    }
    findings = run(canary)
    assert problems(findings) == []
    assert "canary resource" in notes(findings)[0]


def test_a_resource_defined_twice_gets_a_note() -> None:
    findings = run(application(), application())
    assert problems(findings) == []
    assert "defined again (first at set.yaml:1)" in notes(findings)[0]


def test_non_objects_and_unknown_flink_kinds_are_problems() -> None:
    findings = run("- just\n- a list\n", {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkCluster"})
    assert problems(findings) == [
        "set.yaml:1: expected a Kubernetes object (apiVersion, kind, metadata, spec), got a list",
        'set.yaml:5: FlinkCluster default/<unnamed>: kind: unknown kind string "FlinkCluster"; expected one '
        "of FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot",
    ]


def test_strict_mode_turns_skips_into_problems() -> None:
    other = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
    bare = textwrap.dedent("just: data\n")
    assert problems(run(other, bare)) == []
    assert problems(run(other, bare, strict=True)) == [
        "set.yaml:1: Service default/web: not a Flink resource (FlinkDeployment, FlinkSessionJob, "
        "FlinkStateSnapshot of flink.apache.org)",
        "set.yaml:6: <no kind> default/<unnamed>: not a Kubernetes object (no apiVersion and kind)",
    ]


def test_plugin_messages_are_attributed_and_located_at_the_document() -> None:
    async def plugins(resource: FlinkResource, related: object) -> list[tuple[str, str]]:
        return [("owners", f"{resource.metadata.name} has no owner")]

    findings = run(application(), plugins=plugins)
    assert problems(findings) == ["set.yaml:1: FlinkDeployment default/basic: [owners] basic has no owner"]
