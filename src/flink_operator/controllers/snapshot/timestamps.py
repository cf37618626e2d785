"""Kubernetes timestamps (RFC 3339, `2024-05-01T12:00:00Z`) to and from epoch milliseconds.

FlinkStateSnapshot statuses and object metadata carry such strings; the decisions compute with milliseconds.
Parsing accepts fractional seconds and numeric offsets; an unreadable text gives None (the caller decides
what an unknown time means), never an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_k8s_time(epoch_ms: int) -> str:
    """`2024-05-01T12:00:00Z` (second precision, as the API server writes metadata timestamps)."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_k8s_time(text: str | None) -> int | None:
    """Epoch milliseconds of an RFC 3339 text, or None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def to_datetime(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
