"""A tiny example controller on the generic runtime, for runtime tests: `Counter` resources count the
ConfigMaps labelled `example.com/counter=<name>` in their namespace into `status.count`.

It exercises the pieces together: a primary kind with a finalizer, a secondary kind mapped by label,
the status writer, the event recorder and periodic requeue. Run as a module it is a whole operator process
(`python -m tests.support.runtime_kit --kubeconfig K --identity I ...`) for cross-process leader tests.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig

from flink_operator.config import DefaultConfiguration
from flink_operator.runtime import (
    Change,
    Component,
    ControllerContext,
    ControllerSpec,
    EventType,
    Kind,
    KubeApi,
    LeaderElectionConfig,
    Manager,
    ObjectKey,
    Request,
    Result,
    Store,
    Watch,
    is_being_deleted,
)

JSON = dict[str, Any]

COUNTER = Kind("example.com", "v1", "Counter", "counters")
CONFIG_MAP = Kind("", "v1", "ConfigMap", "configmaps")
COUNTER_LABEL = "example.com/counter"
FINALIZER = "example.com/counter-cleanup"

COUNTER_CRD: JSON = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "counters.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "counters", "singular": "counter", "kind": "Counter"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


def counter(name: str, namespace: str = "default", **spec: Any) -> JSON:
    return {
        "apiVersion": COUNTER.api_version,
        "kind": "Counter",
        "metadata": {"name": name, "namespace": namespace},
        "spec": dict(spec),
    }


def config_map(name: str, counter_name: str, namespace: str = "default") -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {COUNTER_LABEL: counter_name}},
        "data": {"k": "v"},
    }


def map_by_counter_label(change: Change, _primary: Store) -> Iterable[ObjectKey]:
    keys = []
    for version in (change.old, change.new):
        if version is not None and version.labels.get(COUNTER_LABEL):
            key = ObjectKey(version.namespace, version.labels[COUNTER_LABEL])
            if key not in keys:
                keys.append(key)
    return keys


class CountConfigMaps:
    """Level-triggered: status.count = number of labelled ConfigMaps; cleans up through a finalizer."""

    def __init__(self, ctx: ControllerContext, requeue_after: float = 60.0) -> None:
        self.ctx = ctx
        self.requeue_after = requeue_after
        self.reconciled: list[Request] = []

    async def reconcile(self, request: Request) -> Result:
        self.reconciled.append(request)
        obj = self.ctx.get(request)
        if obj is None:
            return Result.done()
        finalizers = self.ctx.finalizers
        assert finalizers is not None
        if is_being_deleted(obj):
            await self.ctx.events.record(
                obj, EventType.NORMAL, "Cleanup", "Cleaning up Counter", Component.OPERATOR
            )
            await finalizers.remove(obj)
            return Result.done()
        if not finalizers.present(obj):
            obj = self.ctx.status.observe(await finalizers.add(obj))
        config_maps = self.ctx.store_for(CONFIG_MAP)
        count = sum(
            1 for cm in config_maps.objects(request.namespace) if cm.labels.get(COUNTER_LABEL) == request.name
        )
        status = {"count": count, "observedGeneration": obj["metadata"].get("generation")}
        previous = (obj.get("status") or {}).get("count")
        if await self.ctx.status.write(obj, status) is not None and previous != count:
            await self.ctx.events.record(
                obj,
                EventType.NORMAL,
                "Counted",
                f"Counted {count} ConfigMaps",
                Component.OPERATOR,
                message_key="Counted",
            )
        return Result.after(self.requeue_after)


def counter_controller(requeue_after: float = 60.0, **options: Any) -> ControllerSpec:
    return ControllerSpec(
        name="counter",
        kind=COUNTER,
        reconciler=lambda ctx: CountConfigMaps(ctx, requeue_after),
        watches=[Watch(CONFIG_MAP, map_by_counter_label, label_selector=COUNTER_LABEL)],
        finalizer=FINALIZER,
        **options,
    )


def client_for(kubeconfig: Path) -> AsyncClient:
    return AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), namespace="default")


def api_for(kubeconfig: Path, user_agent: str = "test") -> KubeApi:
    return KubeApi(client_for(kubeconfig), user_agent=user_agent)


def fast_election(
    identity: str, namespace: str = "default", lease: str = "counter-lease"
) -> LeaderElectionConfig:
    """Election timing short enough for tests (upstream's 15/10/2 s scaled down)."""
    return LeaderElectionConfig(
        lease, namespace, identity, lease_duration=2.0, renew_deadline=1.5, retry_period=0.2
    )


async def _main(arguments: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format=f"{arguments.identity} %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    client = client_for(Path(arguments.kubeconfig))
    manager = Manager(
        client,
        DefaultConfiguration({"kubernetes.operator.rate-limiter.limit": "0"}),
        namespace="default",
        identity=arguments.identity,
        leader_election=fast_election(arguments.identity),
        health_host="127.0.0.1",
        health_port=0,
    )
    manager.add(counter_controller(requeue_after=arguments.requeue_after))
    try:
        await manager.run()
    finally:
        await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="run the example Counter operator")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--requeue-after", type=float, default=60.0)
    asyncio.run(_main(parser.parse_args()))
