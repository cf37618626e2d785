"""Compact cached objects, the store and its indexes, change classification and the secondary mappers."""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import pytest

from flink_operator.runtime import (
    CachedObject,
    Change,
    ChangeType,
    Kind,
    ObjectKey,
    Priority,
    Store,
    field_indexer,
    map_by_field,
    map_by_index,
    map_to_owner,
    map_to_same_key,
    primary_change,
    secondary_change,
)

pytestmark = pytest.mark.unit

FD = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
SJ = Kind("flink.apache.org", "v1beta1", "FlinkSessionJob", "flinksessionjobs")


def obj(
    name: str = "a",
    namespace: str = "ns",
    rv: str = "1",
    generation: int | None = 1,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    **meta: Any,
) -> CachedObject:
    metadata: dict[str, Any] = {
        "name": name, "namespace": namespace, "resourceVersion": rv, "uid": f"uid-{name}",
    }
    if generation is not None:
        metadata["generation"] = generation
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    metadata.update(meta)
    return CachedObject.from_dict(
        {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": metadata,
         "spec": spec or {}, "status": status or {}}
    )


def test_cached_object_exposes_metadata_and_decodes_fresh_copies() -> None:
    cached = obj(labels={"app": "x"}, ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment",
                                                          "name": "d", "uid": "u", "controller": True}],
                 deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["x/y"])
    assert cached.key == ObjectKey("ns", "a")
    assert (cached.resource_version, cached.generation, cached.uid) == ("1", 1, "uid-a")
    assert cached.labels == {"app": "x"} and cached.finalizers == ("x/y",)
    assert cached.deletion_timestamp == "2026-01-01T00:00:00Z"
    assert cached.owners[0].kind == "Deployment" and cached.owners[0].controller
    first = cached.decode()
    first["spec"]["mutated"] = True
    assert "mutated" not in cached.decode()["spec"]


def test_cached_bytes_are_much_smaller_than_the_decoded_dict() -> None:
    document = {
        "metadata": {"name": "big", "namespace": "ns", "resourceVersion": "7"},
        "spec": {"flinkConfiguration": {f"key.number.{i}": f"value-{i}" for i in range(60)},
                 "job": {"jarURI": "local:///opt/flink/job.jar", "parallelism": 2}},
        "status": {"jobStatus": {"state": "RUNNING", "jobId": "0" * 32}},
    }
    cached = CachedObject(msgspec.json.encode(document))

    def deep_size(value: Any) -> int:
        size = sys.getsizeof(value)
        if isinstance(value, dict):
            size += sum(deep_size(k) + deep_size(v) for k, v in value.items())
        elif isinstance(value, list):
            size += sum(deep_size(v) for v in value)
        return size

    assert sys.getsizeof(cached.raw) * 3 < deep_size(document)


def test_store_partitions_by_namespace_and_maintains_indexes() -> None:
    store = Store(SJ, {"deployment": field_indexer("spec", "deploymentName")})
    store.upsert(obj("j1", "ns1", spec={"deploymentName": "session"}))
    store.upsert(obj("j2", "ns1", spec={"deploymentName": "session"}))
    store.upsert(obj("j3", "ns2", spec={"deploymentName": "session"}))
    store.upsert(obj("j4", "ns2", spec={}))
    assert store.by_index("deployment", "ns1/session") == [ObjectKey("ns1", "j1"), ObjectKey("ns1", "j2")]
    assert sorted(store.keys("ns2")) == [ObjectKey("ns2", "j3"), ObjectKey("ns2", "j4")]
    store.upsert(obj("j2", "ns1", rv="2", spec={"deploymentName": "other"}))
    assert store.by_index("deployment", "ns1/session") == [ObjectKey("ns1", "j1")]
    assert store.by_index("deployment", "ns1/other") == [ObjectKey("ns1", "j2")]
    assert store.remove(ObjectKey("ns1", "j1")) is not None
    assert store.by_index("deployment", "ns1/session") == []
    assert store.remove(ObjectKey("ns1", "j1")) is None
    with pytest.raises(KeyError, match="no index 'missing'"):
        store.by_index("missing", "x")


def test_an_index_added_later_covers_existing_objects() -> None:
    store = Store(SJ)
    store.upsert(obj("j1", spec={"deploymentName": "s"}))
    store.add_indexer("deployment", field_indexer("spec", "deploymentName"))
    assert store.by_index("deployment", "ns/s") == [ObjectKey("ns", "j1")]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, obj(), Priority.USER),
        (obj(), None, Priority.USER),
        (obj(rv="1"), obj(rv="1"), None),
        (obj(rv="1"), obj(rv="2", generation=2), Priority.USER),
        (obj(rv="1"), obj(rv="2", labels={"a": "b"}), Priority.USER),
        (obj(rv="1"), obj(rv="2", annotations={"restart": "1"}), Priority.USER),
        (obj(rv="1"), obj(rv="2", deletionTimestamp="2026-01-01T00:00:00Z"), Priority.USER),
        (obj(rv="1"), obj(rv="2", status={"state": "RUNNING"}), None),
        (obj(rv="1"), obj(rv="2", finalizers=["flink.apache.org/finalizer"]), None),
        (obj(rv="1", generation=None), obj(rv="2", generation=None), Priority.USER),
    ],
)
def test_primary_changes_worth_a_reconcile(
    old: CachedObject | None, new: CachedObject | None, expected: Priority | None
) -> None:
    assert primary_change(old, new) == expected


def test_secondary_changes_count_status_changes_but_not_relists() -> None:
    assert secondary_change(obj(rv="1"), obj(rv="2", status={"ready": 1})) == Priority.EVENT
    assert secondary_change(obj(rv="1"), obj(rv="1")) is None
    assert secondary_change(None, obj()) == Priority.EVENT


def test_mappers_from_owner_references_fields_and_indexes() -> None:
    owned = obj(
        "fd-jm", ownerReferences=[
            {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "name": "fd", "uid": "u",
             "controller": True},
            {"apiVersion": "other.io/v1", "kind": "FlinkDeployment", "name": "foreign", "uid": "v"},
        ],
    )
    primary = Store(SJ, {"deployment": field_indexer("spec", "deploymentName")})
    primary.upsert(obj("job", spec={"deploymentName": "session"}))
    assert map_to_owner(FD)(Change(ChangeType.MODIFIED, None, owned), primary) == [ObjectKey("ns", "fd")]

    moved = Change(ChangeType.MODIFIED, obj("job", spec={"deploymentName": "s1"}),
                   obj("job", rv="2", spec={"deploymentName": "s2"}))
    by_field = map_by_field("spec", "deploymentName")
    assert by_field(moved, primary) == [ObjectKey("ns", "s1"), ObjectKey("ns", "s2")]

    session_changed = Change(ChangeType.MODIFIED, None, obj("session"))
    assert map_by_index("deployment")(session_changed, primary) == [ObjectKey("ns", "job")]
    assert map_to_same_key()(session_changed, primary) == [ObjectKey("ns", "session")]
