"""The CustomResourceDefinition manifests of the three kinds, generated from the models.

Deterministic output (same models ⇒ same bytes), so the checked-in copies under `deploy/crds/` can be
compared with a fresh rendering. Each CRD stays far below the 256 KiB limit of a client-side
`kubectl apply`, because pod templates are kept as free-form objects instead of embedding the Pod schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from flink_operator.api.constants import GROUP, PLURALS, SHORT_NAMES, SINGULARS, VERSION
from flink_operator.api.deployment import FlinkDeployment
from flink_operator.api.openapi import model_schema
from flink_operator.api.problems import RESOURCE_MODELS

REGENERATE_COMMAND = "flink-operator crds --output-dir deploy/crds"
"""The command that rewrites the checked-in CRD files."""

_HEADER = f"# Generated from the resource models by `{REGENERATE_COMMAND}`; do not edit.\n"

_JOB_COLUMNS = [
    {"name": "Job Status", "type": "string", "jsonPath": ".status.jobStatus.state", "priority": 0},
    {"name": "Lifecycle State", "type": "string", "jsonPath": ".status.lifecycleState", "priority": 0},
]
_PRINTER_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "FlinkDeployment": _JOB_COLUMNS,
    "FlinkSessionJob": _JOB_COLUMNS,
    "FlinkStateSnapshot": [
        {"name": "Path", "type": "string", "jsonPath": ".status.path", "priority": 0},
        {"name": "Result Timestamp", "type": "string", "jsonPath": ".status.resultTimestamp", "priority": 0},
        {"name": "Snapshot State", "type": "string", "jsonPath": ".status.state", "priority": 0},
    ],
}


def crd_name(kind: str) -> str:
    return f"{PLURALS[kind]}.{GROUP}"


def resource_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The `openAPIV3Schema` of a resource model."""
    fields = model.model_fields
    properties = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": model_schema(fields["spec"].annotation),  # type: ignore[arg-type]
        "status": model_schema(fields["status"].annotation),  # type: ignore[arg-type]
    }
    return {"type": "object", "properties": properties}


def crd_manifest(kind: str) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind."""
    model = RESOURCE_MODELS[kind]
    subresources: dict[str, Any] = {"status": {}}
    if model is FlinkDeployment:
        subresources["scale"] = {
            "specReplicasPath": ".spec.taskManager.replicas",
            "statusReplicasPath": ".status.taskManager.replicas",
            "labelSelectorPath": ".status.taskManager.labelSelector",
        }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name(kind)},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "plural": PLURALS[kind],
                "singular": SINGULARS[kind],
                "shortNames": [SHORT_NAMES[kind]],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": resource_schema(model)},
                    "subresources": subresources,
                    "additionalPrinterColumns": _PRINTER_COLUMNS[kind],
                }
            ],
        },
    }


def crd_manifests() -> list[dict[str, Any]]:
    """The CRDs of all kinds, in a fixed order."""
    return [crd_manifest(kind) for kind in RESOURCE_MODELS]


def render_crd(manifest: dict[str, Any]) -> str:
    """One CRD as a YAML document (with a generated-file header)."""
    return _HEADER + yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=120)


def render_crds() -> str:
    """All CRDs as one multi-document YAML stream."""
    return "---\n".join(render_crd(manifest) for manifest in crd_manifests())


def crd_file_name(manifest: dict[str, Any]) -> str:
    return f"{manifest['metadata']['name']}.yaml"


def write_crds(directory: Path) -> list[Path]:
    """Write one file per CRD into `directory` (created if missing); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for manifest in crd_manifests():
        path = directory / crd_file_name(manifest)
        path.write_text(render_crd(manifest), encoding="utf-8")
        written.append(path)
    return written
