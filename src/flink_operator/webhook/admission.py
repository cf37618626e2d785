"""Admission decisions: what `/validate` and `/mutate` answer for one AdmissionReview request.

Validation (upstream semantics, contract §4.7, with every message reported rather than the first):
* only CREATE and UPDATE are checked; DELETE and CONNECT are allowed;
* canary resources (label `flink.apache.org/canary: "true"`) are always allowed;
* a kind other than the three Flink kinds is refused ("Unexpected resource");
* a document that does not parse is refused with every schema problem, each naming its field path;
* otherwise the default validator and every plugin validator run; all their messages are returned, each
  naming its field (default validator) or its validator (plugins). The session cluster of a FlinkSessionJob
  and the target of a FlinkStateSnapshot are read first (`lookup`); a failed read refuses the request.

Mutation (CREATE and UPDATE of the three kinds; canaries and unparsable documents are left alone, the
validating webhook reports the latter): every mutator runs in order, and the answer carries a JSONPatch
from the original to the mutated resource, both as `to_dict()` gives them. Nothing changed means no patch
at all (upstream sent spurious no-op modifications, FLINK-39509). Mutators that failed are skipped and named
in the response warnings.

Messages that quote the resource are scrubbed of its secret values (validator messages already are, by the
plugin host). Not guaranteed: a secret under a key that does not look secret is not recognised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flink_operator.api import (
    GROUP,
    KINDS,
    LABEL_CANARY,
    FlinkDeployment,
    FlinkResource,
    FlinkSessionJob,
    FlinkStateSnapshot,
    parse_resource,
)
from flink_operator.plugins._host import PluginHost
from flink_operator.plugins._mutation import MutationResult
from flink_operator.webhook import json_patch, review
from flink_operator.webhook.lookup import LookupFailed, NoLookup, Related, RelatedLookup
from flink_operator.webhook.review import JSON, AdmissionRequest

_log = logging.getLogger("flink_operator.webhook")

CHECKED_OPERATIONS = frozenset({"CREATE", "UPDATE"})


def is_canary(document: Mapping[str, Any] | None) -> bool:
    labels = ((document or {}).get("metadata") or {}).get("labels") or {}
    return isinstance(labels, Mapping) and str(labels.get(LABEL_CANARY, "")).lower() == "true"


def _with_namespace(document: JSON, namespace: str) -> JSON:
    """The object with `metadata.namespace` filled from the request when the client left it out."""
    metadata = document.get("metadata")
    if not namespace or not isinstance(metadata, Mapping) or metadata.get("namespace"):
        return document
    return {**document, "metadata": {**metadata, "namespace": namespace}}


class Admission:
    """Answers admission requests with the plugin host's validators and mutators."""

    def __init__(self, plugins: PluginHost, lookup: RelatedLookup | None = None) -> None:
        self.plugins = plugins
        self.lookup: RelatedLookup = lookup if lookup is not None else NoLookup()

    # --- shared steps -----------------------------------------------------------------------------------

    def _scrub(self, text: str, document: Any) -> str:
        secrets: set[str] = set()
        self.plugins.masker.document(document, secrets)
        return self.plugins.masker.text(text, secrets)

    async def _related(self, resource: FlinkResource, namespace: str) -> Related | None:
        if isinstance(resource, FlinkSessionJob):
            return await self.lookup.session_of(resource, namespace)
        if isinstance(resource, FlinkStateSnapshot):
            return await self.lookup.target_of(resource, namespace)
        return None

    @staticmethod
    def _is_flink_kind(request: AdmissionRequest) -> bool:
        return request.kind in KINDS and request.group in ("", GROUP)

    # --- /validate --------------------------------------------------------------------------------------

    async def validate(self, request: AdmissionRequest) -> JSON:
        if request.operation not in CHECKED_OPERATIONS:
            return review.allow(request.uid)
        if not self._is_flink_kind(request):
            kind = f"{request.group}/{request.kind}".lstrip("/")
            return review.deny(request.uid, f"Unexpected resource: {kind}")
        document = request.object
        if document is None:
            return review.deny(request.uid, f"request.object: required for {request.operation}")
        if is_canary(document):
            return review.allow(request.uid)
        document = _with_namespace(document, request.namespace)
        parsed = parse_resource(document)
        if isinstance(parsed, list):
            message = self._scrub("; ".join(str(problem) for problem in parsed), document)
            _log.info("Refused %s: %s", request.describe, message)
            return review.deny(request.uid, message)
        try:
            related = await self._related(parsed, parsed.metadata.namespace or request.namespace)
        except LookupFailed as error:
            message = f"cannot validate {request.describe}: {error}; try again"
            _log.warning("%s", message)
            return review.deny(request.uid, message, code=503, reason="ServiceUnavailable")
        report = await self.plugins.validators.validate(parsed, related)
        if report.ok:
            return review.allow(request.uid)
        message = report.describe()
        _log.info("Refused %s: %s", request.describe, message)
        return review.deny(request.uid, message)

    # --- /mutate ----------------------------------------------------------------------------------------

    async def mutate(self, request: AdmissionRequest) -> JSON:
        document = request.object
        if (
            request.operation not in CHECKED_OPERATIONS
            or not self._is_flink_kind(request)
            or document is None
            or is_canary(document)
        ):
            return review.allow(request.uid)
        document = _with_namespace(document, request.namespace)
        parsed = parse_resource(document, check_pod_templates=False)
        if isinstance(parsed, list):
            return review.allow(request.uid)  # the validating webhook refuses it, naming the fields
        warnings: list[str] = []
        session: FlinkDeployment | None = None
        if isinstance(parsed, FlinkSessionJob):
            try:
                session = await self.lookup.session_of(parsed, parsed.metadata.namespace or request.namespace)
            except LookupFailed as error:
                warnings.append(f"mutators ran without the session cluster: {error}")
        original = parsed.to_dict()
        mutators = self.plugins.mutators
        result: MutationResult[Any]
        if isinstance(parsed, FlinkSessionJob):
            result = await mutators.mutate_session_job(parsed, session)
        elif isinstance(parsed, FlinkDeployment):
            result = await mutators.mutate_deployment(parsed)
        else:
            result = await mutators.mutate_state_snapshot(parsed)
        warnings.extend(str(failure) for failure in result.failures)
        operations = json_patch.diff(original, result.resource.to_dict())
        if not operations:
            return review.allow(request.uid, warnings)
        try:
            json_patch.apply(document, operations)
        except json_patch.PatchError as error:
            # The models round-trip documents exactly; this guards against a gap rather than sending the
            # API server a patch it would reject (which fails the whole request).
            _log.error("Mutation of %s dropped: its patch does not apply (%s)", request.describe, error)
            warnings.append(f"mutations dropped: the patch does not apply to the object ({error})")
            return review.allow(request.uid, warnings)
        _log.info(
            "Mutated %s (%s): %s", request.describe, ", ".join(result.changed_by),
            ", ".join(f"{op['op']} {op['path']}" for op in operations),
        )
        return review.patch(request.uid, operations, warnings)
