"""The Lease can have a client (and connection pool) of its own, apart from the controllers' requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.conditions import until
from tests.support.runtime_kit import COUNTER_CRD, client_for, counter_controller, fast_election

from flink_operator.config import DefaultConfiguration
from flink_operator.runtime import LEASE, Manager
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration


async def test_leader_election_goes_through_the_lease_client(
    api_server: EmbeddedApiServer, api_kubeconfig: Path
) -> None:
    await api_server.hooks.seed([COUNTER_CRD])
    client, lease_client = client_for(api_kubeconfig), client_for(api_kubeconfig)
    manager = Manager(client, DefaultConfiguration({}), namespace="default", identity="op",
                      leader_election=fast_election("op"), health_port=-1, lease_client=lease_client)
    manager.add(counter_controller())
    await manager.start()
    try:
        await until(lambda: manager.leading_and_synced, what="leading")
        assert manager.elector is not None and manager.elector.api.client is lease_client
        lease = await manager.elector.api.get(LEASE, "counter-lease", "default")
        assert lease["spec"]["holderIdentity"] == "op"
        assert manager.api.client is client
    finally:
        await manager.stop()
        await client.close()
        await lease_client.close()
