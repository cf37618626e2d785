"""Label and field selectors: parsing the query-string forms and matching objects against them.

Label selectors support the equality (`=`, `==`, `!=`) and set-based (`in`, `notin`, `key`, `!key`)
forms, plus `metav1.LabelSelector` objects (matchLabels/matchExpressions) as used by webhook
namespace/object selectors. Field selectors support `=`, `==` and `!=` on the fields each resource
type declares; an unsupported field is a 400, as on a real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request

JSON = dict[str, Any]

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        if self.op in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        if self.op in (">", "<"):
            try:
                have, want = int(labels[self.key]), int(self.values[0])
            except (KeyError, ValueError):
                return False
            return have > want if self.op == ">" else have < want
        return False


LabelSelector = tuple[Requirement, ...]


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, text: str) -> None:
    prefix, _, name = key.rpartition("/")
    if not name or len(name) > 63 or not _NAME_PART.match(name) or (prefix and len(prefix) > 253):
        raise bad_request(
            f'unable to parse requirement: invalid label key "{key}": name part must '
            f"consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            f'with an alphanumeric character (in selector "{text}")'
        )


def _check_value(value: str, text: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(
            f'unable to parse requirement: values[0][{value}]: Invalid value: "{value}": a valid '
            f"label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            f'and must start and end with an alphanumeric character (in selector "{text}")'
        )


_SET_RE = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse `labelSelector=` syntax; raise a 400 `ApiError` naming the bad requirement."""
    reqs: list[Requirement] = []
    for part in _split_top_level(text):
        match = _SET_RE.match(part)
        if match:
            key, op, raw_values = match.groups()
            values = tuple(v.strip() for v in raw_values.split(",") if v.strip())
            _check_key(key, text)
            for v in values:
                _check_value(v, text)
            reqs.append(Requirement(key, op, values))
            continue
        for op in ("!=", "==", "=", ">", "<"):
            if op in part:
                key, _, value = part.partition(op)
                key, value = key.strip(), value.strip()
                _check_key(key, text)
                _check_value(value, text)
                reqs.append(Requirement(key, "=" if op == "==" else op, (value,)))
                break
        else:
            if part.startswith("!"):
                _check_key(part[1:].strip(), text)
                reqs.append(Requirement(part[1:].strip(), "!"))
            else:
                if " " in part:
                    raise bad_request(
                        f"unable to parse requirement: found '{part}', expected: in, notin, =, ==, !=, gt, lt"
                    )
                _check_key(part, text)
                reqs.append(Requirement(part, "exists"))
    return tuple(reqs)


def match_labels(selector: LabelSelector, labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in selector)


_LABEL_SELECTOR_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def from_label_selector_object(selector: JSON | None) -> LabelSelector:
    """A `metav1.LabelSelector` dict as a requirement tuple (empty selector: matches everything)."""
    if not selector:
        return ()
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op = _LABEL_SELECTOR_OPS.get(expr.get("operator", ""))
        if op is None:
            raise bad_request(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(str(v) for v in expr.get("values") or [])))
    return tuple(reqs)


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    negate: bool
    value: str


FieldSelector = tuple[FieldRequirement, ...]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(text: str, supported: frozenset[str], custom: bool) -> FieldSelector:
    reqs: list[FieldRequirement] = []
    for part in re.split(r"(?<!\\),", text):
        part = part.strip()
        if not part:
            continue
        match = re.match(r"^([^=!]+)(!=|==|=)(.*)$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        path, op, value = match.group(1).strip(), match.group(2), _unescape(match.group(3).strip())
        if path not in supported:
            raise bad_request(
                f'"{path}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                if custom
                else f"field label not supported: {path}"
            )
        reqs.append(FieldRequirement(path, op == "!=", value))
    return tuple(reqs)


def field_value(obj: JSON, path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if path == "source" and isinstance(node, dict):
        return str(node.get("component", ""))
    return str(node)


def match_fields(selector: FieldSelector, obj: JSON) -> bool:
    for req in selector:
        equal = field_value(obj, req.path) == req.value
        if equal == req.negate:
            return False
    return True


Matcher = Callable[[JSON], bool]


def object_matcher(labels: LabelSelector, fields: FieldSelector) -> Matcher | None:
    """One predicate for both selectors, or None when nothing is selected on (the common fast path)."""
    if not labels and not fields:
        return None

    def matches(obj: JSON) -> bool:
        metadata = obj.get("metadata") or {}
        return match_labels(labels, metadata.get("labels")) and match_fields(fields, obj)

    return matches
