"""Secret redaction: which keys are secret, and how mappings and texts are redacted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_operator.config.redaction import (
    REDACTED,
    Redactor,
    compile_patterns,
    is_secret_key,
    key_segments,
    redact_config,
    redact_text,
)

pytestmark = pytest.mark.unit

SECRET_KEYS = [
    "s3.secret-key",
    "s3.access-key",
    "fs.s3a.secret.key",
    "fs.s3a.access.key",
    "fs.s3a.secretKey",
    "fs.s3a.session.token",
    "fs.azure.account.key.myaccount.blob.core.windows.net",
    "fs.azure.sas.mycontainer.myaccount.blob.core.windows.net.token",
    "security.ssl.key-password",
    "security.ssl.keystore-password",
    "security.ssl.truststore-password",
    "security.ssl.rest.keystore-password",
    "security.ssl.internal.key-password",
    "api-key",
    "metrics.reporter.dghttp.apikey",
    "metrics.reporter.dghttp.apiKey",
    "sasl.jaas.config",
    "properties.sasl.jaas.config",
    "gs.auth.service.account.private.key",
    "fs.gs.auth.service.account.private.key.id.secret",
    "kubernetes.operator.plugins.listeners.webhook.auth-token",
    "kubernetes.operator.plugins.listeners.webhook.header.authorization",
    "oss.accessKeySecret",
    "database.password",
    "my.db.passwd",
    "my.pwd",
    "ssl.key.passphrase",
    "aws.credentials",
    "SECRET",
    "private_key",
    "client_secret",
    "github.access_token",
    "kafka.ssl.keystorePassword",
]

NOT_SECRET_KEYS = [
    "taskmanager.numberOfTaskSlots",
    "pipeline.max-parallelism",
    "state.backend.rocksdb.memory.managed",
    "state.backend.rocksdb.localdir",
    "state.backend.type",
    "job.autoscaler.scaling.key-group.partitions.adjust.mode",
    "kubernetes.operator.job.autoscaler.scaling.key-group.partitions.adjust.mode",
    "security.ssl.keystore",
    "security.ssl.truststore",
    "security.ssl.keystore-type",
    "security.kerberos.login.keytab",
    "security.delegation.tokens.enabled",
    "security.delegation.token.provider.hadoopfs.enabled",
    "security.ssl.rest.authentication-enabled",
    "fs.s3a.aws.credentials.provider",
    "table.exec.sink.keyed-shuffle",
    "key.fields",
    "value.format",
    "key.serializer",
    "kubernetes.operator.reconcile.interval",
    "kubernetes.operator.leader-election.lease-name",
    "high-availability.type",
    "execution.checkpointing.interval",
    "jobmanager.memory.process.size",
    "monkey.business",
    "turnkey",
    "web.submit.enable",
    "kubernetes.container.image.ref",
    "",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", NOT_SECRET_KEYS)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


def test_segments_split_on_separators_and_camel_case() -> None:
    assert key_segments("security.ssl.keyPassword") == ("security", "ssl", "key", "password")
    assert key_segments("taskmanager.numberOfTaskSlots") == ("taskmanager", "number", "of", "task", "slots")
    assert key_segments("fs.s3a.APIKey") == ("fs", "s3a", "api", "key")


def test_extra_patterns_mark_more_keys() -> None:
    assert not is_secret_key("env.java.opts.all")
    assert is_secret_key("env.java.opts.all", [r"^env\.java\.opts"])
    assert is_secret_key("my.connection.string", compile_patterns([r"connection\.STRING"]))


def test_bad_pattern_is_named() -> None:
    with pytest.raises(Exception, match=r"redaction pattern '\(' is not a valid regex"):
        compile_patterns(["("])


def test_redact_config_replaces_secret_values_only() -> None:
    config = {
        "s3.secret-key": "abc123",
        "taskmanager.numberOfTaskSlots": "2",
        "security.ssl.key-password": "pw",
    }
    assert redact_config(config) == {
        "s3.secret-key": REDACTED,
        "taskmanager.numberOfTaskSlots": "2",
        "security.ssl.key-password": REDACTED,
    }
    assert config["s3.secret-key"] == "abc123"


def test_redact_config_walks_nested_mappings() -> None:
    nested = {
        "s3": {"secret-key": "abc", "endpoint": "http://minio"},
        "fs": {"azure": {"account": {"key": "k"}}},
    }
    assert redact_config(nested) == {
        "s3": {"secret-key": REDACTED, "endpoint": "http://minio"},
        "fs": {"azure": {"account": {"key": REDACTED}}},
    }


def test_redactor_with_explicit_secret_keys() -> None:
    redactor = Redactor(patterns=[r"\.opts$"], secret_keys={"kubernetes.operator.user.artifacts.http.header"})
    assert redactor.is_secret_key("kubernetes.operator.user.artifacts.http.header")
    assert redactor.is_secret_key("env.java.opts")
    config = {"env.java.opts": "-Dpw=hunter22", "s3.secret-key": "topsecret", "a": "b"}
    assert redactor.secret_values(config) == {"-Dpw=hunter22", "topsecret"}


def test_redact_text_replaces_known_values() -> None:
    message = "Diff: flinkConfiguration.s3.secret-key : oldsecret -> newsecret; replicas 1 -> 2"
    assert redact_text(message, ["oldsecret", "newsecret"]) == (
        f"Diff: flinkConfiguration.s3.secret-key : {REDACTED} -> {REDACTED}; replicas 1 -> 2"
    )


def test_redact_text_prefers_longest_value_and_ignores_tiny_ones() -> None:
    assert redact_text("pw=abcdef", ["abc", "abcdef"]) == f"pw={REDACTED}"
    assert redact_text("replicas 1 -> 2", ["1", "", "2"]) == "replicas 1 -> 2"
    assert redact_text("a.b*c", ["a.b*c"]) == REDACTED


def test_redactor_for_a_configuration_uses_its_patterns_and_declared_secret_options() -> None:
    from flink_operator.config.redaction import redactor_for

    values = {"kubernetes.operator.redaction.patterns": r"^env\.java\.opts;connection-string$"}
    redactor = redactor_for(values)
    assert redactor.is_secret_key("env.java.opts.all")
    assert redactor.is_secret_key("my.connection-string")
    # Declared secret by the plugin system, as a template key.
    assert redactor.is_secret_key("kubernetes.operator.plugins.listeners.hook.headers")
    assert not redactor.is_secret_key("taskmanager.numberOfTaskSlots")
    # A broken pattern list (reported when loading) does not break redaction.
    assert redactor_for({"kubernetes.operator.redaction.patterns": "("}).is_secret_key("s3.secret-key")


def test_http_header_options_are_secret() -> None:
    assert is_secret_key("kubernetes.operator.user.artifacts.http.header")
    assert is_secret_key("metrics.reporter.otel.exporter.headers")


@given(
    prefix=st.text(max_size=30),
    suffix=st.text(max_size=30),
    secret=st.text(min_size=3, max_size=20).filter(lambda s: s.strip("*") != ""),
)
def test_redacted_text_never_contains_the_secret(prefix: str, suffix: str, secret: str) -> None:
    text = f"{prefix}{secret}{suffix}{secret}"
    assert secret not in redact_text(text, [secret])
