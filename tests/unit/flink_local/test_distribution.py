"""Finding and reading Flink distributions."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_operator.flink.local.distribution import (
    DistributionResolver,
    inspect_distribution,
    installed_flink_home,
    version_key,
)
from flink_operator.flink.service import DeploymentError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "key"), [("v1_20", "v1_20"), ("1.20", "v1_20"), ("1.20.5", "v1_20"), ("v2_0", "v2_0")]
)
def test_version_keys(given: str, key: str) -> None:
    assert version_key(given) == key


def test_a_bad_version_is_named() -> None:
    with pytest.raises(DeploymentError, match="flinkVersion 'latest' is not a Flink version"):
        version_key("latest")


def test_the_installed_distribution_is_read_without_changing_it() -> None:
    home = installed_flink_home()
    assert home is not None
    dist = inspect_distribution(home)
    assert dist.major == 2 and dist.lib_jars[-1] == dist.dist_jar, "flink-dist goes last on the classpath"
    assert "--add-opens" in dist.stock_java_opts
    assert dist.python_jar is not None and dist.python_jar.name.startswith("flink-python")
    env = dist.environment(Path("/conf"))
    assert env["FLINK_CONF_DIR"] == "/conf" and env["FLINK_OPT_DIR"].endswith("/opt")


def test_any_2x_version_runs_on_the_installed_2x_but_1x_needs_a_configured_home(tmp_path: Path) -> None:
    resolver = DistributionResolver({}, installed_flink_home())
    assert resolver.resolve("v2_0").major == 2
    with pytest.raises(DeploymentError, match=r"set kubernetes\.operator\.local\.flink-home\.v1_20"):
        resolver.resolve("v1_20")


def test_a_configured_home_must_hold_the_version_it_is_configured_for() -> None:
    home = installed_flink_home()
    assert home is not None
    with pytest.raises(DeploymentError, match="which holds Flink 2"):
        DistributionResolver({"v1_20": home}, None).resolve("v1_20")


def test_a_directory_that_is_no_distribution_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match=f"{tmp_path} is not a Flink distribution"):
        inspect_distribution(tmp_path)
