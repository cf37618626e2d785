"""Running validators: all run, every message is kept and attributed, broken validators reject loudly."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry
from tests.support.plugin_resources import SECRET_CONFIG_VALUE, deployment, session_job, snapshot

from flink_operator.api import FlinkDeployment, FlinkSessionJob
from flink_operator.plugins import FlinkResourceValidator
from flink_operator.plugins._host import PluginHost
from flink_operator.plugins._validation import ValidationMessage, ValidationReport, ValidatorUnavailableError
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


async def test_a_raising_hanging_or_misbehaving_validator_rejects_naming_itself_at_admission(
    make_host: MakeHost,
) -> None:
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
    report = await host.validators.validate(deployment("prod-x"))
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


async def test_in_the_reconcile_loop_a_validator_without_answer_is_a_transient_error(
    make_host: MakeHost,
) -> None:
    registry = CollectorRegistry()
    host = make_host(
        {
            "kubernetes.operator.plugins.call-timeout": "200 ms",
            V + "strict.class": f"{C}:RejectingValidator",
            V + "slow.class": f"{C}:HangingValidator",
        },
        registry=registry,
    )
    with pytest.raises(ValidatorUnavailableError) as caught:
        await host.validators.validate_deployment(deployment("prod-x"))
    error = caught.value
    assert error.plugin == "slow"
    assert error.warning_reason == "ValidatorUnavailable"
    assert str(error) == (
        "validator 'slow': no answer within 0.2 s (validate_deployment); validation will be retried"
    )
    labels = {"role": "validator", "plugin": "slow", "outcome": "timeout"}
    assert registry.get_sample_value("flink_operator_plugin_calls_total", labels) == 1.0
    # Asked to answer now (admission), the same validators reject instead.
    report = await host.validators.validate_deployment(deployment("prod-x"), timeout_rejects=True)
    assert [m.validator for m in report.messages] == ["slow", "strict"]


class ThreadNotingDefault(FlinkResourceValidator):
    def __init__(self) -> None:
        self.threads: set[str] = set()

    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        self.threads.add(threading.current_thread().name)
        return None

    def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> str | None:
        self.threads.add(threading.current_thread().name)
        return None


async def test_the_built_in_validator_runs_inline_and_never_times_out_in_a_burst(make_host: MakeHost) -> None:
    default = ThreadNotingDefault()
    host = make_host(
        {"kubernetes.operator.plugins.call-timeout": "50 ms", "kubernetes.operator.plugins.max-threads": "1"},
        default_validator=default,
    )
    reports = await asyncio.gather(*(host.validators.validate_deployment(deployment()) for _ in range(500)))
    assert all(report.ok for report in reports)
    assert default.threads == {threading.current_thread().name}
    # Its session-job check may resolve a host name: that one runs off the event loop.
    assert (await host.validators.validate_session_job(session_job(), None)).ok
    assert len(default.threads) == 2


class SlowSyncValidator(FlinkResourceValidator):
    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        time.sleep(0.03)
        return None


async def test_waiting_for_a_plugin_thread_does_not_count_against_the_timeout(make_host: MakeHost) -> None:
    host = make_host(
        {
            "kubernetes.operator.plugins.call-timeout": "500 ms",
            "kubernetes.operator.plugins.max-threads": "2",
            V + "slow.class": f"{__name__}:SlowSyncValidator",
        },
    )
    # 60 calls x 30 ms on 2 threads take ~0.9 s, well past the 0.5 s deadline of any single call.
    reports = await asyncio.gather(*(host.validators.validate_deployment(deployment()) for _ in range(60)))
    assert all(report.ok for report in reports)
