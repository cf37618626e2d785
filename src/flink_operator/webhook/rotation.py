"""Self-managed certificates over time: create them once, serve them, renew them before they expire, and keep
the webhook configurations trusting them (so cert-manager is optional).

One `sync()` round: read the Secret; create it when missing, or replace it (resourceVersion-locked) when
`certificates.inspect` says the serving certificate or the CA must be renewed; load the serving certificate
into the live TLS context; patch `caBundle` where it differs. A lost race (409) re-reads and adopts the
winner's certificates. `run()` repeats the round every `kubernetes.operator.webhook.cert.check-interval`,
so a replica follows another replica's renewal, and a `caBundle` wiped by a chart upgrade comes back.

Not guaranteed: renewal while the API server is unreachable (the old certificate is served until it
expires; each failed round is logged).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable

from flink_operator.webhook.cert_store import BundlePublisher, CertificateSecret, SecretConflict
from flink_operator.webhook.certificates import (
    CertificateError,
    CertificateSet,
    Inspection,
    Renewal,
    inspect,
    renew,
)
from flink_operator.webhook.options import WebhookSettings
from flink_operator.webhook.tls import ServingTLS

_log = logging.getLogger("flink_operator.webhook")

Clock = Callable[[], datetime.datetime]
_ATTEMPTS = 5


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class SelfManagedCertificates:
    """Keeps a valid certificate in the Secret, in the TLS context and in `caBundle`."""

    def __init__(
        self,
        secret: CertificateSecret,
        publisher: BundlePublisher,
        tls: ServingTLS,
        settings: WebhookSettings,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.secret = secret
        self.publisher = publisher
        self.tls = tls
        self.settings = settings
        self.clock = clock
        self.current: CertificateSet | None = None
        self.renewals = 0
        """Certificates this replica wrote (creations and renewals)."""

    def _renewed(self, current: CertificateSet | None, inspection: Inspection | None) -> CertificateSet:
        s = self.settings
        validity, ca_validity = s.cert_validity, s.ca_validity
        now = self.clock()
        return renew(current, inspection, s.dns_names, now, validity=validity, ca_validity=ca_validity)

    async def _settle(self) -> CertificateSet:
        """The certificates to serve, after creating or renewing them in the Secret if needed."""
        where = f"Secret {self.secret.namespace}/{self.secret.name}"
        for _ in range(_ATTEMPTS):
            stored = await self.secret.read()
            try:
                if stored is None:
                    fresh = self._renewed(None, None)
                    await self.secret.create(fresh)
                    _log.info("Webhook certificate created in %s", where)
                    self.renewals += 1
                    return fresh
                current: CertificateSet | None
                try:
                    current = CertificateSet.from_secret_data(stored.data)
                    inspection = inspect(
                        current, self.settings.dns_names, self.clock(), self.settings.renew_before
                    )
                except CertificateError as error:
                    current, inspection = None, Inspection(Renewal.ALL, str(error))
                if inspection.renewal is Renewal.NONE and current is not None:
                    return current
                fresh = self._renewed(current, inspection)
                await self.secret.replace(fresh, stored.resource_version)
                what = "certificate authority and serving certificate" if (
                    inspection.renewal is Renewal.ALL) else "serving certificate"
                _log.info("Webhook %s renewed in %s: %s", what, where, inspection.reason)
                self.renewals += 1
                return fresh
            except SecretConflict:
                _log.info("%s was written by another replica meanwhile; reading it again", where)
                continue
        raise RuntimeError(f"{where} kept changing during {_ATTEMPTS} attempts to settle it")

    async def sync(self) -> CertificateSet:
        """One round; raises when the Secret or a configuration cannot be read or written."""
        certificates = await self._settle()
        self.tls.load_pem(certificates.tls_cert, certificates.tls_key)
        if self.current is None or self.current.tls_cert != certificates.tls_cert:
            _log.info("Webhook serving certificate loaded")
        self.current = certificates
        await self.publisher.publish(certificates.ca_bundle(self.clock()))
        return certificates

    async def run(self) -> None:
        """`sync()` every check interval until cancelled; failures are logged and retried."""
        while True:
            await asyncio.sleep(self.settings.check_interval.total_seconds())
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("Webhook certificate check failed; serving the current certificate")
