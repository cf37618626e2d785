"""Wire-level helpers: names, media negotiation, protobuf bodies, JSONPath, table ages, admission rules."""

from __future__ import annotations

import base64

import pytest

from kube_emulator.admission import _rule_matches
from kube_emulator.builtin_kinds import BUILTIN_TYPES
from kube_emulator.errors import ApiError
from kube_emulator.jsonpath import find
from kube_emulator.media import negotiate
from kube_emulator.meta import name_causes
from kube_emulator.protobuf import decode
from kube_emulator.tables import human_duration
from kube_emulator.writes import AdmissionRequest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "rule", "valid"),
    [
        ("my-app.v1", "subdomain", True),
        ("My_App", "subdomain", False),
        ("a" * 254, "subdomain", False),
        ("team-a", "label", True),
        ("team.a", "label", False),
        ("1svc", "dns1035", False),
        ("svc-1", "dns1035", True),
        ("system:controller:x", "path", True),
        ("a/b", "path", False),
    ],
)
def test_name_rules(name: str, rule: str, valid: bool) -> None:
    assert (not name_causes(name, rule)) is valid


def test_accept_negotiation() -> None:
    assert negotiate("application/json").as_kind == ""
    table = negotiate("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", allow_table=True)
    assert table.as_kind == "Table"
    assert negotiate("application/vnd.kubernetes.protobuf,application/json").format == "json"
    with pytest.raises(ApiError) as error:
        negotiate("application/vnd.kubernetes.protobuf")
    assert error.value.code == 406


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_protobuf_configmap_body_is_decoded() -> None:
    metadata = _field(1, b"conf") + _field(11, _field(1, b"app") + _field(2, b"x"))
    configmap = _field(1, metadata) + _field(2, _field(1, b"a") + _field(2, b"1"))
    envelope = _field(1, _field(1, b"v1") + _field(2, b"ConfigMap")) + _field(2, configmap)
    assert decode(b"k8s\x00" + envelope) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "conf", "labels": {"app": "x"}},
        "data": {"a": "1"},
    }
    secret = _field(1, _field(1, b"s")) + _field(2, _field(1, b"k") + _field(2, b"\x00\xff"))
    envelope = _field(1, _field(1, b"v1") + _field(2, b"Secret")) + _field(2, secret)
    assert decode(b"k8s\x00" + envelope)["data"] == {"k": base64.b64encode(b"\x00\xff").decode()}


def test_protobuf_body_of_an_unknown_kind_is_415() -> None:
    envelope = _field(1, _field(1, b"v1") + _field(2, b"Pod")) + _field(2, b"")
    with pytest.raises(ApiError) as error:
        decode(b"k8s\x00" + envelope)
    assert error.value.code == 415


def test_jsonpath_fields_indexes_and_filters() -> None:
    obj = {
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Other", "status": "False"}]}
    }
    assert find(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert find(obj, ".status.conditions[1].type") == ["Other"]
    assert find(obj, "{.status.conditions[*].type}") == ["Ready", "Other"]
    assert find(obj, ".status.missing") == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 3600, "3d1h"),
        (40 * 86400, "40d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_durations_match_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_admission_rules_match_operations_resources_and_subresources() -> None:
    deployments = next(rt for rt in BUILTIN_TYPES if rt.plural == "deployments")

    def request(operation: str, sub: str = "") -> AdmissionRequest:
        return AdmissionRequest(deployments, operation, "default", "d", {}, None, sub, False, {})

    rule = {
        "operations": ["CREATE"],
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "resources": ["deployments"],
    }
    assert _rule_matches(rule, request("CREATE")) and not _rule_matches(rule, request("UPDATE"))
    assert not _rule_matches(rule, request("CREATE", "status"))
    wildcard = {"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/status"]}
    assert _rule_matches(wildcard, request("UPDATE", "status")) and not _rule_matches(
        wildcard, request("UPDATE")
    )
    cluster_only = {**wildcard, "resources": ["*"], "scope": "Cluster"}
    assert not _rule_matches(cluster_only, request("CREATE"))
