"""The default validator: one small named rule per upstream rule (contract §4.4, §4.5) plus our own, every
problem reported with the field it concerns.

Public surface:

* `DefaultValidator(defaults, resolve_host=..., kubernetes_version=...)`: the plugin-shaped validator the
  operator and the webhook pass to `PluginHost.load(..., default_validator=...)`; `.problems(resource,
  related)` gives the list of `Problem`s;
* `validate_deployment`, `validate_session_job`, `validate_state_snapshot`, `validate_resource`: the same as
  pure functions of a `ValidationContext`; `describe_problems` joins problems into one message;
* `ALL_RULES` (every `Rule` by name) and the per-kind rule tuples;
* host resolvers for the session-job jarURI check: `system_resolver`, `offline_resolver`;
* `ingress_url` / `IngressUrl` / `IngressTemplateError`: the Ingress template contract (§10.2);
* `validate_pod_template` (owned with the models) checks pod templates against the Pod schema.
"""

from flink_operator.validation.context import HostResolver, offline_resolver, system_resolver
from flink_operator.validation.default_validator import (
    ALL_RULES,
    AUTOSCALER_RULES,
    CONFIG_RULES,
    DEPLOYMENT_RULES,
    JOB_RULES,
    SESSION_JOB_RULES,
    SNAPSHOT_RULES,
    DefaultValidator,
    ValidationContext,
    describe_problems,
    validate_deployment,
    validate_resource,
    validate_session_job,
    validate_state_snapshot,
)
from flink_operator.validation.ingress_template import IngressTemplateError, IngressUrl, ingress_url
from flink_operator.validation.rule import Rule

__all__ = [
    "ALL_RULES",
    "AUTOSCALER_RULES",
    "CONFIG_RULES",
    "DEPLOYMENT_RULES",
    "JOB_RULES",
    "SESSION_JOB_RULES",
    "SNAPSHOT_RULES",
    "DefaultValidator",
    "HostResolver",
    "IngressTemplateError",
    "IngressUrl",
    "Rule",
    "ValidationContext",
    "describe_problems",
    "ingress_url",
    "offline_resolver",
    "system_resolver",
    "validate_deployment",
    "validate_resource",
    "validate_session_job",
    "validate_state_snapshot",
]
