"""Server-side table printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) for `kubectl get`.

Custom resources print `Name` plus their `additionalPrinterColumns` (or `Age` when they declare
none), evaluated the way the real server does (dates as human durations, typed cells). A handful of
built-in kinds get the columns kubectl users know; every other built-in prints `Name` and `Age`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from .jsonpath import find
from .resources import PrinterColumn, ResourceType

JSON = dict[str, Any]
Cell = Any


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


def age(timestamp: Any) -> str:
    if not isinstance(timestamp, str) or not timestamp:
        return "<unknown>"
    try:
        then = datetime.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - then).total_seconds())


def _column(
    name: str, type_: str = "string", description: str = "", priority: int = 0, fmt: str = ""
) -> JSON:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


NAME_COLUMN = _column(
    "Name",
    fmt="name",
    description="Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the "
    "generation of an appropriate name automatically.",
)
AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
)


def _custom_cell(column: PrinterColumn, obj: JSON) -> Cell:
    try:
        results = find(obj, column.json_path)
    except ValueError:
        return None
    if not results or results[0] is None:
        return None
    value = results[0]
    if column.type == "string":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if column.type == "date":
        return age(value)
    if column.type == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if column.type == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if column.type == "boolean":
        return value if isinstance(value, bool) else None
    return None


Printer = tuple[list[JSON], Callable[[JSON], list[Cell]]]


def _ready_replicas(obj: JSON) -> str:
    status = obj.get("status") or {}
    return f"{status.get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 0)}"


def _service_ports(obj: JSON) -> str:
    ports = (obj.get("spec") or {}).get("ports") or []
    text = [
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
        for p in ports
    ]
    return ",".join(text) or "<none>"


def _pod_ready(obj: JSON) -> str:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    containers = (obj.get("spec") or {}).get("containers") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _event_object(obj: JSON) -> str:
    ref = obj.get("involvedObject") or obj.get("regarding") or {}
    return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"


def _event_last_seen(obj: JSON) -> str:
    stamp = (
        obj.get("lastTimestamp")
        or obj.get("eventTime")
        or (obj.get("metadata") or {}).get("creationTimestamp")
    )
    return age(stamp)


_BUILTIN: dict[tuple[str, str], list[tuple[str, Callable[[JSON], Cell]]]] = {
    ("", "Namespace"): [("Status", lambda o: (o.get("status") or {}).get("phase", ""))],
    ("", "ConfigMap"): [("Data", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}))],
    ("", "Secret"): [("Type", lambda o: o.get("type", "")), ("Data", lambda o: len(o.get("data") or {}))],
    ("", "Service"): [
        ("Type", lambda o: (o.get("spec") or {}).get("type", "")),
        ("Cluster-IP", lambda o: (o.get("spec") or {}).get("clusterIP", "<none>")),
        ("External-IP", lambda o: "<none>"),
        ("Port(s)", _service_ports),
    ],
    ("", "Pod"): [
        ("Ready", _pod_ready),
        ("Status", lambda o: (o.get("status") or {}).get("phase", "")),
        (
            "Restarts",
            lambda o: sum(
                s.get("restartCount", 0) for s in (o.get("status") or {}).get("containerStatuses") or []
            ),
        ),
    ],
    ("apps", "Deployment"): [
        ("Ready", _ready_replicas),
        ("Up-to-date", lambda o: (o.get("status") or {}).get("updatedReplicas", 0)),
        ("Available", lambda o: (o.get("status") or {}).get("availableReplicas", 0)),
    ],
    ("apps", "StatefulSet"): [("Ready", _ready_replicas)],
    ("", "ServiceAccount"): [("Secrets", lambda o: len(o.get("secrets") or []))],
    ("coordination.k8s.io", "Lease"): [("Holder", lambda o: (o.get("spec") or {}).get("holderIdentity", ""))],
    ("networking.k8s.io", "Ingress"): [
        ("Class", lambda o: (o.get("spec") or {}).get("ingressClassName") or "<none>"),
        (
            "Hosts",
            lambda o: ",".join(r.get("host", "*") for r in (o.get("spec") or {}).get("rules") or []) or "*",
        ),
        ("Address", lambda o: ""),
        ("Ports", lambda o: "443" if (o.get("spec") or {}).get("tls") else "80"),
    ],
}

_EVENT_COLUMNS: list[tuple[str, Callable[[JSON], Cell]]] = [
    ("Last Seen", _event_last_seen),
    ("Type", lambda o: o.get("type", "")),
    ("Reason", lambda o: o.get("reason", "")),
    ("Object", _event_object),
    ("Message", lambda o: o.get("message") or o.get("note") or ""),
]


def printer_for(rt: ResourceType) -> Printer:
    if rt.custom:
        columns = list(rt.printer_columns) or [
            PrinterColumn("Age", "date", ".metadata.creationTimestamp", AGE_DESCRIPTION)
        ]
        definitions = [NAME_COLUMN] + [
            _column(c.name, c.type, c.description, c.priority, c.format) for c in columns
        ]

        def custom_cells(obj: JSON) -> list[Cell]:
            return [obj["metadata"]["name"]] + [_custom_cell(c, obj) for c in columns]

        return definitions, custom_cells
    if rt.kind == "Event":
        event_defs = [_column(name) for name, _ in _EVENT_COLUMNS]
        return event_defs, lambda obj: [fn(obj) for _, fn in _EVENT_COLUMNS]
    if rt.kind == "CustomResourceDefinition":
        return (
            [NAME_COLUMN, _column("Created At", "date")],
            lambda obj: [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")],
        )
    extra = _BUILTIN.get((rt.group, rt.kind), [])
    defs = (
        [NAME_COLUMN]
        + [_column(name, "integer" if name in ("Data", "Secrets") else "string") for name, _ in extra]
        + [_column("Age", description=AGE_DESCRIPTION)]
    )

    def builtin_cells(obj: JSON) -> list[Cell]:
        return (
            [obj["metadata"]["name"]]
            + [fn(obj) for _, fn in extra]
            + [age(obj["metadata"].get("creationTimestamp"))]
        )

    return defs, builtin_cells


def partial_metadata(obj: JSON) -> JSON:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    rt: ResourceType,
    objects: Iterable[JSON],
    list_metadata: JSON,
    include_object: str = "Metadata",
    with_columns: bool = True,
) -> JSON:
    definitions, cells = printer_for(rt)
    rows = []
    for obj in objects:
        row: JSON = {"cells": cells(obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    table: JSON = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_metadata}
    table["columnDefinitions"] = definitions if with_columns else None
    table["rows"] = rows
    return table
