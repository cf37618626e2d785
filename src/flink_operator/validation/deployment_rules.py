"""Rules on the shape of a FlinkDeployment (contract §4.4 items 1, 2, 6, 7, 12, plus pod templates, the image
pull policy and reactive mode).

Configuration-dependent rules are in `config_rules`, JobManager/TaskManager resources in `resource_rules`,
the job in `job_rules`, changes against the last reconciled spec in `upgrade_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flink_operator.api import FlinkVersion, Problem, format_path
from flink_operator.validation.context import ConfigView
from flink_operator.validation.ingress_template import IngressTemplateError, ingress_url
from flink_operator.validation.pod_template import validate_pod_template
from flink_operator.validation.rule import got, rule
from flink_operator.validation.subjects import DeploymentSubject

CLUSTER_NAME = re.compile(r"[a-z]([-a-z0-9]{0,43}[a-z0-9])?")
"""A Flink cluster id: it names Kubernetes objects and becomes part of DNS names."""
CLUSTER_NAME_RULE = (
    "lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, "
    "at most 45 characters"
)
LOG_CONFIGURATION_FILES = ("log4j-console.properties", "logback-console.xml")
IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
SUPPORTED_SINCE = FlinkVersion.v1_15


def cluster_name_problem(path: str, name: str | None) -> Problem | None:
    """The problem with a cluster name (missing or not matching `CLUSTER_NAME`), if any."""
    if name is None or name == "":
        return Problem(path, "required field is missing")
    if not CLUSTER_NAME.fullmatch(name):
        return Problem(path, f"must be {CLUSTER_NAME_RULE} (got {got(name)})")
    return None


@rule("deployment-name", f"metadata.name is a valid Flink cluster id: {CLUSTER_NAME_RULE}.")
def deployment_name(s: DeploymentSubject) -> Iterator[Problem]:
    metadata = s.deployment.metadata
    if metadata.name is None and metadata.generate_name:
        # The API server picks the name; only the prefix is known here.
        if not re.fullmatch(r"[a-z]([-a-z0-9]{0,39})?", metadata.generate_name):
            yield Problem(
                "metadata.generateName",
                "must start with a lower-case letter, hold only lower-case letters, digits and '-', and be "
                "at most 40 characters so that the generated name (5 more) stays within 45 "
                f"(got {got(metadata.generate_name)})",
            )
        return
    problem = cluster_name_problem("metadata.name", metadata.name)
    if problem:
        yield problem


@rule("flink-version", "spec.flinkVersion is set and supported (v1_15 or newer).")
def flink_version(s: DeploymentSubject) -> Iterator[Problem]:
    version = s.deployment.spec.flink_version
    supported = [v.value for v in FlinkVersion if v.is_equal_or_newer(SUPPORTED_SINCE)]
    if version is None:
        yield Problem("spec.flinkVersion", f"required field is missing; supported: {', '.join(supported)}")
    elif not version.is_supported:
        yield Problem(
            "spec.flinkVersion", f"{version.value} is not supported; use {SUPPORTED_SINCE.value} or newer"
        )


@rule("service-account", "spec.serviceAccount is set.")
def service_account(s: DeploymentSubject) -> Iterator[Problem]:
    account = s.deployment.spec.service_account
    if account is None or not account.strip():
        yield Problem(
            "spec.serviceAccount",
            "required field is missing; name the Kubernetes service account of the Flink pods (e.g. flink)",
        )


@rule("image-pull-policy", "spec.imagePullPolicy, when set, is Always, IfNotPresent or Never.")
def image_pull_policy(s: DeploymentSubject) -> Iterator[Problem]:
    policy = s.deployment.spec.image_pull_policy
    if policy is not None and policy not in IMAGE_PULL_POLICIES:
        yield Problem(
            "spec.imagePullPolicy",
            f"unknown value {got(policy)}; allowed values: {', '.join(IMAGE_PULL_POLICIES)}",
        )


@rule(
    "log-configuration",
    "spec.logConfiguration only holds log4j-console.properties and logback-console.xml.",
)
def log_configuration(s: DeploymentSubject) -> Iterator[Problem]:
    files = s.deployment.spec.log_configuration or {}
    for name in files:
        if name not in LOG_CONFIGURATION_FILES:
            yield Problem(
                format_path(("spec", "logConfiguration", name)),
                f"unknown log configuration file; allowed: {', '.join(LOG_CONFIGURATION_FILES)}",
            )


@rule("ingress-template", "spec.ingress, when set, has a template that expands to a valid Ingress URL.")
def ingress_template(s: DeploymentSubject) -> Iterator[Problem]:
    ingress = s.deployment.spec.ingress
    if ingress is None:
        return
    template = ingress.template
    if template is None or not template.strip():
        yield Problem(
            "spec.ingress.template",
            "required field is missing; e.g. '{{name}}.{{namespace}}.flink.example.com' or "
            "'/{{namespace}}/{{name}}(/|$)(.*)'",
        )
        return
    metadata = s.deployment.metadata
    try:
        ingress_url(template, metadata.name or "name", metadata.namespace or "default")
    except IngressTemplateError as error:
        yield Problem("spec.ingress.template", f"{error} (got {got(template)})")


@rule(
    "pod-templates",
    "spec.podTemplate and the JobManager/TaskManager pod templates fit the Kubernetes Pod schema.",
)
def pod_templates(s: DeploymentSubject) -> Iterator[Problem]:
    spec = s.deployment.spec
    templates = [("spec.podTemplate", spec.pod_template)]
    if spec.job_manager is not None:
        templates.append(("spec.jobManager.podTemplate", spec.job_manager.pod_template))
    if spec.task_manager is not None:
        templates.append(("spec.taskManager.podTemplate", spec.task_manager.pod_template))
    for path, template in templates:
        if template is not None:
            yield from validate_pod_template(template, path, s.kubernetes_version)


def reactive_mode(config: ConfigView) -> bool:
    value = config.text("scheduler-mode")
    return value is not None and value.strip().lower() == "reactive"


@rule(
    "reactive-mode",
    "scheduler-mode: reactive is only used with standalone application deployments (what Flink supports).",
)
def reactive_mode_deployment(s: DeploymentSubject) -> Iterator[Problem]:
    if not reactive_mode(s.config):
        return
    spec = s.deployment.spec
    where = s.config.origin("scheduler-mode")
    if spec.mode is None or spec.mode.value != "standalone":
        yield Problem(
            "spec.mode",
            f"must be standalone when scheduler-mode is reactive{where} (Flink runs reactive mode only in "
            "standalone application clusters)",
        )
    if spec.job is None:
        yield Problem(
            "spec.job",
            f"required when scheduler-mode is reactive{where}: reactive mode does not run session clusters",
        )
