"""Options for fetching job artifacts: upstream's ``kubernetes.operator.user.artifacts.*`` and a size cap."""

from __future__ import annotations

from flink_operator.config import (
    BOOLEAN,
    MAP,
    MEMORY_SIZE,
    STRING,
    MemorySize,
    declare,
    declare_optional,
    list_type,
)
from flink_operator.config.option import Scope

ARTIFACTS_BASE_DIR = declare_optional(
    "kubernetes.operator.user.artifacts.base.dir",
    STRING,
    "Directory for downloaded session-job jars (default: a directory under the runtime's state dir).",
    upstream_default="/opt/flink/artifacts",
)
ALLOWED_SCHEMES = declare(
    "kubernetes.operator.user.artifacts.allowed-schemes",
    list_type(STRING),
    ("https",),
    "jarURI schemes allowed for downloads (http needs to be listed explicitly).",
)
DISALLOW_RESTRICTED_HOSTS = declare(
    "kubernetes.operator.user.artifacts.disallow-restricted-hosts",
    BOOLEAN,
    True,
    "Refuse http(s) jarURIs whose host is loopback, link-local, private, wildcard or multicast.",
)
HTTP_HEADERS = declare_optional(
    "kubernetes.operator.user.artifacts.http.header",
    MAP,
    "Headers sent with http(s) jar downloads, as 'name:value,name:value'.",
    scope=Scope.DYNAMIC,
)
MAX_SIZE = declare(
    "kubernetes.operator.user.artifacts.max-size",
    MEMORY_SIZE,
    MemorySize.parse("512m"),
    "Largest jar an http(s) download may deliver; larger downloads are aborted.",
)
