"""Pure parts of events and leader election: deterministic event names, lease decisions, timing checks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from flink_operator.config import Configuration
from flink_operator.runtime import (
    Component,
    EventTarget,
    Kind,
    LeaderElectionConfig,
    Reason,
    Result,
    combine_selectors,
    decide,
    event_name,
)
from flink_operator.runtime.leader import Decision, LeaseRecord

pytestmark = pytest.mark.unit


def test_event_names_are_deterministic_valid_and_distinguish_their_inputs() -> None:
    args = (
        "Job", "JobStatusChanged", "Job status changed to RUNNING", "Normal", "FlinkDeployment", "fd", "uid",
    )
    name = event_name(*args)
    assert name == event_name(*args)
    assert re.fullmatch(r"job\.[0-9a-f]{16}", name)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", name)
    variants = set()
    for i in range(1, len(args)):
        changed = list(args)
        changed[i] = "changed"
        variants.add(event_name(*changed))
    assert name not in variants and len(variants) == len(args) - 1


def test_event_target_from_an_object() -> None:
    target = EventTarget.of({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "c", "namespace": "n", "uid": "u", "resourceVersion": "5"}})
    assert (target.key, target.uid, target.resource_version) == (("n", "c"), "u", "5")


def test_reason_vocabulary_matches_upstream_spelling() -> None:
    assert str(Reason.SPEC_CHANGED) == "SpecChanged"
    assert str(Reason.JOB_STATUS_CHANGED) == "JobStatusChanged"
    assert str(Component.JOB_MANAGER_DEPLOYMENT) == "JobManagerDeployment"


def _record(holder: str, rv: str = "1", duration: float = 15) -> LeaseRecord:
    return LeaseRecord(holder, lease_duration=duration, transitions=0, resource_version=rv, renew_time="")


def test_lease_decisions() -> None:
    assert decide(None, "me", 0, 0) is Decision.CREATE
    assert decide(_record("me"), "me", 0, 100) is Decision.RENEW
    assert decide(_record(""), "me", 0, 0) is Decision.TAKE_OVER
    assert decide(_record("other"), "me", observed_at=10, now=24.9) is Decision.WAIT
    assert decide(_record("other"), "me", observed_at=10, now=25.0) is Decision.TAKE_OVER


def test_leader_election_config_defaults_come_from_the_operator_options() -> None:
    config = LeaderElectionConfig.from_configuration(Configuration({}), "ops", "me")
    assert (config.lease_name, config.lease_duration, config.renew_deadline, config.retry_period) == (
        "flink-operator-lease", 15.0, 10.0, 2.0,
    )


def test_leader_election_timing_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="lease-duration > renew-deadline > retry-period"):
        LeaderElectionConfig("l", "ns", "me", lease_duration=10, renew_deadline=10, retry_period=2)
    with pytest.raises(ValueError, match="lease name"):
        LeaderElectionConfig("", "ns", "me")


def test_result_helpers_and_validation() -> None:
    assert Result.after(timedelta(minutes=1)).requeue_after == 60.0
    assert Result.now().requeue_after == 0.0 and Result.done().requeue_after is None
    with pytest.raises(ValueError, match="requeue_after"):
        Result(-1)


def test_kind_paths() -> None:
    fd = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
    assert fd.collection_path("ns") == "/apis/flink.apache.org/v1beta1/namespaces/ns/flinkdeployments"
    assert fd.collection_path(None) == "/apis/flink.apache.org/v1beta1/flinkdeployments"
    assert fd.object_path("x", "ns", "status").endswith("/namespaces/ns/flinkdeployments/x/status")
    assert Kind("", "v1", "Namespace", "namespaces", False).object_path("x") == "/api/v1/namespaces/x"
    with pytest.raises(ValueError, match="namespace is required"):
        fd.object_path("x")


def test_kind_of_a_lightkube_resource() -> None:
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import Namespace

    assert Kind.of(Deployment) == Kind("apps", "v1", "Deployment", "deployments", True)
    assert Kind.of(Namespace).namespaced is False


def test_label_selectors_combine_with_and() -> None:
    assert combine_selectors("a=b", None, " c in (d) ") == "a=b,c in (d)"
    assert combine_selectors(None, "") is None
