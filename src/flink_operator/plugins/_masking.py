"""Masked copies of resources, statuses and texts: what listeners, the audit log and the HTTP sink see.

Masked, in a resource or status (also inside the spec JSON stored in `lastReconciledSpec`/`lastStableSpec` and
in kubectl's last-applied-configuration annotation):
* values of `flinkConfiguration` keys that look secret (`flink_operator.config.redaction`), flat or nested;
* every literal environment value (`env[].value`) in any pod template or container list.
The masked values are remembered and scrubbed from free text: `status.error`, condition messages, job
arguments and Kubernetes Event messages (e.g. a spec-change diff quoting the old and new value).

Not guaranteed: a secret under an innocent-looking key is not recognised (add a redaction pattern), and values
shorter than 3 characters are not scrubbed from free text (see `redact_text`).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, Self, TypeVar

from flink_operator.config.flatten import scalar_text
from flink_operator.config.redaction import DEFAULT_REDACTOR, REDACTED, Redactor, redact_text

_JSON_TEXT_FIELDS = frozenset(
    {"lastReconciledSpec", "lastStableSpec", "kubectl.kubernetes.io/last-applied-configuration"}
)


class _Document(Protocol):
    """A model that round-trips through its JSON form (the resource and status models)."""

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Self: ...


D = TypeVar("D", bound=_Document)
E = TypeVar("E", bound=_Document)


class Masker:
    """Masks documents with one `Redactor` (built-in rules plus the configured extra patterns)."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._redactor = redactor or DEFAULT_REDACTOR

    def model(self, model: D) -> tuple[D, frozenset[str]]:
        """A masked copy of `model`, and the secret values it held."""
        masked, _, secrets = self.pair(model, None)
        return masked, secrets

    def pair(self, first: D, second: E | None) -> tuple[D, E | None, frozenset[str]]:
        """Masked copies of two related models (a resource and its previous status), and the secret values
        either held: an old secret kept in one is scrubbed from the free text of the other too."""
        secrets: set[str] = set()
        first_doc = self.document(first.to_dict(), secrets)
        second_doc: Any = {} if second is None else self.document(second.to_dict(), secrets)
        self.scrub_free_text(first_doc, secrets)
        self.scrub_free_text(second_doc, secrets)
        masked_second = None if second is None else type(second).from_dict(second_doc)
        return type(first).from_dict(first_doc), masked_second, frozenset(secrets)

    def secret_values(self, *models: _Document | None) -> frozenset[str]:
        """The secret values the models hold (for scrubbing texts about them), without copying them."""
        secrets: set[str] = set()
        for model in models:
            if model is not None:
                self.document(model.to_dict(), secrets)
        return frozenset(secrets)

    def document(self, node: Any, secrets: set[str]) -> Any:
        """A masked copy of a JSON document (structure only; free text is `scrub_free_text`'s)."""
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "flinkConfiguration" and isinstance(value, Mapping):
                    out[key] = self._configuration(value, "", secrets)
                elif key == "env" and isinstance(value, list):
                    out[key] = [self._env_var(item, secrets) for item in value]
                elif key in _JSON_TEXT_FIELDS and isinstance(value, str):
                    out[key] = self._json_text(value, secrets)
                else:
                    out[key] = self.document(value, secrets)
            return out
        if isinstance(node, list):
            return [self.document(item, secrets) for item in node]
        return node

    def text(self, text: str, secrets: Iterable[str]) -> str:
        return redact_text(text, secrets)

    def traceback(self, error: BaseException, secrets: Iterable[str]) -> str:
        """The formatted traceback of `error` with known secret values scrubbed (for logging plugin failures:
        a plugin that saw the real resource may quote a secret in its exception message)."""
        return redact_text("".join(traceback.format_exception(error)).rstrip(), secrets)

    def scrub_free_text(self, document: Any, secrets: set[str]) -> None:
        """Scrub known secret values from the free-text fields of a resource or status document, in place."""
        if not secrets or not isinstance(document, dict):
            return
        status = document.get("status")
        for holder in (document, status):
            if not isinstance(holder, dict):
                continue
            if isinstance(holder.get("error"), str):
                holder["error"] = redact_text(holder["error"], secrets)
            for condition in holder.get("conditions") or ():
                if isinstance(condition, dict) and isinstance(condition.get("message"), str):
                    condition["message"] = redact_text(condition["message"], secrets)
        job = (document.get("spec") or {}).get("job") if isinstance(document.get("spec"), dict) else None
        if isinstance(job, dict) and isinstance(job.get("args"), list):
            job["args"] = [redact_text(a, secrets) if isinstance(a, str) else a for a in job["args"]]

    def _configuration(self, node: Mapping[str, Any], prefix: str, secrets: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            full_key = f"{prefix}{key}"
            if isinstance(value, Mapping):
                out[key] = self._configuration(value, f"{full_key}.", secrets)
            elif value is not None and self._redactor.is_secret_key(full_key):
                secrets.add(scalar_text(value))
                out[key] = REDACTED
            else:
                out[key] = value
        return out

    def _env_var(self, item: Any, secrets: set[str]) -> Any:
        if not isinstance(item, Mapping):
            return item
        masked = {k: self.document(v, secrets) for k, v in item.items() if k != "value"}
        if "value" in item:
            value = item["value"]
            if isinstance(value, str) and value:
                secrets.add(value)
                masked["value"] = REDACTED
            else:
                masked["value"] = value
        return masked

    def _json_text(self, text: str, secrets: set[str]) -> str:
        try:
            parsed = json.loads(text)
        except ValueError:
            return REDACTED  # corrupt: it cannot be masked field by field, so none of it is shown
        masked = self.document(parsed, secrets)
        return json.dumps(masked, separators=(",", ":"))
