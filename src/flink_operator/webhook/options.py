"""Options of the admission webhook: where it listens, where its certificate comes from, which webhook
configurations get the CA bundle, and how long related-resource lookups may take.

`WebhookSettings.from_config(configuration, namespace)` reads them all at once, resolving the defaults that
depend on the operator namespace. Reading never raises for values the option checks already accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flink_operator.config.configuration import Configuration
from flink_operator.config.constraints import PORT, positive_duration
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import DURATION, INTEGER, STRING

DOCS_SECTION = "Admission webhook"

_P = "kubernetes.operator.webhook."

DEFAULT_SERVICE_NAME = "flink-operator-webhook-service"
DEFAULT_SECRET_NAME = "flink-operator-webhook-cert"  # noqa: S105 - a Secret name

WEBHOOK_PORT = declare(
    _P + "port", INTEGER, 9443,
    "HTTPS port of the admission webhook. The environment variable `WEBHOOK_SERVER_PORT` (upstream's) "
    "also sets it.",
    env_var_name="WEBHOOK_SERVER_PORT",
    check=PORT,
)
WEBHOOK_HOST = declare(
    _P + "host", STRING, "0.0.0.0",  # noqa: S104 - the webhook must be reachable from the API server
    "Address the admission webhook binds to.",
)
WEBHOOK_SERVICE_NAME = declare(
    _P + "service.name", STRING, DEFAULT_SERVICE_NAME,
    "Name of the Service in front of the webhook; the serving certificate is issued for "
    "`<name>.<namespace>.svc` and `<name>.<namespace>.svc.cluster.local`.",
)
WEBHOOK_SERVICE_NAMESPACE = declare_optional(
    _P + "service.namespace", STRING,
    "Namespace of the webhook Service and of the certificate Secret (default: the operator's namespace, "
    "from `OPERATOR_NAMESPACE`).",
)
WEBHOOK_TLS_CERT_FILE = declare_optional(
    _P + "tls.cert-file", STRING,
    "PEM certificate (chain) to serve, e.g. `tls.crt` of a Secret written by cert-manager and mounted into "
    "the pod. Set together with `tls.key-file`; then the webhook neither creates certificates nor patches "
    "`caBundle`, and reloads the files whenever they change.",
)
WEBHOOK_TLS_KEY_FILE = declare_optional(
    _P + "tls.key-file", STRING,
    "PEM private key matching `tls.cert-file`.",
)
WEBHOOK_CERT_SECRET_NAME = declare(
    _P + "cert.secret-name", STRING, DEFAULT_SECRET_NAME,
    "Secret in the service namespace where the self-managed CA and serving certificate are kept, so that "
    "every replica serves the same certificate and restarts reuse it.",
)
WEBHOOK_CERT_VALIDITY = declare(
    _P + "cert.validity", DURATION, timedelta(days=365),
    "Validity of a self-managed serving certificate.",
    check=positive_duration,
)
WEBHOOK_CA_VALIDITY = declare(
    _P + "cert.ca-validity", DURATION, timedelta(days=3650),
    "Validity of the self-managed certificate authority that signs the serving certificates.",
    check=positive_duration,
)
WEBHOOK_CERT_RENEW_BEFORE = declare(
    _P + "cert.renew-before", DURATION, timedelta(days=30),
    "A self-managed certificate (serving or CA) is replaced this long before it expires. A replaced CA stays "
    "in `caBundle` until it expires, so replicas still serving the old certificate stay trusted.",
    check=positive_duration,
)
WEBHOOK_CERT_CHECK_INTERVAL = declare(
    _P + "cert.check-interval", DURATION, timedelta(minutes=1),
    "How often the certificate Secret (or the mounted files), the expiry and the `caBundle` of the webhook "
    "configurations are checked. A `caBundle` emptied by someone else (e.g. a chart upgrade) is restored "
    "within one interval.",
    check=positive_duration,
)
WEBHOOK_VALIDATING_CONFIGURATION = declare_optional(
    _P + "validating-configuration", STRING,
    "ValidatingWebhookConfiguration whose webhooks get the self-managed `caBundle` (default: "
    "`flink-operator-<namespace>-webhook-configuration`). Set to `-` to patch none.",
)
WEBHOOK_MUTATING_CONFIGURATION = declare_optional(
    _P + "mutating-configuration", STRING,
    "MutatingWebhookConfiguration whose webhooks get the self-managed `caBundle` (default: "
    "`flink-operator-<namespace>-webhook-configuration`). Set to `-` to patch none.",
)
WEBHOOK_LOOKUP_TIMEOUT = declare(
    _P + "lookup.timeout", DURATION, timedelta(seconds=2),
    "How long the webhook waits for the Kubernetes API when it reads the session cluster of a "
    "FlinkSessionJob or the target of a FlinkStateSnapshot. Kept well below the API server's webhook "
    "timeout (10 s by default) so that the webhook always answers itself.",
    check=positive_duration,
)

NONE = "-"
"""Configuration-name value meaning "patch no configuration of this kind"."""


def default_configuration_name(namespace: str) -> str:
    """The name the Helm chart gives both webhook configurations (as upstream's chart does)."""
    return f"flink-operator-{namespace}-webhook-configuration"


@dataclass(frozen=True)
class WebhookSettings:
    """Everything the webhook reads from the configuration, with namespace-dependent defaults resolved."""

    host: str
    port: int
    service_name: str
    namespace: str
    secret_name: str
    cert_file: str | None
    key_file: str | None
    cert_validity: timedelta
    ca_validity: timedelta
    renew_before: timedelta
    check_interval: timedelta
    validating_configuration: str | None
    mutating_configuration: str | None
    lookup_timeout: timedelta

    @property
    def self_managed(self) -> bool:
        """True when the webhook creates and rotates its own certificate (no files given)."""
        return self.cert_file is None

    @property
    def dns_names(self) -> tuple[str, ...]:
        """The names the API server may use to reach the webhook Service."""
        base = f"{self.service_name}.{self.namespace}.svc"
        return (base, f"{base}.cluster.local")

    @property
    def configuration_names(self) -> tuple[str | None, str | None]:
        """(validating, mutating) configuration names to patch; None where none is managed."""
        return self.validating_configuration, self.mutating_configuration

    @staticmethod
    def from_config(configuration: Configuration, operator_namespace: str) -> WebhookSettings:
        """Read the settings; raises `ValueError` naming the keys when only one TLS file is set or the
        renewal margin is not shorter than the validities."""
        namespace = configuration.get(WEBHOOK_SERVICE_NAMESPACE) or operator_namespace
        cert_file = configuration.get(WEBHOOK_TLS_CERT_FILE) or None
        key_file = configuration.get(WEBHOOK_TLS_KEY_FILE) or None
        if (cert_file is None) != (key_file is None):
            raise ValueError(
                f"{WEBHOOK_TLS_CERT_FILE.key} and {WEBHOOK_TLS_KEY_FILE.key} must be set together "
                f"(got {'only the certificate' if cert_file else 'only the key'})"
            )

        validity = configuration.get(WEBHOOK_CERT_VALIDITY)
        ca_validity = configuration.get(WEBHOOK_CA_VALIDITY)
        renew_before = configuration.get(WEBHOOK_CERT_RENEW_BEFORE)
        if renew_before >= min(validity, ca_validity):
            raise ValueError(
                f"{WEBHOOK_CERT_RENEW_BEFORE.key} ({renew_before}) must be shorter than "
                f"{WEBHOOK_CERT_VALIDITY.key} ({validity}) and {WEBHOOK_CA_VALIDITY.key} ({ca_validity}), "
                "or every check would replace the certificate"
            )

        def configuration_name(value: str | None) -> str | None:
            if value is None or not value.strip():
                return default_configuration_name(namespace)
            return None if value.strip() == NONE else value.strip()

        return WebhookSettings(
            host=configuration.get(WEBHOOK_HOST),
            port=configuration.get(WEBHOOK_PORT),
            service_name=configuration.get(WEBHOOK_SERVICE_NAME),
            namespace=namespace,
            secret_name=configuration.get(WEBHOOK_CERT_SECRET_NAME),
            cert_file=cert_file,
            key_file=key_file,
            cert_validity=validity,
            ca_validity=ca_validity,
            renew_before=renew_before,
            check_interval=configuration.get(WEBHOOK_CERT_CHECK_INTERVAL),
            validating_configuration=configuration_name(configuration.get(WEBHOOK_VALIDATING_CONFIGURATION)),
            mutating_configuration=configuration_name(configuration.get(WEBHOOK_MUTATING_CONFIGURATION)),
            lookup_timeout=configuration.get(WEBHOOK_LOOKUP_TIMEOUT),
        )
