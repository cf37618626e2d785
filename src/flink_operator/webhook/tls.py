"""The webhook's TLS server context and how a new certificate reaches it without a restart.

`ServingTLS` owns one `ssl.SSLContext` for the lifetime of the server. Loading a new certificate into that
same context (`load_cert_chain` again) changes what every *new* handshake presents, while established
connections keep theirs; no listener restarts and no request is dropped. Python can load a chain only from
files, so PEM material given in memory is written to a private (0700) temporary directory first.

`CertificateFiles` follows a certificate and key mounted from a Secret (cert-manager, or any other issuer):
it notices changes by comparing `stat` results (following symlinks, so the kubelet's `..data` swap shows
up as a new inode) and reloads. A half-written pair that fails to load is retried at the next check; the
previous certificate keeps being served meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import tempfile
from pathlib import Path

_log = logging.getLogger("flink_operator.webhook")

_Fingerprint = tuple[tuple[int, int, int, int] | None, ...]


class ServingTLS:
    """A server-side SSL context whose certificate can be replaced in place."""

    def __init__(self) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.loaded_certificate: bytes | None = None
        """The PEM certificate chain served now (None before the first load)."""

    def load_files(self, cert_file: str | os.PathLike[str], key_file: str | os.PathLike[str]) -> None:
        """Serve the chain in `cert_file` with `key_file`; raises `ssl.SSLError`/`OSError` and keeps the
        previous certificate when they do not load."""
        # Read once: the files may be replaced while we load them.
        self.load_pem(Path(cert_file).read_bytes(), Path(key_file).read_bytes())

    def load_pem(self, cert_pem: bytes, key_pem: bytes) -> None:
        """Serve the given PEM certificate (chain) and key; raises `ssl.SSLError` and keeps the previous
        certificate when they do not form a valid pair."""
        if self.loaded_certificate == cert_pem:
            return
        if self._directory is None:
            self._directory = tempfile.TemporaryDirectory(prefix="flink-operator-webhook-")
            os.chmod(self._directory.name, 0o700)
        directory = Path(self._directory.name)
        cert_file, key_file = directory / "tls.crt", directory / "tls.key"
        # Created 0600 before the key is written, so the key is never readable by others.
        key_fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(key_fd, "wb") as out:
            out.write(key_pem)
        cert_file.write_bytes(cert_pem)
        # OpenSSL installs the certificate before it checks the key: a bad pair loaded into the live
        # context would leave it serving a certificate with the wrong key. Try a scratch context first.
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert_file, key_file)
        self.context.load_cert_chain(cert_file, key_file)
        self.loaded_certificate = cert_pem

    def close(self) -> None:
        if self._directory is not None:
            with contextlib.suppress(OSError):
                self._directory.cleanup()
            self._directory = None


class CertificateFiles:
    """A mounted certificate and key, reloaded into a `ServingTLS` whenever they change."""

    def __init__(self, tls: ServingTLS, cert_file: str, key_file: str) -> None:
        self.tls = tls
        self.cert_file = Path(cert_file)
        self.key_file = Path(key_file)
        self._fingerprint: _Fingerprint | None = None
        self.last_error: str | None = None

    def _take_fingerprint(self) -> _Fingerprint:
        entries: list[tuple[int, int, int, int] | None] = []
        for path in (self.cert_file, self.key_file):
            try:
                st = path.stat()
            except OSError:
                entries.append(None)
                continue
            entries.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(entries)

    def load(self) -> None:
        """Load now; raises when the files are missing or do not form a valid pair (for start-up)."""
        fingerprint = self._take_fingerprint()
        self.tls.load_files(self.cert_file, self.key_file)
        self._fingerprint = fingerprint
        self.last_error = None

    def check(self) -> bool:
        """Reload if the files changed; True when a new certificate was loaded. Never raises."""
        fingerprint = self._take_fingerprint()
        if fingerprint == self._fingerprint:
            return False
        try:
            self.tls.load_files(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as error:
            if self.last_error != str(error):
                _log.error("Webhook certificate files could not be loaded, still serving the previous "
                           "certificate: %s", error)
            self.last_error = str(error)
            return False
        self._fingerprint = fingerprint
        self.last_error = None
        _log.info("Webhook certificate reloaded from %s", self.cert_file)
        return True
