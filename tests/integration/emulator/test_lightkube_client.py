"""lightkube's AsyncClient against the emulator: CRUD, patch types, status, leases, events, watches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lightkube import AsyncClient, KubeConfig
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.core_v1 import ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap, Event
from lightkube.types import OnErrorAction, OnErrorResult, PatchType, on_error_retry
from tests.support.emulator_http import FD_CRD

from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

Widget = create_namespaced_resource("example.com", "v1", "Widget", "widgets")


@pytest_asyncio.fixture
async def client(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[AsyncClient]:
    await api_server.hooks.create(FD_CRD)
    kube = AsyncClient(KubeConfig.from_file(api_kubeconfig), namespace="default", field_manager="test")
    yield kube
    await kube.close()


async def test_create_get_list_and_delete(client: AsyncClient) -> None:
    created = await client.create(
        ConfigMap(metadata=ObjectMeta(name="c", labels={"app": "x"}), data={"a": "1"})
    )
    assert created.metadata is not None and created.metadata.resourceVersion
    fetched = await client.get(ConfigMap, "c")
    assert fetched.data == {"a": "1"}
    names = [cm.metadata.name async for cm in client.list(ConfigMap, labels={"app": "x"}) if cm.metadata]
    assert names == ["c"]
    await client.delete(ConfigMap, "c")
    with pytest.raises(ApiError) as error:
        await client.get(ConfigMap, "c")
    assert error.value.status.code == 404


async def test_every_patch_type(client: AsyncClient) -> None:
    await client.create(ConfigMap(metadata=ObjectMeta(name="c"), data={"a": "1"}))
    patched = await client.patch(ConfigMap, "c", {"data": {"b": "2"}}, patch_type=PatchType.MERGE)
    assert patched.data == {"a": "1", "b": "2"}
    patched = await client.patch(
        ConfigMap, "c", [{"op": "remove", "path": "/data/a"}], patch_type=PatchType.JSON
    )
    assert patched.data == {"b": "2"}
    patched = await client.patch(ConfigMap, "c", {"data": {"c": "3"}})  # lightkube's default: strategic
    assert patched.data == {"b": "2", "c": "3"}
    applied = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"d": "4"}}
    patched = await client.patch(ConfigMap, "c", applied, patch_type=PatchType.APPLY, field_manager="applier")
    assert patched.data == {"b": "2", "c": "3", "d": "4"}
    await client.create(Widget(metadata=ObjectMeta(name="w"), spec={"size": 1}))
    with pytest.raises(ApiError) as error:
        await client.patch(Widget, "w", {"spec": {"size": 2}})
    assert error.value.status.code == 415


async def test_replace_with_resource_version_and_conflict(client: AsyncClient) -> None:
    created = await client.create(Widget(metadata=ObjectMeta(name="w"), spec={"size": 1}))
    created.spec["size"] = 2
    replaced = await client.replace(created)
    assert replaced.spec["size"] == 2 and replaced.metadata.generation == 2
    created.spec["size"] = 3  # still carries the old resourceVersion
    with pytest.raises(ApiError) as error:
        await client.replace(created)
    assert error.value.status.code == 409 and error.value.status.reason == "Conflict"


async def test_status_subresource_with_patch_and_replace(client: AsyncClient) -> None:
    await client.create(Widget(metadata=ObjectMeta(name="w"), spec={"size": 1}))
    patched = await client.patch(Widget.Status, "w", {"status": {"state": "up"}}, patch_type=PatchType.MERGE)
    assert patched.status == {"state": "up"} and patched.metadata.generation == 1
    current = await client.get(Widget, "w")
    current["status"] = {"state": "down"}
    replaced = await client.replace(current)
    assert replaced.status == {"state": "up"}  # the main resource ignores status
    replaced["status"] = {"state": "down"}
    status_written = await client.replace(Widget.Status.from_dict(replaced.to_dict()), "w")
    assert status_written.status == {"state": "down"}
    assert status_written.metadata.resourceVersion != replaced.metadata.resourceVersion


async def test_lease_create_and_compare_and_swap(client: AsyncClient) -> None:
    lease = await client.create(
        Lease.from_dict(
            {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
        )
    )
    lease.spec.holderIdentity = "b"
    renewed = await client.replace(lease)
    assert renewed.spec.holderIdentity == "b"
    lease.spec.holderIdentity = "c"
    with pytest.raises(ApiError) as error:
        await client.replace(lease)
    assert error.value.status.code == 409


async def test_events_are_created_and_listed(client: AsyncClient) -> None:
    await client.create(
        Event(
            metadata=ObjectMeta(generateName="w."),
            reason="Submitted",
            message="ok",
            type="Normal",
            involvedObject=ObjectReference(kind="Widget", name="w", namespace="default"),
        )
    )
    events = [e async for e in client.list(Event, fields={"involvedObject.name": "w"})]
    assert [e.reason for e in events] == ["Submitted"]


async def next_event(stream: Any) -> tuple[str, Any]:
    return await asyncio.wait_for(stream.__anext__(), timeout=5)


async def test_watch_yields_changes_after_a_list(client: AsyncClient) -> None:
    await client.create(ConfigMap(metadata=ObjectMeta(name="before")))
    listing = client.list(ConfigMap)
    _ = [cm async for cm in listing]
    stream = client.watch(ConfigMap, resource_version=listing.resourceVersion)
    creator = asyncio.create_task(client.create(ConfigMap(metadata=ObjectMeta(name="after"))))
    kind, obj = await next_event(stream)
    await creator
    assert (kind, obj.metadata.name) == ("ADDED", "after")
    await stream.aclose()


async def test_watch_resumes_from_the_last_version_after_a_cut(
    client: AsyncClient, api_server: EmbeddedApiServer
) -> None:
    stream = client.watch(
        ConfigMap, resource_version=str(api_server.hooks.resource_version), on_error=on_error_retry
    )
    await client.create(ConfigMap(metadata=ObjectMeta(name="one")))
    one = (await next_event(stream))[1]
    assert one.metadata.name == "one"
    assert api_server.hooks.cut_watches() == 1
    await client.create(ConfigMap(metadata=ObjectMeta(name="two")))
    kind, obj = await next_event(stream)
    assert (kind, obj.metadata.name) == ("ADDED", "two")  # resumed from "one"'s version: no replay of "one"
    watches = [r for r in api_server.hooks.requests("GET", "/configmaps$") if r.query.get("watch")]
    assert len(watches) == 2 and watches[1].query["resourceVersion"] == one.metadata.resourceVersion
    await stream.aclose()


async def test_watch_restarts_without_a_version_after_410(
    client: AsyncClient, api_server: EmbeddedApiServer
) -> None:
    errors: list[int] = []

    def on_error(exc: Exception, count: int) -> OnErrorResult:
        errors.append(getattr(getattr(exc, "status", None), "code", 0))
        return OnErrorResult(OnErrorAction.RETRY)

    await client.create(ConfigMap(metadata=ObjectMeta(name="old")))
    stale = str(api_server.hooks.resource_version)
    await client.create(ConfigMap(metadata=ObjectMeta(name="new")))
    api_server.hooks.compact()
    stream = client.watch(ConfigMap, resource_version=stale, on_error=on_error)
    seen = {(await next_event(stream))[1].metadata.name, (await next_event(stream))[1].metadata.name}
    assert errors == [410] and seen == {"old", "new"}  # synthetic ADDED for the current state
    await stream.aclose()
