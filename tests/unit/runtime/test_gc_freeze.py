"""Freezing the objects alive after the initial sync out of the garbage collector, once per process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from flink_operator.runtime import manager

pytestmark = pytest.mark.unit


@pytest.fixture
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(manager, "_gc_frozen", False)
    yield
    gc.unfreeze()  # the rest of the test process collects as usual


def test_freezes_once_and_only_once(unfrozen: None) -> None:
    gc.unfreeze()
    long_lived = [{"cached": i} for i in range(1000)]
    assert manager.freeze_gc_once()
    assert gc.get_freeze_count() >= len(long_lived)
    assert not manager.freeze_gc_once()
