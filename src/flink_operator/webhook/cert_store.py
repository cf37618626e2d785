"""Where self-managed certificates live and whom they are announced to: the certificate Secret and the
`caBundle` of the operator's webhook configurations.

Several replicas may start at once, and all must serve certificates the API server trusts. The Secret is
the single source of truth and every write to it is guarded by the API server: `create` fails with 409 when
another replica created it first, and `replace` carries the `resourceVersion` read, so it fails with 409
when another replica changed it meanwhile. The loser of a race re-reads and serves the winner's
certificate; two replicas never overwrite each other's CA.

`caBundle` patches are JSON patches that first `test` the name of the webhook at the index they change, so
a configuration edited between read and patch is never patched at the wrong webhook. Every replica
computes the same bundle from the same Secret, so concurrent patches agree.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.admissionregistration_v1 import (
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
)
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType

from flink_operator.webhook.certificates import SECRET_TYPE, CertificateSet

_log = logging.getLogger("flink_operator.webhook")

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "flink-operator"


def _code(error: ApiError) -> int:
    return int(error.status.code or 0) if error.status is not None else 0


@dataclass(frozen=True)
class StoredSecret:
    """The Secret's decoded data and the resourceVersion it was read at."""

    data: dict[str, bytes]
    resource_version: str


class SecretConflict(Exception):
    """Another writer created or changed the Secret first; re-read it."""


class CertificateSecret:
    """Reads and writes the certificate Secret."""

    def __init__(self, client: AsyncClient, name: str, namespace: str) -> None:
        self._client = client
        self.name = name
        self.namespace = namespace

    async def read(self) -> StoredSecret | None:
        try:
            secret = await self._client.get(Secret, self.name, namespace=self.namespace)
        except ApiError as error:
            if _code(error) == 404:
                return None
            raise
        data = {key: base64.b64decode(value) for key, value in (secret.data or {}).items()}
        version = secret.metadata.resourceVersion if secret.metadata is not None else None
        return StoredSecret(data, version or "")

    def _secret(self, certificates: CertificateSet, resource_version: str | None) -> Secret:
        return Secret(
            metadata=ObjectMeta(
                name=self.name,
                namespace=self.namespace,
                labels={MANAGED_BY_LABEL: MANAGED_BY},
                resourceVersion=resource_version,
            ),
            type=SECRET_TYPE,
            data={k: base64.b64encode(v).decode("ascii") for k, v in certificates.to_secret_data().items()},
        )

    async def create(self, certificates: CertificateSet) -> None:
        """Create the Secret; `SecretConflict` when it exists already."""
        try:
            await self._client.create(self._secret(certificates, None))
        except ApiError as error:
            if _code(error) == 409:
                raise SecretConflict(f"Secret {self.namespace}/{self.name} exists already") from None
            raise

    async def replace(self, certificates: CertificateSet, resource_version: str) -> None:
        """Replace the Secret read at `resource_version`; `SecretConflict` when it changed since."""
        try:
            await self._client.replace(self._secret(certificates, resource_version))
        except ApiError as error:
            if _code(error) in (409, 404):
                raise SecretConflict(f"Secret {self.namespace}/{self.name} changed meanwhile") from None
            raise


_CONFIGURATION_KINDS: dict[str, Any] = {
    "ValidatingWebhookConfiguration": ValidatingWebhookConfiguration,
    "MutatingWebhookConfiguration": MutatingWebhookConfiguration,
}


def bundle_patch(configuration: Mapping[str, Any], ca_bundle: str) -> list[dict[str, Any]]:
    """JSON patch setting `caBundle` on every webhook of the configuration that lacks this value."""
    operations: list[dict[str, Any]] = []
    for index, webhook in enumerate(configuration.get("webhooks") or []):
        client_config = webhook.get("clientConfig") or {}
        if client_config.get("caBundle") == ca_bundle:
            continue
        operations.append({"op": "test", "path": f"/webhooks/{index}/name", "value": webhook.get("name")})
        if "clientConfig" not in webhook:
            operations.append(
                {"op": "add", "path": f"/webhooks/{index}/clientConfig", "value": {"caBundle": ca_bundle}}
            )
        else:
            operations.append(
                {"op": "add", "path": f"/webhooks/{index}/clientConfig/caBundle", "value": ca_bundle}
            )
    return operations


class BundlePublisher:
    """Keeps `caBundle` of the named webhook configurations equal to the current CA bundle."""

    def __init__(self, client: AsyncClient, validating: str | None, mutating: str | None) -> None:
        self._client = client
        self.targets = [
            (kind, name)
            for kind, name in (
                ("ValidatingWebhookConfiguration", validating),
                ("MutatingWebhookConfiguration", mutating),
            )
            if name
        ]
        self._missing_reported: set[str] = set()

    async def publish(self, ca_bundle_pem: bytes) -> int:
        """Patch every configuration whose bundle differs; the number of configurations patched. A missing
        configuration is reported once and skipped (it may be installed later)."""
        encoded = base64.b64encode(ca_bundle_pem).decode("ascii")
        patched = 0
        for kind, name in self.targets:
            resource = _CONFIGURATION_KINDS[kind]
            try:
                current = await self._client.get(resource, name)
            except ApiError as error:
                if _code(error) != 404:
                    raise
                if name not in self._missing_reported:
                    _log.warning("%s %s not found: its caBundle cannot be set (yet)", kind, name)
                    self._missing_reported.add(name)
                continue
            self._missing_reported.discard(name)
            operations = bundle_patch(current.to_dict(), encoded)
            if not operations:
                continue
            try:
                await self._client.patch(resource, name, operations, patch_type=PatchType.JSON)
            except ApiError as error:
                if _code(error) in (409, 422):
                    # Edited between read and patch (the `test` failed): the next check retries.
                    _log.info("%s %s changed while its caBundle was set; retrying later", kind, name)
                    continue
                raise
            _log.info("caBundle of %s %s updated", kind, name)
            patched += 1
        return patched
