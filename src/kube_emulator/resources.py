"""Resource types and the registry that maps URL paths, kinds and short names onto them.

A `ResourceType` describes one served (group, version, plural): its kind, scope, subresources,
name rules, printer columns and, for custom resources, the structural schema. Built-in types come
from `builtin_kinds`; custom resources are added and removed when CRD objects are stored and deleted.
Objects are stored once per (group, plural); every served version of a custom resource shares them
(no conversion: only `apiVersion` differs, as with a CRD whose conversion strategy is `None`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    verbs: tuple[str, ...] = ALL_VERBS
    custom: bool = False
    # "subdomain" (DNS-1123 subdomain), "label" (DNS-1123 label), "dns1035" or "path" (any path segment).
    name_rule: str = "subdomain"
    tracks_generation: bool = False
    allow_unconditional_update: bool = True
    returns_deleted_object: bool = False
    field_selectors: frozenset[str] = frozenset()
    printer_columns: tuple[PrinterColumn, ...] = ()
    schema: JSON | None = field(default=None, compare=False, hash=False)
    preserve_unknown: bool = False
    storage_version: str = ""
    # Served as a view of another resource's objects (see `views`): the (group, plural) that stores them.
    stored_as: tuple[str, str] | None = None
    view: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        """Where the objects live in the store."""
        return self.stored_as or (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def has_status(self) -> bool:
        return "status" in self.subresources


class Registry:
    """Every served resource type, looked up by path segments or by kind."""

    def __init__(self) -> None:
        self._by_path: dict[tuple[str, str, str], ResourceType] = {}
        self._group_versions: dict[str, list[str]] = {}
        self.generation = 0  # bumped on every change, so discovery and OpenAPI caches can be keyed on it

    def add(self, rt: ResourceType) -> None:
        self._by_path[(rt.group, rt.version, rt.plural)] = rt
        versions = self._group_versions.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
            versions.sort(key=version_priority, reverse=True)
        self.generation += 1

    def remove_group_resource(self, group: str, plural: str) -> None:
        for key in [k for k in self._by_path if k[0] == group and k[2] == plural]:
            del self._by_path[key]
        remaining = {k[1] for k in self._by_path if k[0] == group}
        if remaining:
            self._group_versions[group] = sorted(remaining, key=version_priority, reverse=True)
        else:
            self._group_versions.pop(group, None)
        self.generation += 1

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def has_group_version(self, group: str, version: str) -> bool:
        return version in self._group_versions.get(group, [])

    def groups(self) -> dict[str, list[str]]:
        """Group name -> served versions, preferred first; the core group is ''."""
        return {g: list(v) for g, v in self._group_versions.items()}

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return sorted(
            (rt for (g, v, _), rt in self._by_path.items() if g == group and v == version),
            key=lambda rt: rt.plural,
        )

    def all(self) -> list[ResourceType]:
        return list(self._by_path.values())

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        """The preferred-version type of a kind, for owner references and admission."""
        for version in self._group_versions.get(group, []):
            for (g, v, _), rt in self._by_path.items():
                if g == group and v == version and rt.kind == kind:
                    return rt
        return None

    def storage_type(self, group: str, plural: str) -> ResourceType | None:
        """The version objects of (group, plural) are stored in."""
        candidates = [rt for (g, _, p), rt in self._by_path.items() if g == group and p == plural]
        for rt in candidates:
            if not rt.storage_version or rt.storage_version == rt.version:
                return rt
        return candidates[0] if candidates else None


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, then by major and minor number."""
    import re

    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (-1, 0, 0)
    major = int(match.group(1))
    stage = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    minor = int(match.group(3) or 0)
    return (stage, major, minor)
