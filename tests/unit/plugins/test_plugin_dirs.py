"""The plugins directory: module plugins declared by entry_points.txt, wheel plugins declared by their own
metadata, plain classes found by scanning, isolation between plugin directories, loud failures."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import pytest
from tests.support.plugin_files import build_wheel, entry_points_text, write_files

from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._loading import LoadedPlugins, load_plugins
from flink_operator.plugins._options import PluginSettings
from flink_operator.plugins._sources import PluginLoadError

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("isolated_imports")]

LISTENERS = "flink_operator.listeners"
VALIDATORS = "flink_operator.validators"


@pytest.fixture
def plugins_root(tmp_path: Path) -> Path:
    root = tmp_path / "plugins"
    # alpha: plain modules declared by entry_points.txt; imports its own util relatively.
    write_files(
        root / "alpha",
        {
            "entry_points.txt": entry_points_text(
                {
                    LISTENERS: {"alpha-listener": "alpha_listener:AlphaListener"},
                    VALIDATORS: {"alpha-check": "checks:AlphaCheck"},
                }
            ),
            "util.py": "WHO = 'alpha'\n",
            "alpha_listener.py": """
                from flink_operator.plugins import FlinkResourceListener
                from . import util

                class AlphaListener(FlinkResourceListener):
                    def configure(self, config):
                        self.config = dict(config)

                    def who(self):
                        return util.WHO

                    async def on_deployment_event(self, ctx):
                        pass
            """,
            "checks.py": """
                from flink_operator.plugins import FlinkResourceValidator

                class AlphaCheck(FlinkResourceValidator):
                    def validate_deployment(self, deployment):
                        return None
            """,
        },
    )
    # beta: a wheel whose package imports itself absolutely; its metadata declares the listener.
    build_wheel(
        root / "beta",
        "beta-plugin",
        {
            "beta_plugin/__init__.py": "",
            "beta_plugin/helpers.py": "TAG = 'beta'\n",
            "beta_plugin/listener.py": """
                from beta_plugin.helpers import TAG
                from flink_operator.plugins import FlinkResourceListener

                class BetaListener(FlinkResourceListener):
                    tag = TAG

                    def on_deployment_status_update(self, ctx):
                        pass
            """,
        },
        {LISTENERS: {"beta-listener": "beta_plugin.listener:BetaListener"}},
    )
    # gamma: no declarations; its mutator class is found by scanning; it has its own util too.
    write_files(
        root / "gamma",
        {
            "util.py": "WHO = 'gamma'\n",
            "gamma_mutator.py": """
                from flink_operator.plugins import FlinkResourceMutator
                from . import util

                class GammaMutator(FlinkResourceMutator):
                    who = util.WHO

                    def mutate_deployment(self, deployment):
                        return deployment

                class _Helper(FlinkResourceMutator):
                    pass
            """,
        },
    )
    (root / "stray-file.txt").write_text("plugins must be in sub-directories\n")
    return root


def load(root: Path, config: dict[str, str] | None = None) -> LoadedPlugins:
    config = config or {}
    settings = PluginSettings.from_config(config, {"FLINK_PLUGINS_DIR": str(root)})
    return load_plugins(config, settings, entry_points=[])


def named(plugins: LoadedPlugins, kind: PluginKind, name: str) -> object:
    return next(p.instance for p in plugins.of(kind) if p.name == name)


def test_each_kind_of_plugin_directory_is_discovered_and_logged_with_its_source(
    plugins_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flink_operator.plugins")
    plugins = load(plugins_root)
    assert [p.name for p in plugins.listeners] == ["alpha-listener", "beta-listener"]
    assert [p.name for p in plugins.validators] == ["alpha-check"]
    assert [p.name for p in plugins.mutators] == ["gamma"]
    alpha_dir = (plugins_root / "alpha").resolve()
    assert (
        f"Discovered resource listener from plugin directory [{alpha_dir}]: "
        f"{type(named(plugins, PluginKind.LISTENER, 'alpha-listener')).__module__}.AlphaListener "
        "(name 'alpha-listener')" in caplog.messages
    )
    assert any(
        m.startswith(
            f"Discovered resource mutator from plugin directory [{(plugins_root / 'gamma').resolve()}]"
        )
        for m in caplog.messages
    )
    assert any("Ignoring stray-file.txt in the plugins directory" in m for m in caplog.messages)


def test_plugin_directories_do_not_share_module_names(plugins_root: Path) -> None:
    plugins = load(plugins_root)
    alpha = named(plugins, PluginKind.LISTENER, "alpha-listener")
    gamma = named(plugins, PluginKind.MUTATOR, "gamma")
    assert alpha.who() == "alpha"  # type: ignore[attr-defined]
    assert gamma.who == "gamma"  # type: ignore[attr-defined]
    # Neither directory is on sys.path, and util.py of each lives under its own package.
    assert str(plugins_root / "alpha") not in sys.path
    alpha_package = type(alpha).__module__.rpartition(".")[0]
    gamma_package = type(gamma).__module__.rpartition(".")[0]
    assert alpha_package.startswith("flink_operator_plugins.alpha")
    assert sys.modules[f"{alpha_package}.util"] is not sys.modules[f"{gamma_package}.util"]
    # `util` is provided twice, so an absolute import of it is refused with an explanation.
    with pytest.raises(ModuleNotFoundError, match="'util' is provided by several plugin directories"):
        importlib.import_module("util")


def test_a_wheel_can_import_itself_absolutely_and_stays_one_module(plugins_root: Path) -> None:
    plugins = load(plugins_root)
    beta = named(plugins, PluginKind.LISTENER, "beta-listener")
    assert beta.tag == "beta"  # type: ignore[attr-defined]
    package = type(beta).__module__.removesuffix(".beta_plugin.listener")
    assert package.startswith("flink_operator_plugins.beta")
    aliased = importlib.import_module("beta_plugin.helpers")
    assert aliased is sys.modules[f"{package}.beta_plugin.helpers"]


def test_directory_plugins_receive_keys_under_their_name(plugins_root: Path) -> None:
    config = {"kubernetes.operator.plugins.listeners.alpha-listener.channel": "#flink"}
    alpha = named(load(plugins_root, config), PluginKind.LISTENER, "alpha-listener")
    assert alpha.config == {"channel": "#flink"}  # type: ignore[attr-defined]


def test_a_configuration_key_can_name_a_class_inside_a_plugin_directory(plugins_root: Path) -> None:
    config = {"kubernetes.operator.plugins.listeners.second-beta.class": "beta_plugin.listener:BetaListener"}
    plugins = load(plugins_root, config)
    second = named(plugins, PluginKind.LISTENER, "second-beta")
    assert type(second) is type(named(plugins, PluginKind.LISTENER, "beta-listener"))


def test_a_plugin_directory_that_fails_to_import_stops_start_up_naming_it(plugins_root: Path) -> None:
    write_files(
        plugins_root / "delta",
        {
            "entry_points.txt": entry_points_text(
                {LISTENERS: {"delta-listener": "delta_listener:DeltaListener"}}
            ),
            "delta_listener.py": "import fop_test_dependency_not_installed\n",
        },
    )
    with pytest.raises(PluginLoadError) as caught:
        load(plugins_root)
    message = str(caught.value)
    assert (
        f"resource listener 'delta-listener' from plugin directory [{(plugins_root / 'delta').resolve()}] "
        "(class delta_listener:DeltaListener): cannot import it: ModuleNotFoundError: "
        "No module named 'fop_test_dependency_not_installed'" in message
    )


def test_a_scanned_module_that_fails_to_import_is_reported(plugins_root: Path) -> None:
    write_files(plugins_root / "epsilon", {"broken.py": "raise RuntimeError('boom at import')\n"})
    config = {"kubernetes.operator.plugins.fail-on-error": "false"}
    plugins = load(plugins_root, config)
    (failure,) = plugins.skipped
    assert failure.describe() == (
        f"plugin from plugin directory [{(plugins_root / 'epsilon').resolve()}] (class broken): "
        "module 'broken' failed to import: RuntimeError: boom at import"
    )
    assert [p.name for p in plugins.listeners] == ["alpha-listener", "beta-listener"]


def test_malformed_declarations_are_failures(plugins_root: Path) -> None:
    write_files(plugins_root / "zeta", {"entry_points.txt": "this is not an ini file\n"})
    with pytest.raises(
        PluginLoadError, match=r"plugin from plugin directory \[.*zeta\]: cannot read its declarations"
    ):
        load(plugins_root)


def test_several_classes_of_one_role_in_a_scanned_directory_are_named_by_class(tmp_path: Path) -> None:
    write_files(
        tmp_path / "plugins" / "multi",
        {
            "both.py": """
                from flink_operator.plugins import FlinkResourceValidator

                class First(FlinkResourceValidator):
                    pass

                class Second(FlinkResourceValidator):
                    pass
            """
        },
    )
    assert [p.name for p in load(tmp_path / "plugins").validators] == ["multi-First", "multi-Second"]


def test_a_missing_plugins_directory_is_not_an_error(tmp_path: Path) -> None:
    assert load(tmp_path / "absent") == LoadedPlugins()


def test_a_vendored_dependency_wheel_is_importable_by_its_plugin_but_not_scanned(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    build_wheel(
        root / "theta",
        "fop-test-vendored",
        {
            "fop_test_vendored/__init__.py": """
                from flink_operator.plugins import FlinkResourceValidator

                GREETING = "vendored"

                class LibraryBaseValidator(FlinkResourceValidator):
                    pass
            """
        },
        {},
    )
    write_files(
        root / "theta",
        {
            "theta_validator.py": """
                import fop_test_vendored
                from flink_operator.plugins import FlinkResourceValidator

                class ThetaValidator(FlinkResourceValidator):
                    greeting = fop_test_vendored.GREETING
            """
        },
    )
    (validator,) = load(root).validators
    assert validator.name == "theta"
    assert validator.instance.greeting == "vendored"  # type: ignore[attr-defined]
