"""jarURI resolution: local files, clear errors, and http(s) downloads with scheme, host and size rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from flink_operator.flink.artifacts import ArtifactSettings, is_restricted, resolve_jar
from flink_operator.flink.service import ArtifactError

pytestmark = pytest.mark.unit

LOOPBACK_HTTP = ArtifactSettings(
    allowed_schemes=frozenset({"http"}), disallow_restricted_hosts=False, max_bytes=1000
)


async def test_local_and_file_uris_name_files_on_this_machine(tmp_path: Path) -> None:
    jar = tmp_path / "job.jar"
    jar.write_bytes(b"PK")
    for uri in (f"local://{jar}", f"file://{jar}", f"file:{jar}", str(jar)):
        assert await resolve_jar(uri, tmp_path / "dl", ArtifactSettings()) == jar


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("local:///nowhere/job.jar", "/nowhere/job.jar does not exist"),
        ("s3://bucket/job.jar", "scheme 's3' is not supported locally"),
        ("local://host/job.jar", "must name an absolute path on this machine"),
        ("https://127.0.0.1/job.jar", "resolves to the restricted address 127.0.0.1"),
        (
            "http://example.org/job.jar",
            "scheme 'http' is not in kubernetes.operator.user.artifacts.allowed-schemes",
        ),
        ("", "jarURI is empty"),
    ],
)
async def test_bad_jar_uris_are_named(uri: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as raised:
        await resolve_jar(uri, tmp_path, ArtifactSettings())
    assert message in str(raised.value)


async def test_a_directory_is_not_a_jar(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="is not a regular file"):
        await resolve_jar(f"file://{tmp_path}", tmp_path / "dl", ArtifactSettings())


def test_restricted_addresses() -> None:
    assert all(
        map(
            is_restricted,
            ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.1.1", "::1", "0.0.0.0", "::ffff:127.0.0.1"],
        )
    )
    assert not is_restricted("93.184.216.34")


@pytest.fixture
async def jar_server() -> AsyncIterator[str]:
    async def jar(request: web.Request) -> web.Response:
        assert request.headers.get("X-Token") == "t"
        return web.Response(body=b"PK" + b"x" * 98)

    async def big(_: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(_)
        for _chunk in range(20):
            await response.write(b"y" * 100)
        await response.write_eof()
        return response

    async def missing(_: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.add_routes([web.get("/job.jar", jar), web.get("/big.jar", big), web.get("/missing.jar", missing)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.integration
async def test_http_downloads_land_in_the_target_dir_within_the_size_limit(
    jar_server: str, tmp_path: Path
) -> None:
    settings = ArtifactSettings(
        allowed_schemes=frozenset({"http"}),
        disallow_restricted_hosts=False,
        max_bytes=1000,
        headers={"X-Token": "t"},
    )
    path = await resolve_jar(f"{jar_server}/job.jar", tmp_path / "dl", settings)
    assert path == tmp_path / "dl" / "job.jar" and path.read_bytes().startswith(b"PK")
    with pytest.raises(ArtifactError, match="more than 1000 bytes received"):
        await resolve_jar(f"{jar_server}/big.jar", tmp_path / "dl", settings)
    with pytest.raises(ArtifactError, match="download failed with HTTP 404"):
        await resolve_jar(f"{jar_server}/missing.jar", tmp_path / "dl", settings)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["job.jar"], "no partial downloads are left"


async def test_image_usrlib_uris_map_onto_the_local_usrlib_dir(tmp_path: Path) -> None:
    usrlib = tmp_path / "usrlib"
    (usrlib / "sub").mkdir(parents=True)
    (usrlib / "sub" / "job.jar").write_bytes(b"PK")
    settings = ArtifactSettings().with_image_dir("/opt/flink/usrlib/", usrlib)
    uri = "local:///opt/flink/usrlib/sub/job.jar"
    assert await resolve_jar(uri, tmp_path / "dl", settings) == usrlib / "sub" / "job.jar"
    # file:// names a file of this machine, never a file of the image
    with pytest.raises(ArtifactError, match=r"/opt/flink/usrlib/sub/job\.jar does not exist"):
        await resolve_jar("file:///opt/flink/usrlib/sub/job.jar", tmp_path / "dl", settings)


async def test_a_missing_mapped_jar_names_the_mapping(tmp_path: Path) -> None:
    settings = ArtifactSettings().with_image_dir("/opt/flink/usrlib", tmp_path)
    with pytest.raises(ArtifactError) as raised:
        await resolve_jar("local:///opt/flink/usrlib/missing.jar", tmp_path / "dl", settings)
    message = str(raised.value)
    assert f"{tmp_path}/missing.jar does not exist" in message
    assert f"the image directory /opt/flink/usrlib is mapped onto {tmp_path}" in message


@pytest.mark.parametrize("uri", ["local:///opt/flink/usrlib/../secret.jar", "local:///opt/flink/usrlib/"])
async def test_mapped_paths_stay_below_the_directory(uri: str, tmp_path: Path) -> None:
    settings = ArtifactSettings().with_image_dir("/opt/flink/usrlib", tmp_path)
    with pytest.raises(ArtifactError, match="does not name a file below /opt/flink/usrlib"):
        await resolve_jar(uri, tmp_path / "dl", settings)


def test_the_local_service_maps_the_image_usrlib(tmp_path: Path) -> None:
    from flink_operator.config import Configuration
    from flink_operator.flink.local import LocalFlinkService, LocalFlinkSettings

    default = LocalFlinkService(LocalFlinkSettings(state_dir=tmp_path))
    assert default.artifact_settings.image_dirs == {"/opt/flink/usrlib": tmp_path.resolve() / "usrlib"}
    configured = LocalFlinkService.from_configuration(
        Configuration({"kubernetes.operator.local.usrlib-dir": str(tmp_path / "jars")}), state_dir=tmp_path
    )
    assert configured.artifact_settings.image_dirs == {"/opt/flink/usrlib": (tmp_path / "jars").resolve()}
