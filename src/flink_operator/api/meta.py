"""Kubernetes object metadata as far as the operator reads or writes it.

Only the fields the operator uses are typed; every other metadata field (managedFields, selfLink, ...) is kept
as given and written back unchanged.
"""

from __future__ import annotations

from pydantic import ConfigDict

from flink_operator.api.base import ApiModel, Bool, FreeFormObject, Long, Str, StringMap


class OwnerReference(ApiModel):
    """A reference to an owning object."""

    model_config = ConfigDict(extra="allow")

    api_version: Str | None = None
    kind: Str | None = None
    name: Str | None = None
    uid: Str | None = None
    controller: Bool | None = None
    block_owner_deletion: Bool | None = None


class ObjectMeta(ApiModel):
    """`metadata` of a resource."""

    model_config = ConfigDict(extra="allow")

    name: Str | None = None
    generate_name: Str | None = None
    namespace: Str | None = None
    uid: Str | None = None
    resource_version: Str | None = None
    generation: Long | None = None
    creation_timestamp: Str | None = None
    deletion_timestamp: Str | None = None
    deletion_grace_period_seconds: Long | None = None
    labels: StringMap | None = None
    annotations: StringMap | None = None
    finalizers: list[Str] | None = None
    owner_references: list[OwnerReference] | None = None
    managed_fields: list[FreeFormObject] | None = None
