"""The allowlist for session-job artifacts on restricted hosts (FLINK-40709): its option and its matching.

`kubernetes.operator.user.artifacts.disallow-restricted-hosts` (on by default) refuses jar URIs whose host is
loopback, link-local, private, wildcard or multicast, which also blocks legitimate in-cluster artifact
stores. Upstream's only way out is to switch the protection off for everything. The allowlist exempts chosen
stores instead; each `;`-separated entry is one of

* a URI prefix, `http://minio.storage.svc:9000/jars/`: scheme, host and port must be equal and the path must
  start with the prefix path at a `/` boundary (so `http://minio:9000` never matches `http://minio:9000.evil`);
* a host name, `artifacts.storage.svc.cluster.local` (exact, case-insensitive);
* an IP address or network, `10.20.0.0/16`: every address the host resolves to must lie inside an allowed
  network (or be unrestricted).

The allowlist only lifts the restricted-host check; the scheme must still be in `allowed-schemes`. Like the
other artifact options it is read from the operator configuration only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from flink_operator.config import ValueType, declare
from flink_operator.config.errors import ValueParseError
from flink_operator.config.values import split_escaped

_DEFAULT_PORTS = {"http": 80, "https": 443}
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowlist:
    """The parsed allowlist entries."""

    entries: tuple[str, ...] = ()
    """The entries as written."""
    prefixes: tuple[tuple[str, str, int | None, str], ...] = ()
    """(scheme, host, port, path) of each URI prefix."""
    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()

    @staticmethod
    def parse(entries: Sequence[str]) -> Allowlist:
        """Parse entries; raises `ValueError` naming an entry that is none of the three forms."""
        prefixes: list[tuple[str, str, int | None, str]] = []
        hosts: set[str] = set()
        networks: list[IpNetwork] = []
        kept = tuple(entry.strip() for entry in entries if entry.strip())
        for entry in kept:
            if "://" in entry:
                prefixes.append(_split(entry))
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or ":" in entry or " " in entry:
                raise ValueError(
                    f"allowlist entry {entry!r} is neither a URI prefix, a host name nor an IP network"
                )
            hosts.add(entry.lower().rstrip("."))
        return Allowlist(kept, tuple(prefixes), frozenset(hosts), tuple(networks))

    def allows_uri(self, uri: str) -> bool:
        """The URI's host is exempt by name or by URI prefix (networks are checked per address)."""
        try:
            scheme, host, port, path = _split(uri)
        except ValueError:
            return False
        if host in self.hosts:
            return True
        for p_scheme, p_host, p_port, p_path in self.prefixes:
            if (scheme, host, port) != (p_scheme, p_host, p_port):
                continue
            if not p_path or p_path == "/" or path == p_path:
                return True
            boundary = p_path if p_path.endswith("/") else p_path + "/"
            if path.startswith(boundary):
                return True
        return False

    def allows_address(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def _split(uri: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        raise ValueError(f"allowlist entry {uri!r} is not a URI prefix with a scheme and a host")
    port = parts.port  # ValueError for a bad port
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme), parts.path


def _parse_allowlist(text: str) -> Allowlist:
    try:
        return Allowlist.parse(split_escaped(text, ";"))
    except ValueError as error:
        raise ValueParseError(
            "an allowlist",
            "';'-separated URI prefixes, host names or IP networks",
            str(error),
        ) from error


ALLOWLIST: ValueType[Allowlist] = ValueType(
    "Allowlist", _parse_allowlist, lambda allowlist: ";".join(allowlist.entries)
)

ARTIFACT_ALLOWLIST = declare(
    "kubernetes.operator.user.artifacts.allowlist",
    ALLOWLIST,
    Allowlist(),
    "Session-job jar URIs exempt from the restricted-host check (`;`-separated): URI prefixes "
    "(`http://minio.storage.svc:9000/jars/`), host names, or IP networks (`10.20.0.0/16`). The scheme must "
    "still be allowed by `kubernetes.operator.user.artifacts.allowed-schemes`.",
)
