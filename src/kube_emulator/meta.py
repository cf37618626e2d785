"""Object metadata rules: name formats, generateName, label syntax, timestamps and uids.

Pure helpers returning `Cause`s in the wording of the real server's validation; the write path
decides when to apply them.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from .errors import Cause, invalid_value, required_value

JSON = dict[str, Any]

_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1035 = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"

_RULES = {
    "subdomain": (
        253,
        _SUBDOMAIN,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
        f"for validation is '{_SUBDOMAIN}')",
    ),
    "label": (
        63,
        _LABEL,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
        "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
        f"validation is '{_LABEL}')",
    ),
    "dns1035": (
        63,
        _DNS1035,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
        "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
        f"regex used for validation is '{_DNS1035}')",
    ),
}

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def name_causes(name: str, rule: str, field: str = "metadata.name") -> list[Cause]:
    if rule == "path":
        if name in (".", ".."):
            return [invalid_value(field, name, f"may not be '{name}'")]
        for bad in ("/", "%"):
            if bad in name:
                return [invalid_value(field, name, f"may not contain '{bad}'")]
        return []
    limit, pattern, message = _RULES[rule]
    causes = []
    if len(name) > limit:
        causes.append(invalid_value(field, name, f"must be no more than {limit} characters"))
    if not re.fullmatch(pattern, name):
        causes.append(invalid_value(field, name, message))
    return causes


def generate_name(prefix: str, rng: random.Random) -> str:
    return prefix[:58] + "".join(rng.choice(_GENERATE_ALPHABET) for _ in range(5))


def _qualified_name_causes(key: str, field: str) -> list[Cause]:
    prefix, slash, name = key.rpartition("/")
    causes = []
    if slash and (not prefix or len(prefix) > 253 or not re.fullmatch(_SUBDOMAIN, prefix)):
        causes.append(invalid_value(field, key, "prefix part " + _RULES["subdomain"][2]))
    if not name or len(name) > 63 or not re.fullmatch(_QUALIFIED_NAME, name):
        causes.append(
            invalid_value(
                field,
                key,
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                "regex used "
                f"for validation is '{_QUALIFIED_NAME}')",
            )
        )
    return causes


def metadata_causes(metadata: JSON) -> list[Cause]:
    """Syntax errors in labels, annotations, finalizers and owner references."""
    causes: list[Cause] = []
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict):
        return [invalid_value("metadata.labels", labels, "must be a map of strings")]
    for key, value in labels.items():
        causes += _qualified_name_causes(key, "metadata.labels")
        if not isinstance(value, str) or len(value) > 63 or not re.fullmatch(_LABEL_VALUE, value):
            causes.append(
                invalid_value(
                    "metadata.labels",
                    value,
                    "a valid label must be an empty string or consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                    "(e.g. "
                    "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                    f"'{_LABEL_VALUE}')",
                )
            )
    annotations = metadata.get("annotations") or {}
    for key, value in annotations.items() if isinstance(annotations, dict) else ():
        causes += _qualified_name_causes(key.lower(), "metadata.annotations")
        if not isinstance(value, str):
            causes.append(invalid_value("metadata.annotations", value, "must be a string"))
    for i, finalizer in enumerate(metadata.get("finalizers") or []):
        if not isinstance(finalizer, str) or (
            "/" not in finalizer and finalizer not in _STANDARD_FINALIZERS and "." not in finalizer
        ):
            causes.append(
                invalid_value(
                    f"metadata.finalizers[{i}]",
                    finalizer,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    for i, ref in enumerate(metadata.get("ownerReferences") or []):
        for required in ("apiVersion", "kind", "name", "uid"):
            if not isinstance(ref, dict) or not ref.get(required):
                causes.append(required_value(f"metadata.ownerReferences[{i}].{required}"))
    controllers = [
        r for r in metadata.get("ownerReferences") or [] if isinstance(r, dict) and r.get("controller")
    ]
    if len(controllers) > 1:
        causes.append(
            invalid_value(
                "metadata.ownerReferences", controllers, "Only one reference can have Controller set to true"
            )
        )
    return causes


_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_uid() -> str:
    return str(uuid.uuid4())
