"""Fixtures for plugin loading tests: a clean import path and module table around each test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from flink_operator.plugins._host import PluginHost

TEST_MODULE_PREFIXES = ("fop_test_", "flink_operator_plugins")


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Undo what a test added to `sys.path`, and forget the plugin modules it imported.

    Test plugin modules are named `fop_test_*` (or live under the plugin-directory package), so only those
    are removed; anything else a test imported stays, as re-importing library modules would split classes.
    """
    path = list(sys.path)
    yield
    sys.path[:] = path
    for name in [n for n in sys.modules if n.startswith(TEST_MODULE_PREFIXES)]:
        del sys.modules[name]


@pytest.fixture
def make_host(tmp_path: Path) -> Callable[..., PluginHost]:
    """`make_host(config, default_validator=..., plugins_dir=..., entry_points=[...])`: a host on a private
    metrics registry, with no installed entry points and an empty plugins directory unless given."""

    def make(
        config: dict[str, str] | None = None,
        *,
        default_validator: object | None = None,
        plugins_dir: Path | None = None,
        entry_points: list[EntryPoint] | None = None,
        registry: CollectorRegistry | None = None,
    ) -> PluginHost:
        return PluginHost.load(
            config or {},
            default_validator=default_validator,
            registry=registry or CollectorRegistry(),
            environ={"FLINK_PLUGINS_DIR": str(plugins_dir or tmp_path / "no-plugins")},
            entry_points=entry_points or [],
        )

    return make
