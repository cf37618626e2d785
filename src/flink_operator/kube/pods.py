"""Flink's pod decoration: a user pod template plus the fields Flink owns, as Flink's native integration does.

Given a (layered) pod template and a `PodDecoration` (what Flink decides from its configuration), build the
pod template of a Deployment. The rules follow Flink's "fields overwritten by Flink" and the objects Flink
itself creates (compared in the tests):

* metadata: template labels and annotations first, Flink's added (Flink wins on equal keys);
* spec: `serviceAccount`/`serviceAccountName`, `hostNetwork` and `dnsPolicy` are Flink's; `nodeSelector`,
  `tolerations`, `imagePullSecrets` and `volumes` are the template's plus Flink's; everything else the
  template says (init containers, affinity, security context, ...) is kept;
* containers: the template's other containers (sidecars) first, then the main container
  `flink-main-container`, whose `name`, `image`, `imagePullPolicy`, `command` and `args` are Flink's, whose
  `env`, `ports` and `volumeMounts` are the template's plus Flink's (a template entry with the name, port
  or mount path of one of Flink's gives way), whose `resources` are the template's
  with `cpu` and `memory` replaced, and which keeps every other field of the template (probes, lifecycle,
  security context, ...).

Pure; the template is not modified.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flink_operator.api.constants import MAIN_CONTAINER_NAME

JSON = dict[str, Any]


@dataclass(frozen=True)
class MainContainer:
    """The main container's fields Flink decides."""

    image: str
    image_pull_policy: str
    command: Sequence[str]
    args: Sequence[str]
    ports: Sequence[JSON]
    env: Sequence[JSON]
    requests: Mapping[str, str]
    limits: Mapping[str, str]
    volume_mounts: Sequence[JSON] = ()


@dataclass(frozen=True)
class PodDecoration:
    """What Flink puts on a pod besides the user's template."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    service_account: str
    main: MainContainer
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[JSON] = ()
    image_pull_secrets: Sequence[str] = ()
    volumes: Sequence[JSON] = ()
    host_network: bool = False
    restart_policy: str | None = None


def _keyed_union(template: Sequence[Any], flink: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    """The template's entries, then Flink's; a template entry with the same `key` as one of Flink's gives
    way (Kubernetes refuses duplicate names, and Flink's volumes, ports and variables must be what it set)."""
    taken = {item.get(key) for item in flink}
    kept = [
        copy.deepcopy(item) for item in template if not (isinstance(item, Mapping) and item.get(key) in taken)
    ]
    return kept + [copy.deepcopy(dict(item)) for item in flink]


def _main_container(template_container: Mapping[str, Any] | None, main: MainContainer) -> JSON:
    container: JSON = copy.deepcopy(dict(template_container or {}))
    container["name"] = MAIN_CONTAINER_NAME
    container["image"] = main.image
    container["imagePullPolicy"] = main.image_pull_policy
    container["command"] = list(main.command)
    container["args"] = list(main.args)
    # Flink appends its own variables; a template variable of the same name would be shadowed anyway (the
    # last definition wins in Kubernetes), so it is dropped rather than kept as a dead duplicate.
    container["env"] = _keyed_union(container.get("env") or [], main.env, "name")
    container["ports"] = _keyed_union(container.get("ports") or [], main.ports, "containerPort")
    resources = container.setdefault("resources", {})
    for section, values in (("requests", main.requests), ("limits", main.limits)):
        existing = dict(resources.get(section) or {})
        existing.update(values)
        resources[section] = existing
    mounts = _keyed_union(container.get("volumeMounts") or [], main.volume_mounts, "mountPath")
    if mounts:
        container["volumeMounts"] = mounts
    for key in ("env", "ports"):
        if not container[key]:
            del container[key]
    return container


def decorate_pod(template: Mapping[str, Any] | None, decoration: PodDecoration) -> JSON:
    """The `spec.template` of a Deployment: `template` with Flink's fields (see the module docstring)."""
    source: Mapping[str, Any] = template or {}
    meta_in = source.get("metadata") or {}
    spec: JSON = copy.deepcopy(dict(source.get("spec") or {}))

    labels = {**dict(meta_in.get("labels") or {}), **decoration.labels}
    annotations = {**dict(meta_in.get("annotations") or {}), **decoration.annotations}
    metadata: JSON = {}
    if annotations:
        metadata["annotations"] = annotations
    metadata["labels"] = labels

    containers = [c for c in spec.get("containers") or [] if c.get("name") != MAIN_CONTAINER_NAME]
    template_main = next(
        (c for c in spec.get("containers") or [] if c.get("name") == MAIN_CONTAINER_NAME), None
    )
    spec["containers"] = [*containers, _main_container(template_main, decoration.main)]
    spec["serviceAccount"] = decoration.service_account
    spec["serviceAccountName"] = decoration.service_account
    spec["hostNetwork"] = decoration.host_network
    spec["dnsPolicy"] = "ClusterFirstWithHostNet" if decoration.host_network else "ClusterFirst"
    if decoration.restart_policy is not None:
        spec["restartPolicy"] = decoration.restart_policy
    node_selector = {**dict(spec.get("nodeSelector") or {}), **decoration.node_selector}
    if node_selector:
        spec["nodeSelector"] = node_selector
    tolerations = list(spec.get("tolerations") or []) + [dict(t) for t in decoration.tolerations]
    if tolerations:
        spec["tolerations"] = tolerations
    secrets = _keyed_union(
        spec.get("imagePullSecrets") or [], [{"name": n} for n in decoration.image_pull_secrets], "name"
    )
    if secrets:
        spec["imagePullSecrets"] = secrets
    volumes = _keyed_union(spec.get("volumes") or [], decoration.volumes, "name")
    if volumes:
        spec["volumes"] = volumes
    return {"metadata": metadata, "spec": spec}
