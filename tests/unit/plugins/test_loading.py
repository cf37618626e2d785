"""Loading plugins from configuration keys, entry points and the extra libraries directory; loud failures."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from tests.support.plugin_classes import RecordingListener
from tests.support.plugin_files import write_files

from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._loading import LoadedPlugins, load_plugins
from flink_operator.plugins._options import PluginSettings
from flink_operator.plugins._sources import PluginLoadError

pytestmark = pytest.mark.unit

C = "tests.support.plugin_classes"
L = "kubernetes.operator.plugins.listeners."
V = "kubernetes.operator.plugins.validators."


def load(
    config: dict[str, str], tmp_path: Path, entry_points: list[EntryPoint] | None = None, **environ: str
) -> LoadedPlugins:
    """Load with no installed entry points and an empty plugins directory unless given."""
    env = {"FLINK_PLUGINS_DIR": str(tmp_path / "no-plugins"), **environ}
    settings = PluginSettings.from_config(config, env)
    return load_plugins(config, settings, entry_points=entry_points or [])


def by_name(plugins: LoadedPlugins, kind: PluginKind) -> dict[str, object]:
    return {p.name: p.instance for p in plugins.of(kind)}


def test_configured_listener_receives_its_own_keys_prefix_stripped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flink_operator.plugins")
    config = {
        L + "audit-sink.class": f"{C}:RecordingListener",
        L + "audit-sink.url": "https://example.invalid/hook",
        L + "audit-sink.retry.count": "3",
        L + "other.class": f"{C}:AsyncRecordingListener",
        L + "other.url": "https://other.invalid",
        "kubernetes.operator.reconcile.interval": "1 min",
    }
    plugins = load(config, tmp_path)
    listener = by_name(plugins, PluginKind.LISTENER)["audit-sink"]
    assert isinstance(listener, RecordingListener)
    assert listener.config == {
        "class": f"{C}:RecordingListener",
        "url": "https://example.invalid/hook",
        "retry.count": "3",
    }
    assert (
        f"Discovered resource listener from configuration [{L}audit-sink.class]: {C}.RecordingListener "
        "(name 'audit-sink')" in caplog.messages
    )


def test_one_class_configured_twice_gives_two_independent_instances(tmp_path: Path) -> None:
    config = {
        L + "first.class": f"{C}:RecordingListener",
        L + "first.url": "https://one.invalid",
        L + "second.class": f"{C}.RecordingListener",  # the dotted form works too
        L + "second.url": "https://two.invalid",
    }
    listeners = by_name(load(config, tmp_path), PluginKind.LISTENER)
    first, second = listeners["first"], listeners["second"]
    assert isinstance(first, RecordingListener) and isinstance(second, RecordingListener)
    assert first is not second
    assert first.config["url"] == "https://one.invalid"
    assert second.config["url"] == "https://two.invalid"


def test_factory_functions_and_duck_typed_classes_are_plugins(tmp_path: Path) -> None:
    config = {L + "made.class": f"{C}:listener_factory", L + "duck.class": f"{C}:DuckTypedListener"}
    listeners = load(config, tmp_path).listeners
    made = next(p for p in listeners if p.name == "made")
    assert isinstance(made.instance, RecordingListener) and made.instance.made_by == "factory"
    duck = next(p for p in listeners if p.name == "duck")
    assert duck.methods == frozenset({"on_deployment_event"})


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (
            f"{C}:NoSuchListener",
            "cannot import it: ImportError: 'tests.support.plugin_classes' has no attribute 'NoSuchListener'",
        ),
        (f"{C}.NoSuchListener", "has no attribute 'NoSuchListener'"),
        (
            "fop_test_missing_module:Listener",
            "ModuleNotFoundError: No module named 'fop_test_missing_module'",
        ),
        ("NoDots", "is not a class path"),
        (f"{C}:BrokenConstructor", "cannot construct it: RuntimeError: cannot connect to the audit store"),
        (f"{C}:BrokenConfigure", "configure() failed: ValueError: endpoint is required, got keys ['class']"),
        (f"{C}:RejectingValidator", "it is a resource validator, not a resource listener"),
        (f"{C}:NotAPlugin", "it implements none of the resource listener methods"),
    ],
)
def test_a_broken_configured_listener_stops_start_up_naming_it(
    tmp_path: Path, target: str, reason: str
) -> None:
    config = {L + "broken.class": target, L + "fine.class": f"{C}:RecordingListener"}
    with pytest.raises(PluginLoadError) as caught:
        load(config, tmp_path)
    message = str(caught.value)
    print(message)
    assert f"resource listener 'broken' from configuration [{L}broken.class] (class {target}): " in message
    assert reason in message
    assert "kubernetes.operator.plugins.fail-on-error: false" in message
    assert [f.name for f in caught.value.failures] == ["broken"]


def test_with_fail_on_error_off_a_broken_plugin_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {
        "kubernetes.operator.plugins.fail-on-error": "false",
        L + "broken.class": f"{C}:BrokenConstructor",
        V + "missing.class": f"{C}:NoSuchValidator",
        L + "fine.class": f"{C}:RecordingListener",
    }
    plugins = load(config, tmp_path)
    assert [p.name for p in plugins.listeners] == ["fine"]
    assert plugins.validators == ()
    assert {f.name for f in plugins.skipped} == {"broken", "missing"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "Skipping resource listener 'broken'" in w and "cannot connect to the audit store" in w
        for w in warnings
    )
    assert any("Skipping resource validator 'missing'" in w and "NoSuchValidator" in w for w in warnings)


def test_all_failures_are_reported_together(tmp_path: Path) -> None:
    config = {L + "a.class": f"{C}:BrokenConstructor", V + "b.class": f"{C}:Missing"}
    with pytest.raises(PluginLoadError) as caught:
        load(config, tmp_path)
    assert str(caught.value).startswith("2 plugins could not be loaded:")
    assert {f.name for f in caught.value.failures} == {"a", "b"}


def test_a_module_that_fails_to_import_is_reported_with_its_cause(
    tmp_path: Path, isolated_imports: None
) -> None:
    lib = write_files(tmp_path / "lib", {"fop_test_needs_dep.py": "import fop_test_not_installed\n"})
    config = {L + "dep.class": "fop_test_needs_dep:Listener"}
    with pytest.raises(PluginLoadError) as caught:
        load(config, tmp_path, OPERATOR_LIB=str(lib))
    assert "cannot import it: ModuleNotFoundError: No module named 'fop_test_not_installed'" in str(
        caught.value
    )


def test_extra_libraries_directory_is_importable(tmp_path: Path, isolated_imports: None) -> None:
    lib = write_files(
        tmp_path / "lib",
        {
            "fop_test_lib_listener.py": """
                from flink_operator.plugins import FlinkResourceListener

                class LibListener(FlinkResourceListener):
                    async def on_deployment_event(self, ctx):
                        pass
            """
        },
    )
    plugins = load({L + "lib.class": "fop_test_lib_listener:LibListener"}, tmp_path, OPERATOR_LIB=str(lib))
    assert [type(p.instance).__name__ for p in plugins.listeners] == ["LibListener"]


def test_missing_extra_libraries_directory_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(PluginLoadError, match=r"the extra libraries directory .* does not exist"):
        load({}, tmp_path, OPERATOR_LIB=str(tmp_path / "absent"))


def ep(name: str, value: str, group: str = "flink_operator.listeners") -> EntryPoint:
    return EntryPoint(name=name, value=value, group=group)


def test_entry_point_plugins_are_enabled_and_get_keys_under_their_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flink_operator.plugins")
    points = [
        ep("recorder", f"{C}:RecordingListener"),
        ep("strict", f"{C}:RejectingValidator", "flink_operator.validators"),
    ]
    config = {L + "recorder.url": "https://hook.invalid", V + "strict.message": "not today"}
    plugins = load(config, tmp_path, points)
    recorder = by_name(plugins, PluginKind.LISTENER)["recorder"]
    assert isinstance(recorder, RecordingListener) and recorder.config == {"url": "https://hook.invalid"}
    strict = by_name(plugins, PluginKind.VALIDATOR)["strict"]
    assert strict.message == "not today"  # type: ignore[attr-defined]
    assert (
        "Discovered resource listener from entry point [flink_operator.listeners:recorder]: "
        f"{C}.RecordingListener (name 'recorder')" in caplog.messages
    )


def test_a_class_key_naming_the_discovered_plugin_configures_it_once(tmp_path: Path) -> None:
    points = [ep("recorder", f"{C}:RecordingListener")]
    config = {L + "recorder.class": f"{C}:RecordingListener", L + "recorder.url": "u"}
    plugins = load(config, tmp_path, points)
    assert [(p.name, str(p.source)) for p in plugins.listeners] == [
        ("recorder", "entry point [flink_operator.listeners:recorder]")
    ]


def test_a_class_key_reusing_a_discovered_name_for_another_class_is_a_clash(tmp_path: Path) -> None:
    points = [ep("recorder", f"{C}:RecordingListener")]
    with pytest.raises(
        PluginLoadError,
        match="the name 'recorder' is already taken by the resource listener from "
        r"entry point \[flink_operator.listeners:recorder\]",
    ):
        load({L + "recorder.class": f"{C}:AsyncRecordingListener"}, tmp_path, points)


def test_entry_point_problems_are_failures(tmp_path: Path) -> None:
    points = [
        ep("dup", f"{C}:RecordingListener"),
        ep("dup", f"{C}:AsyncRecordingListener"),
        ep("has.dot", f"{C}:RecordingListener"),
        ep("gone", f"{C}:Gone"),
    ]
    with pytest.raises(PluginLoadError) as caught:
        load({}, tmp_path, points)
    reasons = {f.name: f.reason for f in caught.value.failures}
    assert "is also declared by" in reasons["dup"]
    assert "contains '.'" in reasons["has.dot"]
    assert "has no attribute 'Gone'" in reasons["gone"]


def test_the_same_entry_point_seen_twice_counts_once(tmp_path: Path) -> None:
    points = [ep("recorder", f"{C}:RecordingListener"), ep("recorder", f"{C}:RecordingListener")]
    assert [p.name for p in load({}, tmp_path, points).listeners] == ["recorder"]


def test_enabled_false_leaves_a_discovered_plugin_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flink_operator.plugins")
    points = [ep("recorder", f"{C}:RecordingListener")]
    plugins = load({L + "recorder.enabled": "false"}, tmp_path, points)
    assert plugins.listeners == ()
    assert any("Leaving out resource listener 'recorder'" in m for m in caplog.messages)
    assert not any("name no known" in m for m in caplog.messages)


def test_keys_for_an_unknown_plugin_name_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load({L + "typo.url": "https://x.invalid"}, tmp_path)
    assert any(
        f"Configuration keys {L}typo.* (url) name no known resource listener; set {L}typo.class to load one"
        in m
        for m in caplog.messages
    )


def test_settings_are_read_from_options_with_clear_errors() -> None:
    settings = PluginSettings.from_config(
        {
            "kubernetes.operator.plugins.call-timeout": "250 ms",
            "kubernetes.operator.plugins.listener-queue-size": "7",
            "kubernetes.operator.plugins.audit-log.enabled": "false",
        },
        {"FLINK_PLUGINS_DIR": "/srv/plugins", "OPERATOR_LIB": "/srv/lib"},
    )
    assert settings.call_timeout == 0.25
    assert settings.listener_queue_size == 7
    assert settings.audit_log_enabled is False
    assert str(settings.plugins_dir) == "/srv/plugins"
    assert str(settings.lib_dir) == "/srv/lib"
    assert str(PluginSettings.from_config({}, {}).plugins_dir) == "/opt/flink-operator/plugins"
    with pytest.raises(
        ValueError, match=r"kubernetes.operator.plugins.listener-queue-size: must be at least 1"
    ):
        PluginSettings.from_config({"kubernetes.operator.plugins.listener-queue-size": "0"}, {})
    with pytest.raises(
        ValueError, match=r"kubernetes.operator.plugins.fail-on-error: 'maybe' is not a boolean"
    ):
        PluginSettings.from_config({"kubernetes.operator.plugins.fail-on-error": "maybe"}, {})


def test_load_failures_do_not_quote_secret_configuration_values(tmp_path: Path) -> None:
    config = {L + "chat.class": f"{C}:TokenCheckingListener", L + "chat.api-token": "tok-123456"}
    with pytest.raises(PluginLoadError) as caught:
        load(config, tmp_path)
    assert "tok-123456" not in str(caught.value)
    assert "configure() failed: ValueError: token ****** was refused by the server" in str(caught.value)
