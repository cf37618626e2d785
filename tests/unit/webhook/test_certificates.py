"""Self-managed certificates as data: what is issued, when a set must be renewed (serving only, or CA too),
and which CAs the bundle carries across a CA rotation."""

from __future__ import annotations

import contextlib
import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from flink_operator.webhook.certificates import (
    CA_PREVIOUS,
    CertificateError,
    CertificateSet,
    Renewal,
    inspect,
    issue_serving,
    new_ca,
    new_certificate_set,
    renew,
)

pytestmark = pytest.mark.unit

NAMES = ("flink-operator-webhook-service.flink.svc", "flink-operator-webhook-service.flink.svc.cluster.local")
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
RENEW_BEFORE = 30 * DAY


def fresh(now: datetime.datetime = NOW) -> CertificateSet:
    return new_certificate_set(NAMES, now, validity=365 * DAY, ca_validity=3650 * DAY)


def test_serving_certificate_names_the_service_and_chains_to_the_ca(tmp_path: Path) -> None:
    certificates = new_certificate_set(
        NAMES, datetime.datetime.now(datetime.UTC), validity=365 * DAY, ca_validity=3650 * DAY
    )
    serving = x509.load_pem_x509_certificate(certificates.tls_cert)
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == list(NAMES)
    assert not serving.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # What the API server does: verify the chain and the host name with only the CA bundle.
    (tmp_path / "tls.crt").write_bytes(certificates.tls_cert)
    (tmp_path / "tls.key").write_bytes(certificates.tls_key)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    client = ssl.create_default_context(cadata=certificates.ca_bundle(NOW).decode())
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(client_in, client_out, server_hostname=NAMES[0])
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    for _ in range(10):
        for side, out, into in ((client_side, client_out, server_in), (server_side, server_out, client_in)):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
            into.write(out.read())
    peer = client_side.getpeercert()
    assert peer is not None and peer["subjectAltName"][0] == ("DNS", NAMES[0])


def test_a_valid_set_needs_nothing() -> None:
    inspection = inspect(fresh(), NAMES, NOW + DAY, RENEW_BEFORE)
    assert inspection.renewal is Renewal.NONE
    assert inspection.serving_expires == NOW + 365 * DAY


def test_serving_certificate_is_renewed_before_it_expires_with_the_same_ca() -> None:
    current = fresh()
    later = NOW + 340 * DAY
    inspection = inspect(current, NAMES, later, RENEW_BEFORE)
    assert inspection.renewal is Renewal.SERVING
    assert "expires" in inspection.reason
    renewed = renew(current, inspection, NAMES, later, validity=365 * DAY, ca_validity=3650 * DAY)
    assert renewed.ca_cert == current.ca_cert and renewed.tls_cert != current.tls_cert
    assert inspect(renewed, NAMES, later, RENEW_BEFORE).renewal is Renewal.NONE


def test_serving_certificate_never_outlives_its_ca() -> None:
    ca_cert, ca_key = new_ca("short", NOW, 10 * DAY)
    tls_cert, _ = issue_serving(ca_cert, ca_key, NAMES, NOW, 365 * DAY)
    assert x509.load_pem_x509_certificate(tls_cert).not_valid_after_utc == NOW + 10 * DAY


def test_expiring_ca_is_replaced_and_kept_in_the_bundle_until_it_expires() -> None:
    current = new_certificate_set(NAMES, NOW, validity=365 * DAY, ca_validity=400 * DAY)
    later = NOW + 380 * DAY
    inspection = inspect(current, NAMES, later, RENEW_BEFORE)
    assert inspection.renewal is Renewal.ALL
    renewed = renew(current, inspection, NAMES, later, validity=365 * DAY, ca_validity=3650 * DAY)
    assert renewed.ca_cert != current.ca_cert
    assert renewed.previous_ca_cert == current.ca_cert
    assert renewed.to_secret_data()[CA_PREVIOUS] == current.ca_cert
    bundle = renewed.ca_bundle(later)
    assert renewed.ca_cert.strip() in bundle and current.ca_cert.strip() in bundle
    # Once the old CA expired it leaves the bundle.
    assert renewed.ca_bundle(NOW + 401 * DAY) == renewed.ca_cert


def test_wrong_names_or_foreign_signature_renew_the_serving_certificate() -> None:
    current = fresh()
    inspection = inspect(current, (*NAMES, "other.flink.svc"), NOW, RENEW_BEFORE)
    assert inspection.renewal is Renewal.SERVING and "other.flink.svc" in inspection.reason
    foreign = fresh()
    mixed = CertificateSet(current.ca_cert, current.ca_key, foreign.tls_cert, foreign.tls_key)
    assert inspect(mixed, NAMES, NOW, RENEW_BEFORE).renewal is Renewal.SERVING
    swapped = CertificateSet(current.ca_cert, current.ca_key, current.tls_cert, foreign.tls_key)
    assert "does not match" in inspect(swapped, NAMES, NOW, RENEW_BEFORE).reason


def test_unreadable_or_mismatched_ca_replaces_everything() -> None:
    current = fresh()
    broken = CertificateSet(b"not a certificate", current.ca_key, current.tls_cert, current.tls_key)
    assert inspect(broken, NAMES, NOW, RENEW_BEFORE).renewal is Renewal.ALL
    other = fresh()
    mismatched = CertificateSet(current.ca_cert, other.ca_key, current.tls_cert, current.tls_key)
    assert inspect(mismatched, NAMES, NOW, RENEW_BEFORE).renewal is Renewal.ALL


def test_secret_data_round_trips_and_missing_keys_are_named() -> None:
    current = fresh()
    assert CertificateSet.from_secret_data(current.to_secret_data()) == current
    with pytest.raises(CertificateError, match=r"ca\.key, tls\.key"):
        CertificateSet.from_secret_data({"ca.crt": b"x", "tls.crt": b"y"})
