"""The session-job jarURI rule: URI syntax, allowed schemes, restricted hosts, the allowlist, offline mode and
credentials kept out of messages. Host names resolve through a fake resolver (no network)."""

from __future__ import annotations

import pytest
from tests.support.resource_builders import model, session_job, with_field, without_field
from tests.support.rule_runs import fake_resolver

from flink_operator.config import ConfigError, DefaultConfiguration
from flink_operator.config.loading import build_default_configuration
from flink_operator.validation import ValidationContext, offline_resolver, validate_session_job
from flink_operator.validation.artifact_rules import is_restricted_address
from flink_operator.validation.jar_uri_options import ARTIFACT_ALLOWLIST, Allowlist

pytestmark = pytest.mark.unit

SCHEMES = "kubernetes.operator.user.artifacts.allowed-schemes"
RESTRICTED = "kubernetes.operator.user.artifacts.disallow-restricted-hosts"
ALLOWLIST = ARTIFACT_ALLOWLIST.key


def check(uri: str, config: dict[str, str] | None = None, resolver: object = fake_resolver) -> list[str]:
    document = with_field(session_job(), "spec.job.jarURI", uri)
    context = ValidationContext(DefaultConfiguration(values=config or {}), resolve_host=resolver)  # type: ignore[arg-type]
    return [str(p) for p in validate_session_job(model(document), None, context)]


@pytest.mark.parametrize(
    "uri",
    [
        "https://repo.example.com/jobs/job.jar",
        "HTTPS://repo.example.com/jobs/job.jar",
        "https://repo.example.com:8443/jobs/job.jar?version=1",
    ],
)
def test_accepted(uri: str) -> None:
    assert check(uri) == []


def test_no_jar_uri_is_fine() -> None:
    document = without_field(session_job(), "spec.job.jarURI")
    assert validate_session_job(model(document), None, ValidationContext(resolve_host=fake_resolver)) == []


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("", "must not be empty"),
        ("repo.example.com/job.jar", "has no scheme"),
        ("https://repo.example.com/my job.jar", "blanks"),
        ("https://repo.example.com:port/job.jar", "not a valid URI"),
        ("http://repo.example.com/job.jar", "scheme 'http' is not allowed"),
        ("s3://bucket/job.jar", "scheme 's3' is not allowed"),
        ("https:///job.jar", "has no host"),
        ("https://nowhere.example.com/job.jar", "does not resolve"),
        ("https://127.0.0.1/job.jar", "restricted address 127.0.0.1"),
        ("https://[::1]/job.jar", "restricted address ::1"),
        ("https://10.1.2.3/job.jar", "restricted address 10.1.2.3"),
        ("https://192.168.0.7/job.jar", "restricted address"),
        ("https://172.16.5.5/job.jar", "restricted address"),
        ("https://169.254.169.254/latest/meta-data", "restricted address 169.254.169.254"),
        ("https://metadata.example.com/x.jar", "restricted address 169.254.169.254"),
        ("https://0.0.0.0/job.jar", "restricted address"),
        ("https://224.0.0.1/job.jar", "restricted address"),
        ("https://[::ffff:127.0.0.1]/job.jar", "restricted address"),
        ("https://[fe80::1]/job.jar", "restricted address"),
        ("https://[fd00::1]/job.jar", "restricted address"),
        ("https://mixed.example.com/job.jar", "restricted address 127.0.0.1"),
        ("https://artifacts.internal/job.jar", "restricted address 10.20.1.5"),
        ("https://localhost/job.jar", "does not resolve"),
    ],
)
def test_rejected(uri: str, words: str) -> None:
    found = check(uri)
    assert len(found) == 1 and found[0].startswith("spec.job.jarURI: ") and words in found[0], found


def test_schemes_come_from_the_operator_configuration() -> None:
    assert check("http://repo.example.com/job.jar", {SCHEMES: "http;https"}) == []
    assert check("file:///opt/jobs/job.jar", {SCHEMES: "https;file"}) == []
    found = check("file:///opt/jobs/job.jar")
    assert found == [
        "spec.job.jarURI: scheme 'file' is not allowed (got \"file:///opt/jobs/job.jar\"); allowed: https "
        "(kubernetes.operator.user.artifacts.allowed-schemes in the operator configuration)"
    ]


def test_restricted_hosts_can_be_allowed_for_everything() -> None:
    assert check("https://10.1.2.3/job.jar", {RESTRICTED: "false"}) == []
    assert check("https://nowhere.example.com/job.jar", {RESTRICTED: "false"}) == []


@pytest.mark.parametrize(
    ("allowlist", "uri"),
    [
        ("artifacts.internal", "https://artifacts.internal/job.jar"),
        ("ARTIFACTS.internal", "https://artifacts.internal/job.jar"),
        ("10.20.0.0/16", "https://artifacts.internal/job.jar"),
        ("10.1.2.3", "https://10.1.2.3/job.jar"),
        ("https://artifacts.internal/jars/", "https://artifacts.internal/jars/job.jar"),
        ("https://artifacts.internal/jars", "https://artifacts.internal/jars/job.jar"),
        ("https://artifacts.internal:443/", "https://artifacts.internal/any/job.jar"),
        ("other.example.com;https://artifacts.internal", "https://artifacts.internal/job.jar"),
    ],
)
def test_allowlist_exempts(allowlist: str, uri: str) -> None:
    assert check(uri, {ALLOWLIST: allowlist}) == []


@pytest.mark.parametrize(
    ("allowlist", "uri"),
    [
        ("https://artifacts.internal/jars", "https://artifacts.internal/jarsevil/job.jar"),
        ("https://artifacts.internal/jars/", "http://artifacts.internal/jars/job.jar"),
        ("https://artifacts.internal:8443/", "https://artifacts.internal/job.jar"),
        ("https://artifacts.internal", "https://artifacts.internal.evil.example/job.jar"),
        ("10.30.0.0/16", "https://artifacts.internal/job.jar"),
        ("repo.example.com", "https://mixed.example.com/job.jar"),
        ("https://artifacts.internal", "https://artifacts.internal@127.0.0.1/job.jar"),
    ],
)
def test_allowlist_does_not_exempt_lookalikes(allowlist: str, uri: str) -> None:
    config = {ALLOWLIST: allowlist, SCHEMES: "http;https"}
    assert len(check(uri, config)) == 1


def test_the_allowlist_does_not_allow_schemes() -> None:
    found = check("http://artifacts.internal/job.jar", {ALLOWLIST: "artifacts.internal"})
    assert len(found) == 1 and "scheme 'http' is not allowed" in found[0]


def test_a_bad_allowlist_fails_the_configuration_load() -> None:
    with pytest.raises(ConfigError, match=r"kubernetes\.operator\.user\.artifacts\.allowlist"):
        build_default_configuration({ALLOWLIST: "not a host/or prefix"}, environ={})
    parsed = Allowlist.parse(["10.0.0.0/8", " ", "https://x.example/jars/", "host.example"])
    assert parsed.entries == ("10.0.0.0/8", "https://x.example/jars/", "host.example")


def test_credentials_never_appear_in_messages() -> None:
    found = check("http://alice:s3cret@repo.example.com/job.jar")
    assert len(found) == 1
    assert "s3cret" not in found[0] and "alice" not in found[0]
    assert "***@repo.example.com" in found[0]


def test_offline_resolution_skips_names_but_not_literals() -> None:
    assert check("https://nowhere.example.com/job.jar", resolver=offline_resolver) == []
    assert len(check("https://127.0.0.1/job.jar", resolver=offline_resolver)) == 1
    assert len(check("https://localhost/job.jar", resolver=offline_resolver)) == 1


@pytest.mark.parametrize(
    ("address", "restricted"),
    [("8.8.8.8", False), ("2001:4860:4860::8888", False), ("127.0.0.2", True), ("fe80::1%eth0", True)],
)
def test_restricted_addresses(address: str, restricted: bool) -> None:
    assert is_restricted_address(address) is restricted
