"""`admission.k8s.io/v1` AdmissionReview: reading a request body and writing the response, as plain data.

`parse_review(body)` gives an `AdmissionRequest` or raises `ReviewError` saying what is wrong with the body
(the server answers that with HTTP 400: without a request uid there is no AdmissionReview to answer with).
The response builders (`allow`, `deny`, `patch`) give the whole AdmissionReview document to send back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"

JSON = dict[str, Any]


class ReviewError(ValueError):
    """The body is not an AdmissionReview v1 request this webhook can answer."""


@dataclass(frozen=True)
class AdmissionRequest:
    """The fields of `request` the webhook uses."""

    uid: str
    operation: str
    kind: str
    group: str
    namespace: str
    name: str
    object: JSON | None
    old_object: JSON | None
    dry_run: bool = False
    sub_resource: str = ""
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def describe(self) -> str:
        """`FlinkDeployment ns/name` for messages and logs."""
        name = self.name or ((self.object or {}).get("metadata") or {}).get("name") or ""
        where = f"{self.namespace}/{name}" if self.namespace else name
        return f"{self.kind} {where}".strip()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_review(body: bytes | str) -> AdmissionRequest:
    """Read an AdmissionReview v1 request; raises `ReviewError` naming the faulty field."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ReviewError(f"the body is not JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise ReviewError(f"expected an AdmissionReview object, got {type(document).__name__}")
    if document.get("kind") != KIND:
        raise ReviewError(f"kind: expected {KIND!r}, got {document.get('kind')!r}")
    if document.get("apiVersion") != API_VERSION:
        raise ReviewError(
            f"apiVersion: expected {API_VERSION!r} (only v1 is supported), got {document.get('apiVersion')!r}"
        )
    request = document.get("request")
    if not isinstance(request, Mapping):
        raise ReviewError("request: required object is missing")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("request.uid: required string is missing")
    operation = request.get("operation")
    if not isinstance(operation, str) or not operation:
        raise ReviewError("request.operation: required string is missing")
    kind = request.get("kind")
    if not isinstance(kind, Mapping) or not isinstance(kind.get("kind"), str):
        raise ReviewError("request.kind.kind: required string is missing")
    obj, old = request.get("object"), request.get("oldObject")
    for key, value in (("object", obj), ("oldObject", old)):
        if value is not None and not isinstance(value, Mapping):
            raise ReviewError(f"request.{key}: expected an object, got {type(value).__name__}")
    return AdmissionRequest(
        uid=uid,
        operation=operation,
        kind=kind["kind"],
        group=_text(kind.get("group")),
        namespace=_text(request.get("namespace")),
        name=_text(request.get("name")),
        object=dict(obj) if obj is not None else None,
        old_object=dict(old) if old is not None else None,
        dry_run=bool(request.get("dryRun")),
        sub_resource=_text(request.get("subResource")),
        raw=dict(request),
    )


def _review(response: JSON) -> JSON:
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def allow(uid: str, warnings: Sequence[str] = ()) -> JSON:
    """Admitted, unchanged."""
    response: JSON = {"uid": uid, "allowed": True}
    if warnings:
        response["warnings"] = list(warnings)
    return _review(response)


def deny(uid: str, message: str, *, code: int = 400, reason: str = "Invalid", warnings: Sequence[str] = ()
         ) -> JSON:
    """Refused; the API server shows `admission webhook "<name>" denied the request: <message>`."""
    response: JSON = {
        "uid": uid,
        "allowed": False,
        "status": {"status": "Failure", "code": code, "reason": reason, "message": message},
    }
    if warnings:
        response["warnings"] = list(warnings)
    return _review(response)


def patch(uid: str, operations: Sequence[Mapping[str, Any]], warnings: Sequence[str] = ()) -> JSON:
    """Admitted with a JSONPatch; with no operations this is `allow` (no patch at all, so the API server
    sees no modification)."""
    if not operations:
        return allow(uid, warnings)
    review = allow(uid, warnings)
    encoded = json.dumps(list(operations), separators=(",", ":")).encode()
    review["response"]["patchType"] = "JSONPatch"
    review["response"]["patch"] = base64.b64encode(encoded).decode("ascii")
    return review
