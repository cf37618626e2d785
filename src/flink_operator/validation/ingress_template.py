"""The Ingress URL template of `spec.ingress.template` (contract §10.2): expanding and checking it.

`{{name}}` and `{{namespace}}` (any case) are replaced by the resource's name and namespace; `http://` is put
in front when the result has no scheme; the host part becomes the Ingress rule's host and the path part its
path. Examples: `{{name}}.{{namespace}}.flink.example.com` (host routing),
`flink.example.com/{{namespace}}/{{name}}(/|$)(.*)` (host and regex path, with nginx's `rewrite-target`),
`/{{namespace}}/{{name}}(/|$)(.*)` (path only, any host).

`ingress_url` is what the Ingress builder uses; it raises `IngressTemplateError` with the reason, which the
validator reports. The host must be a valid Ingress host (a lower-case DNS name, optionally starting with
`*.`), since the API server would reject the Ingress otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_PLACEHOLDER = re.compile(r"\{\{\s*(name|namespace)\s*\}\}", re.IGNORECASE)
_LEFTOVER = re.compile(r"\{\{.*?\}\}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class IngressTemplateError(ValueError):
    """The template does not give a usable Ingress URL; the message says why."""


@dataclass(frozen=True)
class IngressUrl:
    """Where the Ingress routes: `host` ("" for any host) and `path` ("" for the root)."""

    scheme: str
    host: str
    path: str


def expand_ingress_template(template: str, name: str, namespace: str) -> str:
    """The template with `{{name}}` and `{{namespace}}` replaced."""
    return _PLACEHOLDER.sub(lambda m: name if m.group(1).lower() == "name" else namespace, template)


def _host_problem(host: str) -> str | None:
    labels = host.split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if not labels:
            return "a wildcard host needs a domain after '*.'"
    if len(host) > 253:
        return f"host {host!r} is longer than 253 characters"
    for label in labels:
        if not _DNS_LABEL.fullmatch(label) or len(label) > 63:
            return (
                f"host {host!r} is not a valid DNS name (lower-case letters, digits, '-' and '.', each part "
                "at most 63 characters; optionally starting with '*.')"
            )
    return None


def ingress_url(template: str, name: str, namespace: str) -> IngressUrl:
    """Expand and parse the template; raises `IngressTemplateError`."""
    if not template.strip():
        raise IngressTemplateError("the template is empty")
    expanded = expand_ingress_template(template.strip(), name, namespace)
    leftover = _LEFTOVER.search(expanded)
    if leftover:
        raise IngressTemplateError(
            f"unknown placeholder {leftover.group(0)}; only {{{{name}}}} and {{{{namespace}}}} are replaced"
        )
    if any(char.isspace() for char in expanded):
        raise IngressTemplateError("a URL cannot contain blanks")
    url = expanded if _SCHEME.match(expanded) else "http://" + expanded
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number
    except ValueError as error:
        raise IngressTemplateError(f"not a valid URL: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise IngressTemplateError(f"scheme {parts.scheme!r} is not supported; use http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise IngressTemplateError("a URL for an Ingress cannot contain user information ('user@')")
    host = parts.hostname or ""
    if host:
        problem = _host_problem(host)
        if problem:
            raise IngressTemplateError(problem)
    elif port is not None:
        raise IngressTemplateError("a port needs a host")
    return IngressUrl(scheme, host, parts.path)
