"""Content negotiation: request body media types and the response format a client asked for.

Understands JSON and YAML bodies, the four PATCH media types, and the `Accept` forms clients send:
plain JSON/YAML, `as=Table` (kubectl's server-side printing), `as=PartialObjectMetadata[List]` and
aggregated discovery. Responses are never protobuf or CBOR (an `Accept` that allows nothing else gets
406); protobuf request bodies are decoded for the few kinds `protobuf` knows, other protobuf or CBOR
bodies get 415.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from . import errors, protobuf

_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


@dataclass(frozen=True)
class MediaRange:
    type: str
    params: dict[str, str]


def parse_accept(header: str) -> list[MediaRange]:
    ranges = []
    for part in header.split(","):
        part = part.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.split(";")]
        params = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip()] = value.strip()
        ranges.append(MediaRange(pieces[0].lower(), params))
    return ranges or [MediaRange("*/*", {})]


@dataclass(frozen=True)
class Negotiated:
    """What to answer with: 'json' or 'yaml', optionally as a Table or as partial object metadata."""

    format: str = "json"
    as_kind: str = (
        ""  # "", "Table", "PartialObjectMetadata", "PartialObjectMetadataList", "APIGroupDiscoveryList"
    )
    version: str = ""


def negotiate(header: str, allow_table: bool = False, allow_discovery: bool = False) -> Negotiated:
    for media in parse_accept(header):
        as_kind = media.params.get("as", "")
        if media.type in ("application/json", "application/yaml", "*/*", "application/*"):
            fmt = "yaml" if media.type == "application/yaml" else "json"
            if not as_kind:
                return Negotiated(fmt)
            if as_kind == "Table" and allow_table and media.params.get("g") == "meta.k8s.io":
                return Negotiated(fmt, "Table", media.params.get("v", "v1"))
            if (
                as_kind in ("PartialObjectMetadata", "PartialObjectMetadataList")
                and allow_table
                and media.params.get("g") == "meta.k8s.io"
            ):
                return Negotiated(fmt, as_kind, media.params.get("v", "v1"))
            if (
                as_kind == "APIGroupDiscoveryList"
                and allow_discovery
                and media.params.get("g") == "apidiscovery.k8s.io"
                and media.params.get("v") in ("v2", "v2beta1")
            ):
                return Negotiated(fmt, as_kind, media.params["v"])
    raise errors.not_acceptable()


def content_type(header: str | None) -> str:
    return (header or "application/json").split(";")[0].strip().lower()


def decode_body(raw: bytes, media_type: str) -> Any:
    """Decode a POST/PUT body (JSON or YAML); 415 for other media types, 400 for malformed data."""
    if media_type in ("application/json", "", "*/*"):
        return _json(raw)
    if media_type in ("application/yaml", "application/x-yaml", "text/yaml"):
        return _yaml(raw)
    if media_type == protobuf.PROTOBUF:
        return protobuf.decode(raw)
    raise errors.unsupported_media_type(media_type)


def decode_patch(raw: bytes, media_type: str, custom: bool) -> Any:
    if media_type not in _PATCH_TYPES or (custom and media_type == "application/strategic-merge-patch+json"):
        accepted = [t for t in _PATCH_TYPES if not (custom and "strategic" in t)]
        raise errors.unsupported_media_type(media_type, ", ".join(accepted))
    if media_type == "application/apply-patch+yaml":
        return _yaml(raw)
    return _json(raw)


def _json(raw: bytes) -> Any:
    if not raw.strip():
        raise errors.bad_request("the body of the request was empty")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {detail.lower()}") from None


def _yaml(raw: bytes) -> Any:
    if not raw.strip():
        raise errors.bad_request("the body of the request was empty")
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise errors.bad_request(f"error converting YAML to JSON: {exc}".replace("\n", " ")) from None
