"""Valid flink.apache.org documents to start tests from, and small helpers to change them by field path.

Every builder returns a fresh document that the default validator accepts with an empty operator
configuration; tests break exactly the field they are about (`with_field`, `without_field`).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from flink_operator.api import FlinkResource, parse_resource, write_spec_with_meta

API = "flink.apache.org/v1beta1"


def application(name: str = "basic", namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "serviceAccount": "flink",
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
            "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "job": {
                "jarURI": "local:///opt/flink/usrlib/job.jar",
                "parallelism": 2,
                "upgradeMode": "stateless",
            },
        },
    }


def session_cluster(name: str = "session", namespace: str = "default") -> dict[str, Any]:
    document = application(name, namespace)
    del document["spec"]["job"]
    return document


def session_job(name: str = "job", namespace: str = "default", deployment: str = "session") -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "deploymentName": deployment,
            "job": {
                "jarURI": "https://repo.example.com/jobs/job.jar",
                "parallelism": 2,
                "upgradeMode": "stateless",
            },
        },
    }


def savepoint_snapshot(name: str = "sp", target: str = "basic", namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"savepoint": {}, "jobReference": {"kind": "FlinkDeployment", "name": target}},
    }


def checkpoint_snapshot(name: str = "cp", target: str = "basic") -> dict[str, Any]:
    document = savepoint_snapshot(name, target)
    document["spec"] = {"checkpoint": {}, "jobReference": {"kind": "FlinkDeployment", "name": target}}
    return document


_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.\[]+)')


def path_parts(path: str) -> list[str | int]:
    """`spec.flinkConfiguration["a.b"]` -> ["spec", "flinkConfiguration", "a.b"]."""
    parts: list[str | int] = []
    for quoted, index, plain in _PART.findall(path):
        if plain:
            parts.append(plain)
        elif index:
            parts.append(int(index))
        else:
            parts.append(json.loads(f'"{quoted}"'))
    return parts


def with_field(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with the field at `path` set (objects created on the way)."""
    result = copy.deepcopy(document)
    parts = path_parts(path)
    target: Any = result
    for part in parts[:-1]:
        if isinstance(part, str) and part not in target:
            target[part] = {}
        target = target[part]
    target[parts[-1]] = value
    return result


def with_config(document: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A copy with flat keys added to `spec.flinkConfiguration`."""
    result = copy.deepcopy(document)
    result["spec"].setdefault("flinkConfiguration", {}).update(values)
    return result


def without_field(document: dict[str, Any], path: str) -> dict[str, Any]:
    result = copy.deepcopy(document)
    parts = path_parts(path)
    target: Any = result
    for part in parts[:-1]:
        target = target[part]
    del target[parts[-1]]
    return result


def deployed(document: dict[str, Any], last_spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy whose status records `last_spec` (default: its current spec) as the last reconciled spec."""
    result = copy.deepcopy(document)
    spec = copy.deepcopy(last_spec if last_spec is not None else document["spec"])
    stored = write_spec_with_meta(spec, API, first_deployment=True)
    result["status"] = {"reconciliationStatus": {"lastReconciledSpec": stored, "state": "DEPLOYED"}}
    return result


def model(document: dict[str, Any]) -> Any:
    """The parsed resource; fails the test when the document does not even parse."""
    result: FlinkResource | list[Any] = parse_resource(document, check_pod_templates=False)
    assert not isinstance(result, list), [str(p) for p in result]
    return result
