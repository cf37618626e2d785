"""Flink distributions on this machine: finding a FLINK_HOME for a requested Flink version and reading it.

A distribution is a directory with ``lib/flink-dist-<version>.jar``, ``bin/``, ``conf/`` and ``opt/`` (the
``pyflink`` package directory of an ``apache-flink`` install is one). The project's own environment provides
the default (2.x) distribution; other versions come from configured homes, keyed like upstream's
``flinkVersion`` values (``v1_20``). This module only reads distributions; it never writes into them.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flink_operator.flink.service import DeploymentError

_DIST_JAR = re.compile(r"^flink-dist(?:_[0-9.]+)?-(\d+)\.(\d+)\.(\d+)(?:[-.].*)?\.jar$")
_VERSION_KEY = re.compile(r"^v?(\d+)[._](\d+)(?:[._]\d+)?$")


def version_key(flink_version: str) -> str:
    """Normalise a Flink version to upstream's enum form: ``v1_20``, ``1.20``, ``1.20.5`` -> ``v1_20``."""
    match = _VERSION_KEY.match(flink_version.strip())
    if match is None:
        raise DeploymentError(
            f"flinkVersion {flink_version!r} is not a Flink version: expected e.g. 'v2_0', 'v1_20' or '1.20'"
        )
    return f"v{int(match.group(1))}_{int(match.group(2))}"


@dataclass(frozen=True)
class FlinkDistribution:
    """One Flink installation: where its pieces are and the values we copy from its stock configuration."""

    home: Path
    version: str
    dist_jar: Path
    lib_jars: tuple[Path, ...]
    python_jar: Path | None
    stock_java_opts: str

    @property
    def key(self) -> str:
        return version_key(self.version)

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def bin_dir(self) -> Path:
        return self.home / "bin"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def opt_dir(self) -> Path:
        return self.home / "opt"

    @property
    def plugins_dir(self) -> Path:
        return self.home / "plugins"

    @property
    def bash_java_utils_jar(self) -> Path:
        return self.bin_dir / "bash-java-utils.jar"

    def classpath(self, *, with_python: bool = False) -> str:
        """The runtime classpath the bin scripts build: lib jars sorted, flink-dist last."""
        jars = [str(jar) for jar in self.lib_jars]
        if with_python and self.python_jar is not None:
            jars.insert(0, str(self.python_jar))
        return ":".join(jars)

    def environment(self, conf_dir: Path) -> dict[str, str]:
        """The FLINK_* variables the bin scripts export (PyFlink's driver needs FLINK_OPT_DIR)."""
        return {
            "FLINK_HOME": str(self.home),
            "FLINK_CONF_DIR": str(conf_dir),
            "FLINK_LIB_DIR": str(self.lib_dir),
            "FLINK_OPT_DIR": str(self.opt_dir),
            "FLINK_PLUGINS_DIR": str(self.plugins_dir),
            "FLINK_BIN_DIR": str(self.bin_dir),
        }


def inspect_distribution(home: Path) -> FlinkDistribution:
    """Read a distribution directory; a missing or incomplete one raises DeploymentError naming the path."""
    home = home.expanduser().resolve()
    lib = home / "lib"
    if not lib.is_dir():
        raise DeploymentError(f"{home} is not a Flink distribution: it has no lib/ directory")
    dist_jars = sorted(p for p in lib.iterdir() if _DIST_JAR.match(p.name))
    if len(dist_jars) != 1:
        raise DeploymentError(
            f"{home} is not a usable Flink distribution: expected one lib/flink-dist-<version>.jar, "
            f"found {[p.name for p in dist_jars]}"
        )
    dist_jar = dist_jars[0]
    match = _DIST_JAR.match(dist_jar.name)
    assert match is not None
    version = ".".join(match.groups())
    others = sorted(p for p in lib.iterdir() if p.suffix == ".jar" and p != dist_jar)
    opt = home / "opt"
    python_jars = sorted(opt.glob("flink-python*.jar")) if opt.is_dir() else []
    if not (home / "bin" / "bash-java-utils.jar").is_file():
        raise DeploymentError(
            f"{home} is not a usable Flink distribution: bin/bash-java-utils.jar is missing"
        )
    return FlinkDistribution(
        home=home,
        version=version,
        dist_jar=dist_jar,
        lib_jars=(*others, dist_jar),
        python_jar=python_jars[0] if python_jars else None,
        stock_java_opts=_stock_java_opts(home / "conf"),
    )


def _stock_java_opts(conf_dir: Path) -> str:
    """``env.java.opts.all`` of the distribution's own config (Java 17 needs its --add-opens list)."""
    for name in ("config.yaml", "flink-conf.yaml"):
        path = conf_dir / name
        if not path.is_file():
            continue
        loaded: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            return ""
        flat = loaded.get("env.java.opts.all")
        if isinstance(flat, str):
            return flat
        node: Any = loaded
        for part in ("env", "java", "opts", "all"):
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) else ""
    return ""


def installed_flink_home() -> Path | None:
    """The ``pyflink`` package directory of the running environment, if apache-flink is installed."""
    spec = importlib.util.find_spec("pyflink")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class DistributionResolver:
    """Picks the distribution for a requested ``flinkVersion``.

    A home configured for the exact version key wins. Otherwise the default distribution serves any
    version of its own major release (a 2.x request runs on the installed 2.x). Anything else is an error
    that names the option to set. Inspections are cached: distributions do not change under a running
    operator.
    """

    def __init__(self, homes: Mapping[str, Path], default_home: Path | None) -> None:
        self._homes = {version_key(key): Path(home) for key, home in homes.items()}
        self._default_home = default_home
        self._cache: dict[Path, FlinkDistribution] = {}

    def _inspect(self, home: Path) -> FlinkDistribution:
        if home not in self._cache:
            self._cache[home] = inspect_distribution(home)
        return self._cache[home]

    def resolve(self, flink_version: str) -> FlinkDistribution:
        key = version_key(flink_version)
        if key in self._homes:
            dist = self._inspect(self._homes[key])
            if dist.key != key:
                raise DeploymentError(
                    f"kubernetes.operator.local.flink-home.{key} points to {dist.home}, "
                    f"which holds Flink {dist.version}, not {key}"
                )
            return dist
        if self._default_home is not None:
            dist = self._inspect(self._default_home)
            if dist.key == key or dist.major == int(key[1:].split("_")[0]):
                return dist
            raise DeploymentError(
                f"no Flink distribution for flinkVersion {flink_version}: the default one is Flink "
                f"{dist.version}; set kubernetes.operator.local.flink-home.{key} to a Flink {key} home"
            )
        raise DeploymentError(
            f"no Flink distribution for flinkVersion {flink_version}: apache-flink is not installed; "
            f"install it or set kubernetes.operator.local.flink-home.{key}"
        )
