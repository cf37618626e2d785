"""The small JSONPath dialect of CRD `additionalPrinterColumns` (and of `kubectl`-style paths).

Supports `.field`, `['field']`, `[n]`, `[*]`, `..`-free paths and filters of the form
`[?(@.key=="value")]` / `!=`; it returns every match, in order. Anything else raises `ValueError`
naming the unsupported part.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_$-]+)"""
    r"""|\[['"](?P<quoted>[^'"]+)['"]\]"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<star>\*)\]"""
    r"""|\[\?\(@\.(?P<fkey>[A-Za-z0-9_.$-]+)\s*(?P<fop>==|!=)\s*(?P<fval>"[^"]*"|'[^']*'|[^)\s]+)\)\]"""
)


def compile_path(path: str) -> list[tuple[str, Any]]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if text.startswith("$"):
        text = text[1:]
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"unsupported JSONPath {path!r} at {text[pos:]!r}")
        if match.group("field") is not None:
            steps.append(("field", match.group("field")))
        elif match.group("quoted") is not None:
            steps.append(("field", match.group("quoted")))
        elif match.group("index") is not None:
            steps.append(("index", int(match.group("index"))))
        elif match.group("star") is not None:
            steps.append(("star", None))
        else:
            value = match.group("fval").strip("\"'")
            steps.append(("filter", (match.group("fkey").split("."), match.group("fop"), value)))
        pos = match.end()
    return steps


def find(obj: Any, path: str | list[tuple[str, Any]]) -> list[Any]:
    steps = compile_path(path) if isinstance(path, str) else path
    current = [obj]
    for kind, arg in steps:
        nxt: list[Any] = []
        for node in current:
            if (kind == "field" and isinstance(node, dict) and arg in node) or (
                kind == "index" and isinstance(node, list) and -len(node) <= arg < len(node)
            ):
                nxt.append(node[arg])
            elif kind == "star":
                nxt.extend(
                    node if isinstance(node, list) else node.values() if isinstance(node, dict) else []
                )
            elif kind == "filter" and isinstance(node, list):
                keys, op, want = arg
                for item in node:
                    value: Any = item
                    for key in keys:
                        value = value.get(key) if isinstance(value, dict) else None
                    same = value is not None and _text(value) == want
                    if same == (op == "=="):
                        nxt.append(item)
        current = nxt
    return current


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
