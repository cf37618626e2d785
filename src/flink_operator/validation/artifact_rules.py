"""The session-job `jarURI` rule (contract §4.4 (d)): which jar URIs the operator may fetch.

A jar URI must be a URI with a scheme, the scheme (any case) must be in
`kubernetes.operator.user.artifacts.allowed-schemes` (default `https`), and with
`kubernetes.operator.user.artifacts.disallow-restricted-hosts` (default true) an http(s) host must resolve,
and to no loopback, link-local, private, wildcard or multicast address, unless the allowlist
(`jar_uri_options`) exempts it. All three options come from the operator configuration: a resource cannot
loosen them. No `jarURI` at all is fine (the job's classes are on the cluster's classpath).

Resolution goes through the subject's `resolve_host`, so tests need no network and offline validation can
skip it. Credentials in a URI (`https://user:secret@host/...`) are never repeated in messages.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from flink_operator.api import Problem
from flink_operator.flink.artifact_options import ALLOWED_SCHEMES, DISALLOW_RESTRICTED_HOSTS
from flink_operator.validation.context import read_option
from flink_operator.validation.jar_uri_options import ARTIFACT_ALLOWLIST, Allowlist
from flink_operator.validation.rule import got, rule
from flink_operator.validation.subjects import SessionJobSubject

PATH = "spec.job.jarURI"
_HTTP = ("http", "https")


def is_restricted_address(address: str) -> bool:
    """Loopback, link-local, private (site-local), wildcard or multicast; IPv4-mapped IPv6 unwrapped."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified or ip.is_multicast


def _literal(host: str) -> list[str] | None:
    """An IP-literal host is its own address: no resolver is asked."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return None


def _restricted(address: str) -> bool:
    try:
        return is_restricted_address(address)
    except ValueError:
        return True  # not an IP address: refuse rather than guess


def shown_uri(uri: str) -> str:
    """The URI for a message, with any user information replaced by `***`."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return got(uri)
    if "@" not in parts.netloc:
        return got(uri)
    host = parts.netloc.rsplit("@", 1)[1]
    return got(parts._replace(netloc=f"***@{host}").geturl())


def _syntax_problem(uri: str) -> str | None:
    if not uri.strip():
        return "must not be empty; omit it when the job's classes are on the cluster's classpath"
    if any(char.isspace() or ord(char) < 32 for char in uri):
        return "is not a valid URI: it contains blanks or control characters (encode them, e.g. %20)"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as error:
        return f"is not a valid URI: {error}"
    if not parts.scheme:
        return "has no scheme; write a full URI such as https://repo.example.com/jobs/job.jar"
    return None


@rule(
    "session-job-jar-uri",
    "spec.job.jarURI uses an allowed scheme and, for http(s), a host that is not restricted "
    "(operator configuration only).",
)
def session_job_jar_uri(s: SessionJobSubject) -> Iterator[Problem]:
    job = s.session_job.spec.job
    if job is None or job.jar_uri is None:
        return
    uri = job.jar_uri
    problem = _syntax_problem(uri)
    if problem:
        yield Problem(PATH, f"{problem} (got {shown_uri(uri)})")
        return
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    allowed = read_option(s.operator_config, ALLOWED_SCHEMES)
    allowed_schemes = {item.strip().lower() for item in allowed or ()}
    if scheme not in allowed_schemes:
        listed = ", ".join(sorted(allowed_schemes)) or "none"
        yield Problem(
            PATH,
            f"scheme {parts.scheme!r} is not allowed (got {shown_uri(uri)}); allowed: {listed} "
            f"({ALLOWED_SCHEMES.key} in the operator configuration)",
        )
        return
    if scheme not in _HTTP or read_option(s.operator_config, DISALLOW_RESTRICTED_HOSTS) is False:
        return
    host = parts.hostname
    if not host:
        yield Problem(PATH, f"has no host (got {shown_uri(uri)})")
        return
    # An unreadable allowlist fails the operator configuration load, so None only happens in tests.
    allowlist = read_option(s.operator_config, ARTIFACT_ALLOWLIST) or Allowlist()
    if allowlist.allows_uri(uri):
        return
    try:
        addresses = _literal(host) or s.resolve_host(host)
    except OSError as error:
        yield Problem(PATH, f"host {host!r} does not resolve ({error}) (got {shown_uri(uri)})")
        return
    if addresses is None:
        return  # not looked up (offline)
    restricted = sorted(a for a in addresses if _restricted(a) and not allowlist.allows_address(a))
    if restricted:
        yield Problem(
            PATH,
            f"host {host!r} resolves to the restricted address {restricted[0]} (loopback, link-local, "
            f"private, wildcard or multicast) (got {shown_uri(uri)}); allow it with "
            f"{ARTIFACT_ALLOWLIST.key} or {DISALLOW_RESTRICTED_HOSTS.key}: false in the operator "
            "configuration",
        )
