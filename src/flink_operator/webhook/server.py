"""`WebhookServer`: the admission webhook as one object to start and stop, in its own process
(`flink-operator webhook`) or inside the operator (`flink-operator run --webhook`).

    server = WebhookServer.from_config(plugins, reloader.current.configuration, client)
    await server.start()        # certificate ready, HTTPS listening, certificate checks running
    ...
    await server.stop()

Start-up fails loudly (raises) when no certificate can be had: the mounted files do not load, or the
certificate Secret cannot be read or written. After start-up, certificate trouble is logged and retried
while the current certificate keeps being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from flink_operator.webhook.admission import Admission
from flink_operator.webhook.app import build_app
from flink_operator.webhook.cert_store import BundlePublisher, CertificateSecret
from flink_operator.webhook.lookup import ApiLookup, NoLookup, RelatedLookup
from flink_operator.webhook.options import WebhookSettings
from flink_operator.webhook.rotation import Clock, SelfManagedCertificates, utc_now
from flink_operator.webhook.tls import CertificateFiles, ServingTLS

if TYPE_CHECKING:
    from lightkube import AsyncClient

    from flink_operator.config import Configuration
    from flink_operator.plugins._host import PluginHost

_log = logging.getLogger("flink_operator.webhook")


class WebhookServer:
    """The HTTPS admission server with its certificate management."""

    def __init__(
        self,
        plugins: PluginHost,
        settings: WebhookSettings,
        *,
        client: AsyncClient | None = None,
        lookup: RelatedLookup | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """`client` reads related resources and manages the certificate Secret and `caBundle`; without one,
        certificate files must be configured and related resources are never found."""
        if settings.self_managed and client is None:
            raise ValueError(
                "a self-managed webhook certificate needs Kubernetes API access; give a client or set "
                "kubernetes.operator.webhook.tls.cert-file and tls.key-file"
            )
        self.settings = settings
        self.tls = ServingTLS()
        if lookup is None:
            lookup = (
                ApiLookup(client, timeout=settings.lookup_timeout.total_seconds())
                if client is not None
                else NoLookup()
            )
        self.admission = Admission(plugins, lookup)
        self.certificates: SelfManagedCertificates | None = None
        self.files: CertificateFiles | None = None
        if settings.self_managed:
            assert client is not None
            self.certificates = SelfManagedCertificates(
                CertificateSecret(client, settings.secret_name, settings.namespace),
                BundlePublisher(client, settings.validating_configuration, settings.mutating_configuration),
                self.tls,
                settings,
                clock=clock,
            )
        else:
            assert settings.cert_file is not None and settings.key_file is not None
            self.files = CertificateFiles(self.tls, settings.cert_file, settings.key_file)
        self.port = settings.port
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_config(
        cls,
        plugins: PluginHost,
        configuration: Configuration,
        client: AsyncClient | None,
        *,
        namespace: str | None = None,
        host: str | None = None,
        port: int | None = None,
        clock: Clock = utc_now,
    ) -> WebhookServer:
        """Settings from the operator configuration; `namespace` defaults to the operator's namespace
        (`OPERATOR_NAMESPACE`, else the service account's); `host`/`port` override the configured ones."""
        from dataclasses import replace

        from flink_operator.runtime.manager import operator_namespace

        settings = WebhookSettings.from_config(configuration, namespace or operator_namespace())
        if host is not None:
            settings = replace(settings, host=host)
        if port is not None:
            settings = replace(settings, port=port)
        return cls(plugins, settings, client=client, clock=clock)

    async def check_certificates(self) -> None:
        """One certificate round now (the background task does this every check interval)."""
        if self.certificates is not None:
            await self.certificates.sync()
        elif self.files is not None:
            self.files.check()

    async def _watch_certificates(self) -> None:
        if self.certificates is not None:
            await self.certificates.run()
            return
        interval = self.settings.check_interval.total_seconds()
        while True:
            await asyncio.sleep(interval)
            await self.check_certificates()

    async def start(self) -> None:
        if self._runner is not None:
            return
        if self.certificates is not None:
            await self.certificates.sync()
        elif self.files is not None:
            self.files.load()
        runner = web.AppRunner(build_app(self.admission), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port, ssl_context=self.tls.context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._task = asyncio.create_task(self._watch_certificates(), name="webhook-certificates")
        _log.info(
            "Admission webhook listening on https://%s:%d (/validate, /mutate); certificate %s",
            self.settings.host, self.port,
            "self-managed in Secret " + f"{self.settings.namespace}/{self.settings.secret_name}"
            if self.certificates is not None else f"from {self.settings.cert_file}",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.tls.close()

    async def __aenter__(self) -> WebhookServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host  # noqa: S104
        return f"https://{host}:{self.port}"
