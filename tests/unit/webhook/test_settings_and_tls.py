"""Webhook settings from the configuration (defaults, environment, mistakes named), and the TLS context taking
new certificates in place: from memory, and from mounted files that change."""

from __future__ import annotations

import asyncio
import datetime
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509

from flink_operator.config import Configuration, load_default_configuration
from flink_operator.webhook.certificates import CertificateSet, new_certificate_set, serial_number
from flink_operator.webhook.options import WebhookSettings
from flink_operator.webhook.tls import CertificateFiles, ServingTLS

pytestmark = pytest.mark.unit

DAY = datetime.timedelta(days=1)
NAME = "flink-operator-webhook-service.flink.svc"


def certificates() -> CertificateSet:
    return new_certificate_set(
        (NAME,), datetime.datetime.now(datetime.UTC), validity=30 * DAY, ca_validity=60 * DAY
    )


def test_defaults_follow_the_operator_namespace() -> None:
    settings = WebhookSettings.from_config(Configuration({}), "flink")
    assert settings.port == 9443 and settings.self_managed
    assert settings.dns_names == (
        "flink-operator-webhook-service.flink.svc",
        "flink-operator-webhook-service.flink.svc.cluster.local",
    )
    assert settings.configuration_names == (
        "flink-operator-flink-webhook-configuration",
        "flink-operator-flink-webhook-configuration",
    )
    assert settings.secret_name == "flink-operator-webhook-cert"


def test_configured_values_and_the_upstream_port_variable(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("kubernetes.operator.webhook.port: 9000\n")
    loaded = load_default_configuration(
        {"WEBHOOK_SERVER_PORT": "10443"}, path=tmp_path / "config.yaml"
    ).configuration
    assert WebhookSettings.from_config(loaded, "ops").port == 10443
    settings = WebhookSettings.from_config(
        Configuration(
            {
                "kubernetes.operator.webhook.service.namespace": "hooks",
                "kubernetes.operator.webhook.mutating-configuration": "-",
                "kubernetes.operator.webhook.validating-configuration": "my-validation",
                "kubernetes.operator.webhook.tls.cert-file": "/certs/tls.crt",
                "kubernetes.operator.webhook.tls.key-file": "/certs/tls.key",
            }
        ),
        "ops",
    )
    assert settings.namespace == "hooks" and not settings.self_managed
    assert settings.configuration_names == ("my-validation", None)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"kubernetes.operator.webhook.tls.cert-file": "/c"}, "tls.key-file"),
        ({"kubernetes.operator.webhook.cert.renew-before": "400 d"}, "renew-before"),
    ],
)
def test_inconsistent_settings_are_named(values: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        WebhookSettings.from_config(Configuration(values), "ops")


async def _serial_of(port: int, ca: bytes) -> int:
    context = ssl.create_default_context(cadata=ca.decode())
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=NAME)
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    return x509.load_der_x509_certificate(der).serial_number


@pytest.fixture
async def tls_server() -> AsyncIterator[tuple[ServingTLS, int]]:
    tls = ServingTLS()

    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    first = certificates()
    tls.load_pem(first.tls_cert, first.tls_key)
    server = await asyncio.start_server(ignore, "127.0.0.1", 0, ssl=tls.context)
    yield tls, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    tls.close()


async def test_new_certificate_is_served_without_restarting_the_listener(
    tls_server: tuple[ServingTLS, int],
) -> None:
    tls, port = tls_server
    assert tls.loaded_certificate is not None
    before = x509.load_pem_x509_certificate(tls.loaded_certificate).serial_number
    second = certificates()
    tls.load_pem(second.tls_cert, second.tls_key)
    assert await _serial_of(port, second.ca_cert) == serial_number(second.tls_cert)
    assert before != x509.load_pem_x509_certificate(second.tls_cert).serial_number


async def test_mounted_files_are_reloaded_when_the_kubelet_swaps_them(
    tls_server: tuple[ServingTLS, int], tmp_path: Path
) -> None:
    tls, port = tls_server

    def mount(version: str, material: CertificateSet, key: bytes | None = None) -> None:
        # The kubelet's layout: files are symlinks through `..data` to a versioned directory.
        directory = tmp_path / version
        directory.mkdir()
        (directory / "tls.crt").write_bytes(material.tls_cert)
        (directory / "tls.key").write_bytes(key if key is not None else material.tls_key)
        link = tmp_path / "..data_tmp"
        link.symlink_to(version)
        os.replace(link, tmp_path / "..data")
        for name in ("tls.crt", "tls.key"):
            if not (tmp_path / name).is_symlink():
                (tmp_path / name).symlink_to(f"..data/{name}")

    first, second = certificates(), certificates()
    mount("v1", first)
    files = CertificateFiles(tls, str(tmp_path / "tls.crt"), str(tmp_path / "tls.key"))
    files.load()
    assert not files.check()
    mount("v2", second)
    assert files.check()
    assert await _serial_of(port, second.ca_cert) == serial_number(second.tls_cert)
    # A mismatched pair is refused; the previous certificate stays in service.
    mount("v3", first, key=second.tls_key)
    assert not files.check() and files.last_error
    assert await _serial_of(port, second.ca_cert) == serial_number(second.tls_cert)
