"""The admission webhook: `/validate` and `/mutate` over AdmissionReview v1 and HTTPS, with the default and
plugin validators and mutators, and a certificate it manages itself (or takes from mounted files).

    server = WebhookServer.from_config(plugins, configuration, lightkube_client)
    await server.start(); ...; await server.stop()

`Admission` answers single requests (no HTTP), `build_app` wraps it in an aiohttp application, and
`WebhookSettings` reads the `kubernetes.operator.webhook.*` options. Module internals may change.
"""

from flink_operator.webhook.admission import Admission, is_canary
from flink_operator.webhook.app import MUTATE_PATH, VALIDATE_PATH, build_app
from flink_operator.webhook.lookup import ApiLookup, LookupFailed, NoLookup, RelatedLookup
from flink_operator.webhook.options import WebhookSettings
from flink_operator.webhook.server import WebhookServer

__all__ = [
    "MUTATE_PATH",
    "VALIDATE_PATH",
    "Admission",
    "ApiLookup",
    "LookupFailed",
    "NoLookup",
    "RelatedLookup",
    "WebhookServer",
    "WebhookSettings",
    "build_app",
    "is_canary",
]
