"""Where the operator reaches a cluster's REST API (pure; the override option is in `kube_options`)."""

from __future__ import annotations

from flink_operator.kube.names import rest_service_name

DEFAULT_URL_TEMPLATE = "http://{service}.{namespace}.svc:{port}"


def rest_url(name: str, namespace: str, port: int, template: str | None = None) -> str:
    """The REST base URL of cluster `namespace/name` whose REST service listens on `port`."""
    return (
        (template or DEFAULT_URL_TEMPLATE)
        .format(name=name, namespace=namespace, service=rest_service_name(name), port=port)
        .rstrip("/")
    )
