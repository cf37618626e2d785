"""Resolving a job's ``jarURI`` to a readable jar file on this machine.

``local://`` and ``file://`` URIs (and plain absolute paths) name files that must exist and be readable.
``local://`` names a file inside the Flink image; where no image exists (the local runtime), image
directories can be mapped onto directories of this machine (``ArtifactSettings.image_dirs``, e.g.
``/opt/flink/usrlib`` onto the local usrlib directory), so one resource YAML runs in both places;
``http(s)://`` URIs are downloaded into a target directory, subject to upstream's ``user.artifacts`` rules
(allowed schemes, no restricted hosts unless allowed) and a size cap. Every failure raises
:class:`ArtifactError` naming the URI and what is wrong. Other schemes (``s3://``, ``hdfs://``) are not
supported here; a Kubernetes runtime hands those to Flink's file systems instead.

Not guaranteed: that a file is a valid jar (Flink reports that when it loads it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from flink_operator.config import Configuration
from flink_operator.flink.artifact_options import (
    ALLOWED_SCHEMES,
    DISALLOW_RESTRICTED_HOSTS,
    HTTP_HEADERS,
    MAX_SIZE,
)
from flink_operator.flink.service import ArtifactError

_CHUNK = 1 << 16


@dataclass(frozen=True)
class ArtifactSettings:
    allowed_schemes: frozenset[str] = frozenset({"https"})
    disallow_restricted_hosts: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    max_bytes: int = 512 * 1024 * 1024
    timeout: float = 120.0
    image_dirs: Mapping[str, Path] = field(default_factory=dict)
    """Directories of the Flink image (absolute, e.g. ``/opt/flink/usrlib``) and the local directories that
    stand in for them: a ``local://`` URI below one of them names the file in the local directory."""

    def with_image_dir(self, image_dir: str, local_dir: Path) -> ArtifactSettings:
        return replace(self, image_dirs={**self.image_dirs, image_dir.rstrip("/"): local_dir})

    @staticmethod
    def from_configuration(configuration: Configuration) -> ArtifactSettings:
        return ArtifactSettings(
            allowed_schemes=frozenset(s.strip().lower() for s in configuration.get(ALLOWED_SCHEMES)),
            disallow_restricted_hosts=configuration.get(DISALLOW_RESTRICTED_HOSTS),
            headers=dict(_headers(configuration)),
            max_bytes=configuration.get(MAX_SIZE).bytes,
        )


def _headers(configuration: Configuration) -> Mapping[str, str]:
    headers = configuration.get(HTTP_HEADERS)
    return headers if headers is not None else {}


def local_path(jar_uri: str, image_dirs: Mapping[str, Path] | None = None) -> Path | None:
    """The file a ``local://``/``file:``/absolute-path URI names, or None for a remote URI.

    A ``local://`` path below one of ``image_dirs`` is mapped onto its local stand-in directory."""
    parts = urlsplit(jar_uri)
    scheme = parts.scheme.lower()
    if scheme == "" and jar_uri.startswith("/"):
        return Path(jar_uri)
    if scheme in ("local", "file"):
        if parts.netloc not in ("", "localhost"):
            raise ArtifactError(
                f"jarURI {jar_uri!r}: a {scheme}:// URI must name an absolute path on this machine "
                f"(e.g. {scheme}:///opt/jobs/job.jar), not host {parts.netloc!r}"
            )
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ArtifactError(f"jarURI {jar_uri!r}: the path must be absolute")
        if scheme == "local" and image_dirs:
            mapped = map_image_path(path, image_dirs)
            if mapped is not None:
                return mapped
        return Path(path)
    return None


def map_image_path(path: str, image_dirs: Mapping[str, Path]) -> Path | None:
    """``path`` (inside the image) moved onto the local directory standing in for its image directory;
    None when no mapped directory contains it. Paths that climb out of the directory (``..``) are refused."""
    for image_dir, local_dir in sorted(image_dirs.items(), key=lambda item: -len(item[0])):
        prefix = image_dir.rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        relative = Path(path[len(prefix) :])
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ArtifactError(f"path {path!r} does not name a file below {image_dir}")
        return local_dir / relative
    return None


def check_readable(jar_uri: str, path: Path, hint: str = "") -> Path:
    if not path.exists():
        raise ArtifactError(f"jarURI {jar_uri!r}: {path} does not exist{hint}")
    if not path.is_file():
        raise ArtifactError(f"jarURI {jar_uri!r}: {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise ArtifactError(f"jarURI {jar_uri!r}: {path} is not readable")
    return path


def _mapping_hint(jar_uri: str, path: Path, image_dirs: Mapping[str, Path]) -> str:
    for image_dir, local_dir in image_dirs.items():
        if path.is_relative_to(local_dir) and jar_uri.lower().startswith("local:"):
            return f" (the image directory {image_dir} is mapped onto {local_dir} on this machine)"
    return ""


def is_restricted(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_unspecified


async def _check_host(jar_uri: str, host: str) -> None:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None)
    except OSError as error:
        raise ArtifactError(f"jarURI {jar_uri!r}: host {host!r} does not resolve ({error})") from error
    for info in infos:
        address = str(info[4][0])
        if is_restricted(address):
            raise ArtifactError(
                f"jarURI {jar_uri!r}: host {host!r} resolves to the restricted address {address}; set "
                f"kubernetes.operator.user.artifacts.disallow-restricted-hosts: false to allow it"
            )


def empty_jar(target_dir: Path) -> Path:
    """An empty jar, submitted when a session job names no jarURI (its classes are on the cluster)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / "empty.jar"
    if not path.exists():
        with zipfile.ZipFile(path, "w") as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    return path


async def resolve_jar(jar_uri: str, target_dir: Path, settings: ArtifactSettings) -> Path:
    """A readable local file for ``jar_uri``; remote jars are downloaded into ``target_dir``."""
    if not jar_uri.strip():
        raise ArtifactError("jarURI is empty")
    path = local_path(jar_uri, settings.image_dirs)
    if path is not None:
        return check_readable(jar_uri, path, _mapping_hint(jar_uri, path, settings.image_dirs))
    parts = urlsplit(jar_uri)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ArtifactError(
            f"jarURI {jar_uri!r}: scheme {parts.scheme or '(none)'!r} is not supported locally; "
            f"use local://, file:// or http(s)://"
        )
    if scheme not in settings.allowed_schemes:
        raise ArtifactError(
            f"jarURI {jar_uri!r}: scheme {scheme!r} is not in "
            f"kubernetes.operator.user.artifacts.allowed-schemes "
            f"({', '.join(sorted(settings.allowed_schemes)) or 'none'})"
        )
    if not parts.hostname:
        raise ArtifactError(f"jarURI {jar_uri!r}: no host")
    if settings.disallow_restricted_hosts:
        await _check_host(jar_uri, parts.hostname)
    name = Path(unquote(parts.path)).name or "job.jar"
    if not name.endswith(".jar"):
        name += ".jar"
    return await _download(jar_uri, target_dir / name, settings)


async def _download(jar_uri: str, target: Path, settings: ArtifactSettings) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            async with (
                httpx.AsyncClient(timeout=settings.timeout, trust_env=False, follow_redirects=False) as http,
                http.stream("GET", jar_uri, headers=dict(settings.headers)) as response,
            ):
                if response.status_code != 200:
                    raise ArtifactError(
                        f"jarURI {jar_uri!r}: download failed with HTTP {response.status_code}"
                    )
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > settings.max_bytes:
                    raise ArtifactError(
                        f"jarURI {jar_uri!r}: {declared} bytes exceed the limit of {settings.max_bytes} "
                        f"bytes "
                        f"(kubernetes.operator.user.artifacts.max-size)"
                    )
                received = 0
                async for chunk in response.aiter_bytes(_CHUNK):
                    received += len(chunk)
                    if received > settings.max_bytes:
                        raise ArtifactError(
                            f"jarURI {jar_uri!r}: more than {settings.max_bytes} bytes received "
                            f"(kubernetes.operator.user.artifacts.max-size)"
                        )
                    out.write(chunk)
        os.replace(temp, target)
    except httpx.HTTPError as error:
        raise ArtifactError(
            f"jarURI {jar_uri!r}: download failed ({type(error).__name__}: {error})"
        ) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return target
