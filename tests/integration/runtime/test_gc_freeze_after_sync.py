"""The manager freezes the garbage collector's view once its caches have first listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.conditions import until
from tests.support.runtime_kit import COUNTER_CRD, client_for, counter_controller

from flink_operator.config import DefaultConfiguration
from flink_operator.runtime import Manager, manager
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration


async def test_the_first_synced_term_freezes_the_collector_once(
    api_server: EmbeddedApiServer, api_kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api_server.hooks.seed([COUNTER_CRD])
    synced_when_called: list[bool] = []
    operator: list[Manager] = []

    def spy() -> bool:
        synced_when_called.append(operator[0].leading_and_synced)
        return False

    monkeypatch.setattr(manager, "freeze_gc_once", spy)
    client = client_for(api_kubeconfig)
    operator.append(Manager(client, DefaultConfiguration({}), namespace="default", identity="op",
                            leader_election=False, health_port=-1))
    operator[0].add(counter_controller())
    await operator[0].start()
    try:
        await until(lambda: bool(synced_when_called), what="the collector frozen after the sync")
        assert synced_when_called == [True]
    finally:
        await operator[0].stop()
        await client.close()
