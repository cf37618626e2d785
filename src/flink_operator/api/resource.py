"""The top-level shape shared by all three kinds: apiVersion, kind, metadata, spec, status."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from flink_operator.api.base import ApiModel
from flink_operator.api.meta import ObjectMeta


class CustomResource(ApiModel):
    """Base of the resource models; subclasses add `api_version`, `kind`, `spec` and `status`."""

    always_serialized: ClassVar[frozenset[str]] = frozenset({"api_version", "kind"})

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""
