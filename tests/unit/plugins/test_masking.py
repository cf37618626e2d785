"""Masked copies: secret configuration values and env values never survive, everything else does."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from tests.support.flink_documents import valid_documents
from tests.support.plugin_resources import (
    OLD_SECRET_CONFIG_VALUE,
    SECRET_CONFIG_VALUE,
    SECRET_ENV_VALUE,
    deployment,
    with_status,
)

from flink_operator.api import FlinkDeployment
from flink_operator.config.redaction import REDACTED, Redactor
from flink_operator.plugins._masking import Masker

pytestmark = pytest.mark.unit


def dumped(model: object) -> str:
    return json.dumps(model.to_dict())  # type: ignore[attr-defined]


def test_secret_configuration_and_env_values_are_masked_and_the_rest_kept() -> None:
    original = with_status(
        deployment(secrets=True), "STABLE", error=f"upload failed with {SECRET_CONFIG_VALUE}", secrets=True
    )
    masked, secrets = Masker().model(original)
    text = dumped(masked)
    for secret in (SECRET_CONFIG_VALUE, SECRET_ENV_VALUE, OLD_SECRET_CONFIG_VALUE):
        assert secret not in text
    assert secrets == {SECRET_CONFIG_VALUE, SECRET_ENV_VALUE, OLD_SECRET_CONFIG_VALUE}
    assert masked.spec.flink_configuration == {
        "taskmanager.numberOfTaskSlots": "2",
        "s3.secret-key": REDACTED,
    }
    env = masked.spec.pod_template["spec"]["containers"][0]["env"]  # type: ignore[index]
    assert env == [{"name": "API_TOKEN", "value": REDACTED}]
    assert masked.status.error == f"upload failed with {REDACTED}"
    stored = json.loads(masked.status.reconciliation_status.last_reconciled_spec or "")
    assert stored["spec"]["flinkConfiguration"] == {"s3.secret-key": REDACTED}
    assert stored["spec"]["job"]["state"] == "running"
    # The original is untouched.
    assert original.spec.flink_configuration["s3.secret-key"] == SECRET_CONFIG_VALUE  # type: ignore[index]


def test_nested_configuration_keys_and_extra_patterns_are_masked() -> None:
    resource = deployment()
    resource.spec.flink_configuration = {
        "fs": {"azure": {"account": {"key": "azure-key-value"}}},
        "my.custom.blob": "custom-value",
        "parallelism.default": 4,
    }
    masked, _ = Masker(Redactor(["custom\\.blob"])).model(resource)
    assert masked.spec.flink_configuration == {
        "fs": {"azure": {"account": {"key": REDACTED}}},
        "my.custom.blob": REDACTED,
        "parallelism.default": 4,
    }


def test_env_references_are_kept_and_only_literal_values_masked() -> None:
    resource = deployment()
    resource.spec.pod_template = {
        "spec": {
            "initContainers": [{"name": "init", "env": [{"name": "A", "value": "literal-a"}]}],
            "containers": [
                {
                    "name": "main",
                    "env": [{"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                }
            ],
        }
    }
    masked, _ = Masker().model(resource)
    template = masked.spec.pod_template or {}
    assert template["spec"]["initContainers"][0]["env"] == [{"name": "A", "value": REDACTED}]  # type: ignore[index,call-overload]
    assert template["spec"]["containers"][0]["env"] == [  # type: ignore[index,call-overload]
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    ]


def test_last_applied_configuration_annotation_is_masked_structurally() -> None:
    resource = deployment(secrets=True)
    annotation = "kubectl.kubernetes.io/last-applied-configuration"
    resource.metadata.annotations = {annotation: json.dumps(resource.to_dict())}
    masked, _ = Masker().model(resource)
    last_applied = json.loads((masked.metadata.annotations or {})[annotation])
    assert last_applied["spec"]["flinkConfiguration"]["s3.secret-key"] == REDACTED
    assert SECRET_ENV_VALUE not in dumped(masked)


def test_a_previous_status_secret_is_scrubbed_from_the_new_error_text() -> None:
    previous = with_status(deployment(), "STABLE", secrets=True).status
    current = with_status(
        deployment(), "FAILED", error=f"cannot read bucket with key {OLD_SECRET_CONFIG_VALUE}"
    )
    masked, masked_previous, secrets = Masker().pair(current, previous)
    assert OLD_SECRET_CONFIG_VALUE in secrets
    assert masked.status.error == f"cannot read bucket with key {REDACTED}"
    assert masked_previous is not None and OLD_SECRET_CONFIG_VALUE not in dumped(masked_previous)


def test_job_arguments_repeating_a_secret_are_scrubbed() -> None:
    resource = deployment(secrets=True)
    assert resource.spec.job is not None
    resource.spec.job.args = ["--s3-key", SECRET_CONFIG_VALUE, "--mode", "fast"]
    masked, _ = Masker().model(resource)
    assert masked.spec.job is not None and masked.spec.job.args == ["--s3-key", REDACTED, "--mode", "fast"]


def test_secret_values_are_collected_without_copying() -> None:
    assert Masker().secret_values(deployment(secrets=True), None) == {SECRET_CONFIG_VALUE, SECRET_ENV_VALUE}


@settings(max_examples=40, deadline=None)
@given(valid_documents("FlinkDeployment"))
def test_masking_accepts_every_valid_deployment(document: dict[str, object]) -> None:
    resource = FlinkDeployment.from_dict(document)
    masked, secrets = Masker().model(resource)
    assert type(masked) is FlinkDeployment
    assert masked.metadata == resource.metadata
    literal_env_values = [v for v in _env_values(masked.to_dict()) if isinstance(v, str) and v]
    assert all(v == REDACTED for v in literal_env_values)
    assert Masker().model(masked)[0].to_dict() == masked.to_dict()  # masking a masked copy changes nothing
    assert REDACTED not in secrets or REDACTED in json.dumps(resource.to_dict())


def _env_values(node: object) -> list[object]:
    found: list[object] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                found += [item.get("value") for item in value if isinstance(item, dict)]
            found += _env_values(value)
    elif isinstance(node, list):
        for item in node:
            found += _env_values(item)
    return found
