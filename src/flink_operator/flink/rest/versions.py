"""Flink versions and the REST differences between them (pure).

What differs for this client:
* the claim (restore) mode field of ``/jars/:id/run``: ``claimMode`` since 1.20 (both 1.20 and 2.x read it;
  ``restoreMode`` remains a deprecated alias), only ``restoreMode`` before 1.20;
* ``programArgs`` (one string) is silently ignored since 2.0, so this client always sends ``programArgsList``;
* manual checkpoints (``POST /jobs/:id/checkpoints``) exist since 1.17 (upstream gates them the same way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ClaimMode", "FlinkVersion"]

_VERSION = re.compile(r"^\s*v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<rest>[-.+\w]*)\s*$")


class ClaimMode(StrEnum):
    """How a restored job treats the snapshot it starts from (``execution.state-recovery.claim-mode``)."""

    CLAIM = "CLAIM"
    NO_CLAIM = "NO_CLAIM"
    LEGACY = "LEGACY"


@dataclass(frozen=True, order=True)
class FlinkVersion:
    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> FlinkVersion:
        """Parse "2.3.0", "1.20", "2.3-SNAPSHOT", "v1_20" style strings; raise ValueError naming the input."""
        normalised = text.replace("_", ".") if re.fullmatch(r"v?\d+_\d+", text.strip()) else text
        match = _VERSION.match(normalised)
        if match is None:
            raise ValueError(f"not a Flink version: {text!r} (expected MAJOR.MINOR[.PATCH], e.g. '2.3.0')")
        return cls(int(match["major"]), int(match["minor"]), int(match["patch"] or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def at_least(self, major: int, minor: int = 0) -> bool:
        return (self.major, self.minor) >= (major, minor)

    @property
    def claim_mode_field(self) -> str:
        """The JSON field of ``/jars/:id/run`` that carries the claim mode on this version."""
        return "claimMode" if self.at_least(1, 20) else "restoreMode"

    @property
    def supports_checkpoint_trigger(self) -> bool:
        return self.at_least(1, 17)

    @property
    def supports_resource_requirements(self) -> bool:
        return self.at_least(1, 18)
