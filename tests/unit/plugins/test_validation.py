"""Running validators: all run, every message is kept and attributed, broken validators reject loudly."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry
from tests.support.plugin_resources import SECRET_CONFIG_VALUE, deployment, session_job, snapshot

from flink_operator.api import FlinkDeployment
from flink_operator.plugins import FlinkResourceValidator
from flink_operator.plugins._host import PluginHost
from flink_operator.plugins._validation import ValidationMessage, ValidationReport
from flink_operator.validation.default_validator import DefaultValidator

pytestmark = pytest.mark.unit

C = "tests.support.plugin_classes"
V = "kubernetes.operator.plugins.validators."
MakeHost = Callable[..., PluginHost]


class UpstreamStyleDefault(FlinkResourceValidator):
    """Stands in for the default validator: rejects deployments without a service account."""

    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        return None if deployment.spec.service_account else "spec.serviceAccount must be defined"


async def test_every_validator_runs_and_every_message_is_reported_default_first(make_host: MakeHost) -> None:
    host = make_host(
        {
            V + "strict.class": f"{C}:RejectingValidator",
            V + "strict.message": "owner label missing",
            V + "naming.class": f"{C}:AsyncNameValidator",
        },
        default_validator=UpstreamStyleDefault(),
    )
    resource = deployment()
    resource.spec.service_account = None
    report = await host.validators.validate_deployment(resource)
    assert report.messages == (
        ValidationMessage("default", "spec.serviceAccount must be defined"),
        ValidationMessage("naming", "name must start with 'prod-'"),
        ValidationMessage("strict", "owner label missing"),
    )
    assert not report.ok
    assert report.describe() == (
        "spec.serviceAccount must be defined; [naming] name must start with 'prod-'; "
        "[strict] owner label missing"
    )


async def test_accepted_resource_gives_an_empty_report(make_host: MakeHost) -> None:
    host = make_host(
        {V + "naming.class": f"{C}:AsyncNameValidator"}, default_validator=UpstreamStyleDefault()
    )
    report = await host.validators.validate_deployment(deployment("prod-orders"))
    assert report == ValidationReport()
    assert report.ok and report.describe() == ""


async def test_session_jobs_and_snapshots_get_their_related_resource(make_host: MakeHost) -> None:
    host = make_host({V + "naming.class": f"{C}:AsyncNameValidator"})
    assert (await host.validators.validate_session_job(session_job(), None)).describe() == (
        "[naming] the session cluster does not exist"
    )
    assert (await host.validators.validate(session_job(), deployment("session"))).ok
    assert not (await host.validators.validate_state_snapshot(snapshot(), None)).ok
    assert (await host.validators.validate(snapshot(), deployment())).ok


async def test_a_raising_hanging_or_misbehaving_validator_rejects_naming_itself(make_host: MakeHost) -> None:
    registry = CollectorRegistry()
    host = make_host(
        {
            "kubernetes.operator.plugins.call-timeout": "300 ms",
            V + "buggy.class": f"{C}:RaisingValidator",
            V + "slow.class": f"{C}:HangingValidator",
            V + "odd.class": f"{C}:WrongTypeValidator",
        },
        registry=registry,
    )
    report = await host.validators.validate_deployment(deployment("prod-x"))
    assert [str(m) for m in report.messages] == [
        "[buggy] validator failed: RuntimeError: validator bug",
        "[odd] validator returned int, expected an error message or None",
        "[slow] validator gave no answer within 0.3 s",
    ]

    def calls(plugin: str, outcome: str) -> float | None:
        labels = {"role": "validator", "plugin": plugin, "outcome": outcome}
        return registry.get_sample_value("flink_operator_plugin_calls_total", labels)

    assert (calls("buggy", "error"), calls("slow", "timeout"), calls("odd", "invalid")) == (1.0, 1.0, 1.0)


async def test_validators_work_on_copies(make_host: MakeHost) -> None:
    host = make_host({V + "scribbler.class": f"{C}:ScribblingValidator"})
    resource = deployment()
    assert (await host.validators.validate_deployment(resource)).ok
    assert resource.metadata.labels is None


async def test_messages_never_echo_secret_values(make_host: MakeHost) -> None:
    class Echo(FlinkResourceValidator):
        def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
            return f"bad config {deployment.spec.flink_configuration}"

    host = make_host(default_validator=Echo())
    report = await host.validators.validate_deployment(deployment(secrets=True))
    assert SECRET_CONFIG_VALUE not in report.describe()
    assert "******" in report.describe()


def test_sync_convenience_for_offline_tools(make_host: MakeHost) -> None:
    host = make_host({V + "strict.class": f"{C}:RejectingValidator"})
    assert host.validators.validate_sync(deployment()).describe() == "[strict] rejected by configuration"
    assert host.validators.validate_sync(deployment()).describe() == "[strict] rejected by configuration"


async def test_non_flink_resources_are_refused(make_host: MakeHost) -> None:
    with pytest.raises(TypeError, match="not a Flink resource"):
        await make_host().validators.validate("a string")  # type: ignore[arg-type]


async def test_the_real_default_validator_runs_first_beside_plugins(make_host: MakeHost) -> None:
    host = make_host({V + "strict.class": f"{C}:RejectingValidator"}, default_validator=DefaultValidator())
    resource = deployment()
    resource.spec.service_account = None
    report = await host.validators.validate_deployment(resource)
    assert [m.validator for m in report.messages] == ["default", "strict"]
    assert "serviceAccount" in report.messages[0].message
    assert report.describe().endswith("; [strict] rejected by configuration")
    plain = make_host(default_validator=DefaultValidator())
    assert (await plain.validators.validate_deployment(deployment())).ok


async def test_a_validator_quoting_a_secret_in_its_exception_leaks_it_nowhere(
    make_host: MakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    class Quoting(FlinkResourceValidator):
        def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
            raise ValueError(f"cannot parse {deployment.spec.flink_configuration}")

    report = await make_host(default_validator=Quoting()).validators.validate_deployment(
        deployment(secrets=True)
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged and "ValueError: cannot parse" in logged
    assert SECRET_CONFIG_VALUE not in logged
    assert SECRET_CONFIG_VALUE not in report.describe()
