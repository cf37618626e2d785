"""Installing the operator's CRDs into the API server (idempotent: server-side apply, forced).

Re-running with the same CRDs changes nothing; a newer operator version updates them in place.
"""

from __future__ import annotations

from lightkube.types import PatchType

from flink_operator.api import crd_manifests
from flink_operator.runtime import Kind, KubeApi

CRD = Kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False)
FIELD_MANAGER = "flink-operator-local"


async def install_crds(api: KubeApi) -> list[str]:
    """Apply every CRD; return their names."""
    names = []
    for manifest in crd_manifests():
        name = manifest["metadata"]["name"]
        await api.patch(
            CRD, name, None, manifest, patch_type=PatchType.APPLY, field_manager=FIELD_MANAGER, force=True
        )
        names.append(name)
    return names
