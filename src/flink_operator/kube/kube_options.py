"""Options of the Kubernetes runtimes (native and standalone): how the operator reaches Flink's REST API.

`kubernetes.operator.flink.rest.url-template` overrides the REST address of every cluster. The default is
the REST Service's in-cluster DNS name, `http://<name>-rest.<namespace>.svc:<rest.port>`; an operator that
runs outside the cluster cannot resolve it and sets a template instead, e.g. `http://localhost:{port}`
behind `kubectl port-forward`, or the address of an ingress or proxy. Placeholders: `{name}` (cluster),
`{namespace}`, `{service}` (`<name>-rest`), `{port}` (`rest.port` of the cluster).
"""

from __future__ import annotations

import string
from typing import Any

from flink_operator.config import STRING, declare_optional

PLACEHOLDERS = frozenset({"name", "namespace", "service", "port"})


def _check_template(value: Any) -> str | None:
    text = str(value)
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        return f"a URL template with {{placeholders}} ({error})"
    unknown = sorted(set(fields) - PLACEHOLDERS)
    if unknown:
        return (
            f"a URL template using only {{name}}, {{namespace}}, {{service}} and {{port}} "
            f"(unknown: {', '.join('{' + u + '}' for u in unknown)})"
        )
    if not text.startswith(("http://", "https://")):
        return "a URL template starting with http:// or https://"
    return None


REST_URL_TEMPLATE = declare_optional(
    "kubernetes.operator.flink.rest.url-template",
    STRING,
    "Address of the Flink REST API of Kubernetes clusters, for an operator that cannot use the REST "
    "Service's cluster DNS name (e.g. one running outside the cluster): a URL with the placeholders "
    "{name}, {namespace}, {service} and {port}, e.g. 'http://localhost:{port}'. Default: "
    "http://{service}.{namespace}.svc:{port}.",
    check=_check_template,
)
