"""Flink distributions local mode finds by itself: the ``pyflink`` directory of each ``.venv-flink*``
virtualenv in the working directory (how this repository's set-up installs Flink 1.20 beside the default
2.x). Each becomes the default for its version (``kubernetes.operator.local.flink-home.v1_20``), below any
configured value, so resources with ``flinkVersion: v1_20`` run there. Reading only; nothing is installed.
"""

from __future__ import annotations

from pathlib import Path

from flink_operator.flink.local.distribution import inspect_distribution
from flink_operator.flink.service import DeploymentError

FLINK_HOME_PREFIX = "kubernetes.operator.local.flink-home."


def discovered_flink_homes(directory: Path) -> dict[str, str]:
    """``kubernetes.operator.local.flink-home.<version>`` -> FLINK_HOME for every distribution found."""
    found: dict[str, str] = {}
    for venv in sorted(directory.absolute().glob(".venv-flink*")):
        for home in sorted(venv.glob("lib/python3*/site-packages/pyflink")):
            try:
                distribution = inspect_distribution(home)
            except (DeploymentError, OSError):
                continue
            found.setdefault(FLINK_HOME_PREFIX + distribution.key, str(home))
    return found
