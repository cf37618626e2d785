"""Kubeconfig files pointing clients (kubectl, lightkube, Flink's client) at an emulator."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml


def kubeconfig(url: str, namespace: str = "default", context: str = "kube-emulator") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        # The emulator does not authenticate; a token keeps clients that insist on credentials happy.
        "users": [{"name": context, "user": {"token": "kube-emulator"}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
        ],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(path: str | os.PathLike[str], url: str, namespace: str = "default") -> Path:
    """Write a kubeconfig for `url` atomically (readers never see a half-written file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(kubeconfig(url, namespace), handle, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target
