"""Decoding of the protobuf request bodies kubectl sends for typed creates of built-in kinds.

kubectl (1.32 and later) sends typed creates such as `kubectl create configmap|secret|namespace|
serviceaccount|deployment|service` and `kubectl expose` as `application/vnd.kubernetes.protobuf`: the
`k8s\\0` magic, then a `runtime.Unknown` envelope holding the type meta and the object's protobuf
encoding. This module decodes those bodies (field numbers of k8s.io/api's generated.proto, for the
fields those commands set). Unset fields that protobuf always encodes are skipped; any other
unknown field, or another kind, answers 415 so the caller learns to send JSON. Responses are
always JSON (clients accept it alongside protobuf).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from . import errors

JSON = dict[str, Any]
MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"

# message -> field number -> (json name, type); types: string, bytes, int, bool, map:<value type>,
# list:<type> and message names.
_SCHEMAS: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {
        1: ("typeMeta", "TypeMeta"),
        2: ("raw", "bytes"),
        3: ("contentEncoding", "string"),
        4: ("contentType", "string"),
    },
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "ObjectMeta": {
        1: ("name", "string"),
        2: ("generateName", "string"),
        3: ("namespace", "string"),
        4: ("selfLink", "string"),
        5: ("uid", "string"),
        6: ("resourceVersion", "string"),
        7: ("generation", "int"),
        8: ("creationTimestamp", "Time"),
        9: ("deletionTimestamp", "Time"),
        10: ("deletionGracePeriodSeconds", "int"),
        11: ("labels", "map:string"),
        12: ("annotations", "map:string"),
        13: ("ownerReferences", "list:OwnerReference"),
        14: ("finalizers", "list:string"),
    },
    "OwnerReference": {
        1: ("kind", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "map:string"),
        3: ("binaryData", "map:bytes"),
        4: ("immutable", "bool"),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "map:bytes"),
        3: ("type", "string"),
        4: ("stringData", "map:string"),
        5: ("immutable", "bool"),
    },
    "Namespace": {
        1: ("metadata", "ObjectMeta"),
        2: ("spec", "NamespaceSpec"),
        3: ("status", "NamespaceStatus"),
    },
    "NamespaceSpec": {1: ("finalizers", "list:string")},
    "NamespaceStatus": {1: ("phase", "string")},
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta"),
        2: ("secrets", "list:ObjectReference"),
        3: ("imagePullSecrets", "list:LocalObjectReference"),
        4: ("automountServiceAccountToken", "bool"),
    },
    "ObjectReference": {
        1: ("kind", "string"),
        2: ("namespace", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("resourceVersion", "string"),
        7: ("fieldPath", "string"),
    },
    "LocalObjectReference": {1: ("name", "string")},
}
_SCHEMAS.update(
    {
        "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec"), 3: ("status", "Empty")},
        "DeploymentSpec": {
            1: ("replicas", "int"),
            2: ("selector", "LabelSelector"),
            3: ("template", "PodTemplateSpec"),
            4: ("strategy", "DeploymentStrategy"),
            5: ("minReadySeconds", "int"),
            6: ("revisionHistoryLimit", "int"),
            7: ("paused", "bool"),
            9: ("progressDeadlineSeconds", "int"),
        },
        "DeploymentStrategy": {1: ("type", "string")},
        "LabelSelector": {
            1: ("matchLabels", "map:string"),
            2: ("matchExpressions", "list:LabelSelectorRequirement"),
        },
        "LabelSelectorRequirement": {
            1: ("key", "string"),
            2: ("operator", "string"),
            3: ("values", "list:string"),
        },
        "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
        "PodSpec": {
            2: ("containers", "list:Container"),
            3: ("restartPolicy", "string"),
            8: ("serviceAccountName", "string"),
        },
        "Container": {
            1: ("name", "string"),
            2: ("image", "string"),
            3: ("command", "list:string"),
            4: ("args", "list:string"),
            6: ("ports", "list:ContainerPort"),
            7: ("env", "list:EnvVar"),
            8: ("resources", "ResourceRequirements"),
        },
        "ContainerPort": {1: ("name", "string"), 3: ("containerPort", "int"), 4: ("protocol", "string")},
        "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
        "ResourceRequirements": {1: ("limits", "map:Quantity"), 2: ("requests", "map:Quantity")},
        "Quantity": {1: ("string", "string")},
        "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec"), 3: ("status", "Empty")},
        "ServiceSpec": {
            1: ("ports", "list:ServicePort"),
            2: ("selector", "map:string"),
            3: ("clusterIP", "string"),
            4: ("type", "string"),
            10: ("externalName", "string"),
        },
        "ServicePort": {
            1: ("name", "string"),
            2: ("protocol", "string"),
            3: ("port", "int"),
            4: ("targetPort", "IntOrString"),
            5: ("nodePort", "int"),
        },
        "IntOrString": {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "string")},
        "Empty": {},
    }
)
_APPS = {"Deployment"}
SUPPORTED_KINDS = ("ConfigMap", "Secret", "Namespace", "ServiceAccount", "Service", "Deployment")


class _Unsupported(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _Unsupported("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            out.append((number, int.from_bytes(data[pos : pos + 8], "little")))
            pos += 8
        elif wire == 5:
            out.append((number, int.from_bytes(data[pos : pos + 4], "little")))
            pos += 4
        else:
            raise _Unsupported(f"wire type {wire}")
    return out


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind == "string":
        if not isinstance(value, bytes):
            raise _Unsupported("expected a string")
        return value.decode()
    if kind == "bytes":
        if not isinstance(value, bytes):
            raise _Unsupported("expected bytes")
        return base64.b64encode(value).decode()
    if kind == "int":
        if not isinstance(value, int):
            raise _Unsupported("expected an integer")
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if not isinstance(value, bytes):
        raise _Unsupported(f"expected a {kind} message")
    return _message(kind, value)


def _message(name: str, data: bytes) -> Any:
    schema = _SCHEMAS[name]
    out: JSON = {}
    for number, value in _fields(data):
        if number not in schema:
            if value in (0, b""):
                continue  # an unset non-pointer field (always encoded): JSON would omit it too
            raise _Unsupported(f"{name} field {number}")
        field_name, kind = schema[number]
        if kind.startswith("map:"):
            if not isinstance(value, bytes):
                raise _Unsupported("expected a map entry")
            entry = dict(_fields(value))
            key = entry.get(1, b"")
            out.setdefault(field_name, {})[_scalar("string", key)] = _scalar(kind[4:], entry.get(2, b""))
        elif kind.startswith("list:"):
            out.setdefault(field_name, []).append(_scalar(kind[5:], value))
        else:
            out[field_name] = _scalar(kind, value)
    if name == "Quantity":
        return out.get("string", "")
    if name == "IntOrString":
        return out.get("strVal", "") if out.get("type") == 1 else out.get("intVal", 0)
    if name == "Time":
        stamp = datetime.fromtimestamp(out.get("seconds", 0), UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def decode(raw: bytes) -> JSON:
    """A protobuf request body as the equivalent JSON object; 415 when it cannot be decoded."""
    if not raw.startswith(MAGIC):
        raise errors.unsupported_media_type(PROTOBUF)
    try:
        envelope = _message("Unknown", raw[len(MAGIC) :])
        type_meta = envelope.get("typeMeta") or {}
        kind = type_meta.get("kind", "")
        api_version = "apps/v1" if kind in _APPS else "v1"
        if kind not in SUPPORTED_KINDS or type_meta.get("apiVersion") != api_version:
            raise _Unsupported(f"kind {kind!r}")
        body = _message(kind, base64.b64decode(envelope.get("raw", "")))
    except _Unsupported as exc:
        raise errors.ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - protobuf is only understood for "
            f"{', '.join(SUPPORTED_KINDS)} here ({exc}); accepted media types include: application/json, "
            "application/yaml",
            None,
        ) from None
    return {"apiVersion": api_version, "kind": kind, **_omit_empty(body)}


_ZERO_OMITTED = {"generation", "nodePort", "minReadySeconds", "hostPort", "paused"}


def _omit_empty(value: Any) -> Any:
    """Drop what Go's `omitempty` drops when it encodes the same object as JSON.

    Protobuf carries non-pointer fields even when empty; pointer fields (e.g. `replicas`) only when
    set, so a zero there is meaningful and kept. Zero numbers and false are dropped only for the
    non-pointer `omitempty` fields listed in `_ZERO_OMITTED`.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _omit_empty(item)
            if item in ("", [], {}, "1970-01-01T00:00:00Z") and not isinstance(item, bool | int):
                continue
            if key in _ZERO_OMITTED and item in (0, False):
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_omit_empty(v) for v in value]
    return value
