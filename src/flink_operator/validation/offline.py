"""Validating documents read from files, as the `validate` command does: findings with file, line, resource
and field.

For every document: documents that are not Flink resources are skipped with a note (or reported with
`strict`); Flink resources are parsed (schema faults: unknown fields, wrong types, unknown enum values,
missing kind/apiVersion) and then checked by the default validator and by the plugin validators given.
Related resources are looked up among all the documents checked together: the session cluster of a session
job and the target of a snapshot. When one is not among them, the rules that need it are skipped and a note
says so (the operator would look it up in the cluster).

The line of a finding is the line of the field it names (or of its nearest existing parent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
from flink_operator.validation.default_validator import ValidationContext, validate_resource
from flink_operator.validation.sources import SourceDocument, SourceError

Related = FlinkDeployment | FlinkSessionJob | None
PluginCheck = Callable[[FlinkResource, Related], Awaitable[Sequence[tuple[str, str]]]]
"""Runs the plugin validators: (resource, related) -> [(validator name, message), ...]."""


@dataclass(frozen=True)
class Finding:
    """One line of output: a problem (makes validation fail) or a note."""

    file: str
    line: int
    message: str
    resource: str = ""
    """`FlinkDeployment default/basic`, or "" when the finding is about the text."""
    path: str = ""
    """Field path, or "" when the finding is about the whole document."""
    severity: Literal["problem", "note"] = "problem"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        if self.severity == "note":
            where += "note: "
        subject = f"{self.resource}: " if self.resource else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}{subject}{field}{self.message}"


def _label(data: Mapping[str, Any]) -> str:
    kind = data.get("kind") if isinstance(data.get("kind"), str) else "<no kind>"
    raw = data.get("metadata")
    metadata: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else None
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else None
    generate_name = metadata.get("generateName")
    if name is None and isinstance(generate_name, str):
        name = generate_name + "*"
    return f"{kind} {namespace or 'default'}/{name or '<unnamed>'}"


def is_flink_document(data: Mapping[str, Any]) -> bool:
    """A document of one of our kinds, or of any kind in the flink.apache.org group."""
    api_version = data.get("apiVersion")
    group = api_version.split("/")[0] if isinstance(api_version, str) and "/" in api_version else None
    return data.get("kind") in KINDS or group == GROUP


def is_canary(resource: FlinkResource) -> bool:
    """Labelled `flink.apache.org/canary: "true"`: never deployed, accepted by the webhook without checks."""
    return (resource.metadata.labels or {}).get(LABEL_CANARY) == "true" and not isinstance(
        resource, FlinkStateSnapshot
    )


@dataclass(frozen=True)
class _Parsed:
    document: SourceDocument
    resource: FlinkResource
    label: str


def _key(resource: FlinkResource) -> tuple[str, str, str]:
    return (resource.kind, resource.metadata.namespace or "default", resource.metadata.name or "")


class OfflineValidation:
    """Collects findings for a set of documents, then checks them against each other."""

    def __init__(self, context: ValidationContext, *, strict: bool = False) -> None:
        self.context = context
        self.strict = strict
        self.findings: list[Finding] = []
        self.checked = 0
        self._parsed: list[_Parsed] = []

    def add_errors(self, errors: Sequence[SourceError]) -> None:
        self.findings.extend(Finding(e.file, e.line, e.message) for e in errors)

    def add_documents(self, documents: Sequence[SourceDocument]) -> None:
        """Classify and parse documents; the checks needing all documents run in `validate`."""
        for document in documents:
            self._add(document)

    def _add(self, document: SourceDocument) -> None:
        data = document.data
        if not isinstance(data, Mapping):
            got = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
            message = f"expected a Kubernetes object (apiVersion, kind, metadata, spec), got {got}"
            self.findings.append(Finding(document.file, document.line, message))
            return
        label = _label(data)
        if not is_flink_document(data):
            if "kind" not in data and "apiVersion" not in data:
                reason = "not a Kubernetes object (no apiVersion and kind)"
            else:
                reason = f"not a Flink resource ({', '.join(KINDS)} of {GROUP})"
            severity: Literal["problem", "note"] = "problem" if self.strict else "note"
            message = reason if self.strict else f"skipped: {reason}"
            self.findings.append(Finding(document.file, document.line, message, label, severity=severity))
            return
        self.checked += 1
        result = parse_resource(data, check_pod_templates=False)
        if isinstance(result, list):
            self.findings.extend(
                Finding(document.file, document.line_of(p.path), p.message, label, p.path) for p in result
            )
            return
        self._parsed.append(_Parsed(document, result, label))

    def _index(self) -> dict[tuple[str, str, str], _Parsed]:
        index: dict[tuple[str, str, str], _Parsed] = {}
        for parsed in self._parsed:
            key = _key(parsed.resource)
            if key in index and key[2]:
                first = index[key].document
                self.findings.append(
                    Finding(
                        parsed.document.file,
                        parsed.document.line,
                        f"defined again (first at {first.file}:{first.line}); the last one applied wins",
                        parsed.label,
                        severity="note",
                    )
                )
            index[key] = parsed
        return index

    def _related(
        self, parsed: _Parsed, index: Mapping[tuple[str, str, str], _Parsed]
    ) -> tuple[Related, bool]:
        resource = parsed.resource
        namespace = resource.metadata.namespace or "default"
        wanted: tuple[str, str, str] | None = None
        what = ""
        if isinstance(resource, FlinkSessionJob) and resource.spec.deployment_name:
            wanted = ("FlinkDeployment", namespace, resource.spec.deployment_name)
            what = "its session cluster"
        elif isinstance(resource, FlinkStateSnapshot):
            reference = resource.spec.job_reference
            if reference is not None and reference.kind is not None and reference.name:
                wanted = (reference.kind.value, namespace, reference.name)
                what = "its target"
        if wanted is None:
            return None, True
        found = index.get(wanted)
        if found is not None:
            related = found.resource
            assert not isinstance(related, FlinkStateSnapshot)
            return related, True
        self.findings.append(
            Finding(
                parsed.document.file,
                parsed.document.line,
                f"{what} {wanted[0]} {wanted[1]}/{wanted[2]} is not among the files checked; the checks that "
                "need it were skipped",
                parsed.label,
                severity="note",
            )
        )
        return None, False

    async def validate(self, plugins: PluginCheck | None = None) -> list[Finding]:
        """Run the default validator (and the plugins) on every parsed resource; return all findings."""
        index = self._index()
        for parsed in self._parsed:
            document = parsed.document
            if is_canary(parsed.resource):
                message = "canary resource: accepted as is (the operator only uses it for its health check)"
                note = Finding(document.file, document.line, message, parsed.label, severity="note")
                self.findings.append(note)
                continue
            related, looked_up = self._related(parsed, index)
            problems = validate_resource(parsed.resource, related, self.context, related_looked_up=looked_up)
            for problem in problems:
                line = document.line_of(problem.path)
                finding = Finding(document.file, line, problem.message, parsed.label, problem.path)
                self.findings.append(finding)
            if plugins is not None:
                for validator, message in await plugins(parsed.resource, related):
                    self.findings.append(
                        Finding(document.file, document.line, f"[{validator}] {message}", parsed.label)
                    )
        return sorted(self.findings, key=lambda f: (f.file, f.line))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "problem"]
