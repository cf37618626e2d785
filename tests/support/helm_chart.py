"""The Helm chart (deploy/helm/flink-operator) rendered and linted by the real Helm engine, as Python data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

JSON = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "flink-operator"
RELEASE_NAMESPACE = "flink-system"


def render(values: JSON | None = None, namespace: str = RELEASE_NAMESPACE) -> list[JSON]:
    """Every object the chart's templates render for `values` (as `helm template` would), CRDs excluded."""
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values or {}, name="flink-operator", namespace=namespace, is_install=True)
    objects: list[JSON] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def render_error(values: JSON) -> str:
    """The message of a render that must fail."""
    try:
        render(values)
    except helm.HelmError as error:
        return str(error)
    raise AssertionError(f"rendering with {values} succeeded")


def lint(values: JSON | None = None) -> JSON:
    return dict(helm.lint(str(CHART), values or {}, strict=True, namespace=RELEASE_NAMESPACE))


def find(objects: list[JSON], kind: str, name: str | None = None, namespace: str | None = None) -> list[JSON]:
    return [
        o for o in objects
        if o["kind"] == kind
        and (name is None or o["metadata"]["name"] == name)
        and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]


def one(objects: list[JSON], kind: str, name: str | None = None, namespace: str | None = None) -> JSON:
    found = find(objects, kind, name, namespace)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def operator_container(objects: list[JSON]) -> JSON:
    deployment = one(objects, "Deployment", "flink-operator")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    container: JSON = next(c for c in containers if c["name"] == "flink-operator")
    return container


def config_yaml(objects: list[JSON]) -> str:
    return str(one(objects, "ConfigMap", "flink-operator-config")["data"]["config.yaml"])
