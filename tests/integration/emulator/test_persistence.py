"""Persistence to a state directory: a restarted emulator keeps its objects and a monotonic version."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from tests.support.emulator_http import CONFIGMAPS, FD_CRD, WIDGETS, Http, configmap, widget

from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration


async def test_restart_keeps_objects_crds_and_resource_versions(tmp_path: Path) -> None:
    async with EmbeddedApiServer(state_dir=tmp_path) as first, aiohttp.ClientSession() as session:
        http = Http(session, first.url)
        await http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", FD_CRD)
        _, saved = await http.post(WIDGETS, widget("w", 3))
        await http.post(CONFIGMAPS, configmap("c", {"a": "1"}))
        last_rv = first.hooks.resource_version
    assert (tmp_path / "objects.json").is_file()
    async with EmbeddedApiServer(state_dir=tmp_path) as second, aiohttp.ClientSession() as session:
        http = Http(session, second.url)
        status, restored = await http.get(f"{WIDGETS}/w")
        assert status == 200
        assert restored["metadata"]["uid"] == saved["metadata"]["uid"]
        assert restored["metadata"]["resourceVersion"] == saved["metadata"]["resourceVersion"]
        assert (await http.get(f"{CONFIGMAPS}/c"))[1]["data"] == {"a": "1"}
        _, updated = await http.patch(f"{WIDGETS}/w", {"spec": {"size": 4}})
        assert int(updated["metadata"]["resourceVersion"]) > last_rv
        events, _ = await http.watch(
            WIDGETS, {"resourceVersion": saved["metadata"]["resourceVersion"]}, lambda ev: len(ev) >= 1
        )
        assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410


async def test_state_is_written_after_changes_without_a_clean_stop(tmp_path: Path) -> None:
    async with EmbeddedApiServer(state_dir=tmp_path, persist_interval=0.05) as server:
        await server.hooks.create(configmap("c", namespace="default"))
        path = tmp_path / "objects.json"
        for _ in range(200):
            if path.exists() and b'"name":"c"' in path.read_bytes():
                break
            await asyncio.sleep(0.02)
        assert b'"name":"c"' in path.read_bytes()


async def test_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "objects.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a kube-emulator state file"):
        async with EmbeddedApiServer(state_dir=tmp_path):
            pass
