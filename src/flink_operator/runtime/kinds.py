"""Which Kubernetes kind a piece of runtime machinery talks about, and how one object is addressed.

`Kind` is plain data (group, version, kind, plural, namespaced) from which REST paths are built; it can be
made from a lightkube resource class (`Kind.of(Deployment)`) or for a custom resource (`Kind.custom(...)`,
which also registers lightkube's generic resource class so typed lightkube code can use the same kind).
`ObjectKey` is the (namespace, name) pair that queues, caches and reconcile requests are keyed by.

Not done here: discovery. A kind that the server does not serve is only noticed when a request fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from lightkube.core import resource as lightkube_resource
from lightkube.generic_resource import create_global_resource, create_namespaced_resource


class ObjectKey(NamedTuple):
    """Namespace and name of one object; the namespace is "" for cluster-scoped objects."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class Kind:
    """A resource type as the REST API addresses it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None = None) -> str:
        """`/apis/<group>/<version>[/namespaces/<ns>]/<plural>`; `namespace=None` means all namespaces."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        if self.namespaced and not namespace:
            raise ValueError(f"{self.kind} {name!r} is namespaced: a namespace is required")
        path = f"{self.collection_path(namespace if self.namespaced else None)}/{name}"
        return f"{path}/{subresource}" if subresource else path

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @classmethod
    def of(cls, resource: Any) -> Kind:
        """The kind of a lightkube resource class, e.g. `Kind.of(lightkube.resources.apps_v1.Deployment)`."""
        info = lightkube_resource.api_info(resource)
        namespaced = issubclass(resource, lightkube_resource.NamespacedResource)
        return cls(info.resource.group, info.resource.version, info.resource.kind, info.plural, namespaced)

    @classmethod
    def custom(cls, group: str, version: str, kind: str, plural: str, namespaced: bool = True) -> Kind:
        """A custom resource kind; registers lightkube's generic class for it as a side effect."""
        if namespaced:
            create_namespaced_resource(group, version, kind, plural)
        else:
            create_global_resource(group, version, kind, plural)
        return cls(group, version, kind, plural, namespaced)

    def lightkube_resource(self) -> Any:
        """lightkube's generic resource class for this kind (for code that prefers typed lightkube calls)."""
        if self.namespaced:
            return create_namespaced_resource(self.group, self.version, self.kind, self.plural)
        return create_global_resource(self.group, self.version, self.kind, self.plural)


# Kinds the runtime itself uses.
EVENT = Kind("", "v1", "Event", "events")
LEASE = Kind("coordination.k8s.io", "v1", "Lease", "leases")
NAMESPACE = Kind("", "v1", "Namespace", "namespaces", namespaced=False)


def key_of(obj: dict[str, Any]) -> ObjectKey:
    """The key of an object given as a dict."""
    metadata = obj.get("metadata") or {}
    return ObjectKey(metadata.get("namespace") or "", metadata.get("name") or "")
