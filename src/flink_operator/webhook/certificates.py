"""Self-managed webhook certificates as plain data: a CA and a serving certificate, what the Secret holds,
and the decision whether they must be replaced.

Pure functions over PEM bytes and a clock value; nothing here reads or writes the Kubernetes API (see
`cert_store`) or files (see `tls`). Keys are ECDSA P-256: small, fast, and accepted by every API server.

The Secret (type `kubernetes.io/tls`, so tools recognise it) holds `tls.crt`/`tls.key` (the serving
certificate and key), `ca.crt`/`ca.key` (the signing CA) and, after a CA rotation, `ca-previous.crt` (the
previous CA, kept in `caBundle` until it expires so replicas still serving a certificate it signed stay
trusted).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TLS_CERT = "tls.crt"
TLS_KEY = "tls.key"
CA_CERT = "ca.crt"
CA_KEY = "ca.key"
CA_PREVIOUS = "ca-previous.crt"
SECRET_TYPE = "kubernetes.io/tls"  # noqa: S105 - a Secret type, not a password

# Certificates start a little in the past: clocks of the API server and the operator may disagree.
_BACKDATE = datetime.timedelta(minutes=5)


class CertificateError(ValueError):
    """Stored certificate material that cannot be used (unparsable, or key and certificate do not match)."""


@dataclass(frozen=True)
class CertificateSet:
    """The CA, the serving certificate and (after a CA rotation) the previous CA, all PEM."""

    ca_cert: bytes
    ca_key: bytes
    tls_cert: bytes
    tls_key: bytes
    previous_ca_cert: bytes | None = None

    def to_secret_data(self) -> dict[str, bytes]:
        data = {CA_CERT: self.ca_cert, CA_KEY: self.ca_key, TLS_CERT: self.tls_cert, TLS_KEY: self.tls_key}
        if self.previous_ca_cert:
            data[CA_PREVIOUS] = self.previous_ca_cert
        return data

    @staticmethod
    def from_secret_data(data: Mapping[str, bytes]) -> CertificateSet:
        """The set stored in a Secret's (decoded) data; raises `CertificateError` naming missing keys."""
        missing = [key for key in (CA_CERT, CA_KEY, TLS_CERT, TLS_KEY) if not data.get(key)]
        if missing:
            raise CertificateError(f"the Secret lacks {', '.join(missing)}")
        return CertificateSet(
            ca_cert=data[CA_CERT],
            ca_key=data[CA_KEY],
            tls_cert=data[TLS_CERT],
            tls_key=data[TLS_KEY],
            previous_ca_cert=data.get(CA_PREVIOUS) or None,
        )

    def ca_bundle(self, now: datetime.datetime) -> bytes:
        """PEM of the CAs the API server should trust: the current one, and the previous one until it
        expires."""
        bundle = self.ca_cert
        if self.previous_ca_cert:
            try:
                previous = x509.load_pem_x509_certificate(self.previous_ca_cert)
            except ValueError:
                return bundle
            if previous.not_valid_after_utc > now:
                bundle = bundle.rstrip(b"\n") + b"\n" + self.previous_ca_cert
        return bundle


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not signing,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signing,
        crl_sign=signing,
        encipher_only=False,
        decipher_only=False,
    )


def new_ca(common_name: str, now: datetime.datetime, validity: datetime.timedelta) -> tuple[bytes, bytes]:
    """A self-signed CA valid from `now` for `validity`: (certificate PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _cert_pem(certificate), _key_pem(key)


def issue_serving(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    dns_names: Sequence[str],
    now: datetime.datetime,
    validity: datetime.timedelta,
) -> tuple[bytes, bytes]:
    """A serving certificate for `dns_names` signed by the CA: (certificate PEM, key PEM). Its validity
    never outlasts the CA's."""
    if not dns_names:
        raise ValueError("a serving certificate needs at least one DNS name")
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise CertificateError("the CA key is not an EC key")
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + validity, ca_cert.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _cert_pem(certificate), _key_pem(key)


def new_certificate_set(
    dns_names: Sequence[str],
    now: datetime.datetime,
    *,
    validity: datetime.timedelta,
    ca_validity: datetime.timedelta,
    previous_ca_cert: bytes | None = None,
) -> CertificateSet:
    """A fresh CA and a serving certificate it signed."""
    ca_cert, ca_key = new_ca(f"flink-operator-webhook-ca@{int(now.timestamp())}", now, ca_validity)
    tls_cert, tls_key = issue_serving(ca_cert, ca_key, dns_names, now, validity)
    return CertificateSet(ca_cert, ca_key, tls_cert, tls_key, previous_ca_cert)


class Renewal(enum.Enum):
    """What a stored set needs."""

    NONE = "none"
    SERVING = "serving"
    """A new serving certificate from the same CA."""
    ALL = "all"
    """A new CA and a new serving certificate (the CA is expiring or the material is unusable)."""


@dataclass(frozen=True)
class Inspection:
    renewal: Renewal
    reason: str
    serving_expires: datetime.datetime | None = None
    ca_expires: datetime.datetime | None = None


def inspect(
    certificates: CertificateSet,
    dns_names: Sequence[str],
    now: datetime.datetime,
    renew_before: datetime.timedelta,
) -> Inspection:
    """Decide whether the stored set can be served as is, needs a new serving certificate, or a new CA."""
    try:
        ca = x509.load_pem_x509_certificate(certificates.ca_cert)
        ca_key = serialization.load_pem_private_key(certificates.ca_key, password=None)
    except ValueError as error:
        return Inspection(Renewal.ALL, f"the stored CA cannot be read ({error})")
    if ca_key.public_key() != ca.public_key():
        return Inspection(Renewal.ALL, "the stored CA key does not match the CA certificate")
    ca_expires = ca.not_valid_after_utc
    if ca_expires - renew_before <= now:
        return Inspection(Renewal.ALL, f"the CA expires at {ca_expires.isoformat()}", None, ca_expires)
    try:
        serving = x509.load_pem_x509_certificate(certificates.tls_cert)
        serving_key = serialization.load_pem_private_key(certificates.tls_key, password=None)
    except ValueError as error:
        return Inspection(Renewal.SERVING, f"the stored serving certificate cannot be read ({error})")
    if serving_key.public_key() != serving.public_key():
        return Inspection(Renewal.SERVING, "the stored serving key does not match its certificate")
    if serving.issuer != ca.subject or not _signed_by(serving, ca):
        return Inspection(Renewal.SERVING, "the stored serving certificate was not signed by the stored CA")
    try:
        names = set(serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                    .get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = set()
    missing = [name for name in dns_names if name not in names]
    if missing:
        return Inspection(Renewal.SERVING, f"the serving certificate lacks the names {', '.join(missing)}")
    serving_expires = serving.not_valid_after_utc
    if serving_expires - renew_before <= now:
        return Inspection(
            Renewal.SERVING, f"the serving certificate expires at {serving_expires.isoformat()}",
            serving_expires, ca_expires,
        )
    return Inspection(Renewal.NONE, "valid", serving_expires, ca_expires)


def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except Exception:  # InvalidSignature, or a ValueError/TypeError for mismatched key types
        return False
    return True


def renew(
    current: CertificateSet | None,
    inspection: Inspection | None,
    dns_names: Sequence[str],
    now: datetime.datetime,
    *,
    validity: datetime.timedelta,
    ca_validity: datetime.timedelta,
) -> CertificateSet:
    """The set to store instead of `current` (None: there is none yet)."""
    if current is None or inspection is None or inspection.renewal is Renewal.ALL:
        previous: bytes | None = None
        if current is not None:
            try:
                old = x509.load_pem_x509_certificate(current.ca_cert)
                if old.not_valid_after_utc > now:
                    previous = current.ca_cert
            except ValueError:
                previous = None
        return new_certificate_set(
            dns_names, now, validity=validity, ca_validity=ca_validity, previous_ca_cert=previous
        )
    tls_cert, tls_key = issue_serving(current.ca_cert, current.ca_key, dns_names, now, validity)
    return CertificateSet(current.ca_cert, current.ca_key, tls_cert, tls_key, current.previous_ca_cert)


def serial_number(certificate_pem: bytes) -> int:
    """The serial number of a PEM certificate (the first in a chain)."""
    return x509.load_pem_x509_certificate(certificate_pem).serial_number
