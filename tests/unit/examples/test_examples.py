"""Every example under examples/ is valid: no problem from the default validator (all checked together, so
session jobs find their clusters and snapshots their targets), a header comment saying what it shows and how
to run it, and the features of upstream's examples table covered."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

import pytest

from flink_operator.config import DefaultConfiguration
from flink_operator.validation import ValidationContext, offline_resolver
from flink_operator.validation.offline import Finding, OfflineValidation
from flink_operator.validation.sources import read_file, yaml_files

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
FILES = [path.relative_to(ROOT).as_posix() for path in yaml_files([EXAMPLES])[0]]


@cache
def findings() -> tuple[Finding, ...]:
    context = ValidationContext(DefaultConfiguration(values={}), resolve_host=offline_resolver)
    checker = OfflineValidation(context)
    for name in FILES:
        documents, errors = read_file(ROOT / name, name)
        checker.add_errors(errors)
        checker.add_documents(documents)
    return tuple(asyncio.run(checker.validate()))


@pytest.mark.parametrize("name", FILES)
def test_example_has_no_problems(name: str) -> None:
    problems = [str(f) for f in findings() if f.file == name and f.severity == "problem"]
    assert problems == []


@pytest.mark.parametrize("name", FILES)
def test_example_references_resolve(name: str) -> None:
    unresolved = [str(f) for f in findings() if f.file == name and "not among the files checked" in f.message]
    assert unresolved == []


@pytest.mark.parametrize("name", FILES)
def test_example_starts_with_what_and_how(name: str) -> None:
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert len(header) >= 2, f"{name} must start with a comment saying what it shows and how to run it"
    assert any("Run:" in line for line in header), f"{name}: the header must say how to run it"


FEATURES = {
    "basic application": "basic.yaml",
    "checkpointing and HA": "basic-checkpoint-ha.yaml",
    "standalone and reactive mode": "basic-reactive.yaml",
    "session cluster only": "basic-session-deployment-only.yaml",
    "session job only": "basic-session-job-only.yaml",
    "session cluster and job": "basic-session-deployment-and-job.yaml",
    "ingress by host": "basic-ingress.yaml",
    "ingress by path with rewrite": "advanced-ingress.yaml",
    "pod templates": "pod-template.yaml",
    "custom logging": "custom-logging.yaml",
    "canary": "canary.yaml",
    "autoscaling": "autoscaling/autoscaling.yaml",
    "python job": "python-example.yaml",
    "SQL runner": "sql-runner/sql-runner.yaml",
    "checkpoint snapshot": "snapshot/checkpoint.yaml",
    "savepoint with job defaults": "snapshot/savepoint-job-defaults.yaml",
    "full savepoint": "snapshot/savepoint.yaml",
    "existing savepoint": "snapshot/savepoint-already-exists.yaml",
    "job from a snapshot": "snapshot/job-from-snapshot.yaml",
}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_feature_has_an_example(feature: str) -> None:
    assert f"examples/{FEATURES[feature]}" in FILES


def test_every_example_has_a_flink_resource() -> None:
    documents = {name: read_file(ROOT / name, name)[0] for name in FILES}
    for name, docs in documents.items():
        kinds = [d.data.get("kind") for d in docs if isinstance(d.data, dict)]
        assert any(kind and kind.startswith("Flink") for kind in kinds), name
