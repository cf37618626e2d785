"""Reading resource documents from YAML text, keeping where each came from and where each field is.

`read_documents` splits multi-document YAML into `SourceDocument`s (the parsed data and the YAML node it came
from); a `kind: List` (as `kubectl get -o yaml` writes) becomes one document per item. Malformed YAML and
duplicate mapping keys (which kubectl rejects, and PyYAML would silently resolve to the last value) become
`SourceError`s naming the line; documents before a syntax error are still returned.

`SourceDocument.line_of(path)` finds the line of a field path such as `spec.job.parallelism` or
`spec.flinkConfiguration["state.savepoints.dir"]`: the line of the field itself, of its nearest existing
parent when the field is missing, or of the document's first line.

`yaml_files` expands command-line arguments: files as given, directories walked recursively for `*.yaml`
and `*.yml` (sorted, hidden directories skipped).

Not guaranteed: YAML 1.1 scalars are read as PyYAML reads them (`on` is a boolean, `2024-01-01` a date);
such values then fail the type checks with a message telling to quote them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PATH_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.\[\]"]+)')
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SourceError:
    """A fault of the YAML text itself."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class SourceDocument:
    """One document of a file: its data, its YAML node, and its first line (1-based)."""

    file: str
    line: int
    data: Any
    node: yaml.Node | None = None

    def line_of(self, path: str) -> int:
        """The line of the field at `path` (or of its nearest existing parent)."""
        node = self.node
        if node is None:
            return self.line
        line = self.line
        for part in parse_path(path):
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
            line = key_node.start_mark.line + 1
        return line


def parse_path(path: str) -> list[str | int]:
    """`spec.containers[0]["a.b"]` -> `["spec", "containers", 0, "a.b"]` (the inverse of `format_path`)."""
    parts: list[str | int] = []
    for quoted, index, plain in _PATH_PART.findall(path):
        if plain:
            parts.append(plain)
        elif index:
            parts.append(int(index))
        else:
            parts.append(json.loads(f'"{quoted}"'))
    return parts


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(node marking the field, node of its value) for one path step, or None."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in reversed(node.value):  # the last of duplicate keys is the one PyYAML keeps
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key, value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def _node_faults(file: str, root: yaml.Node) -> list[SourceError]:
    """Duplicate keys anywhere in a document, and aliases that refer to themselves (a cycle)."""
    faults: list[SourceError] = []
    done: set[int] = set()
    open_nodes: set[int] = set()

    def visit(node: yaml.Node) -> None:
        if id(node) in open_nodes:
            faults.append(SourceError(file, node.start_mark.line + 1, "a YAML alias refers to itself"))
            return
        if id(node) in done:  # aliases share nodes: check each once
            return
        open_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    line = key.start_mark.line + 1
                    if key.value in seen:
                        first = seen[key.value]
                        message = f"duplicate key {key.value!r} (first at line {first})"
                        faults.append(SourceError(file, line, message))
                    else:
                        seen[key.value] = line
                visit(key)
                visit(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                visit(item)
        open_nodes.discard(id(node))
        done.add(id(node))

    visit(root)
    return faults


def _yaml_error(file: str, error: yaml.YAMLError) -> SourceError:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = error.problem or error.context or "cannot be parsed"
        context = error.context_mark
        if error.context and error.problem and context is not None:
            message += f" ({error.context} started at line {context.line + 1})"
        return SourceError(file, line, f"malformed YAML: {message}")
    return SourceError(file, 1, f"malformed YAML: {' '.join(str(error).split())}")


def _expand_list(file: str, document: SourceDocument) -> list[SourceDocument]:
    data = document.data
    if not (
        isinstance(data, dict)
        and isinstance(data.get("kind"), str)
        and data["kind"].endswith("List")
        and isinstance(data.get("items"), list)
    ):
        return [document]
    items_node: yaml.Node | None = None
    if document.node is not None:
        found = _child(document.node, "items")
        items_node = found[1] if found else None
    expanded = []
    for index, item in enumerate(data["items"]):
        node = items_node.value[index] if isinstance(items_node, yaml.SequenceNode) else None
        line = node.start_mark.line + 1 if node is not None else document.line
        expanded.append(SourceDocument(file, line, item, node))
    return expanded


def read_documents(file: str, text: str) -> tuple[list[SourceDocument], list[SourceError]]:
    """The documents of a YAML text (empty documents dropped) and the faults of the text."""
    documents: list[SourceDocument] = []
    errors: list[SourceError] = []
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            faults = _node_faults(file, node)
            errors.extend(faults)
            if any("refers to itself" in fault.message for fault in faults):
                loader.construct_document(node)  # keeps the loader's state consistent; the data is unusable
                continue
            data = loader.construct_document(node)
            if data is None:
                continue
            document = SourceDocument(file, node.start_mark.line + 1, data, node)
            documents.extend(_expand_list(file, document))
    except yaml.YAMLError as error:
        errors.append(_yaml_error(file, error))
    except RecursionError:
        errors.append(SourceError(file, 1, "the YAML is nested too deeply to be a resource"))
    finally:
        loader.dispose()
    return documents, errors


def read_file(path: Path, shown: str) -> tuple[list[SourceDocument], list[SourceError]]:
    """`read_documents` of a file; unreadable files give one `SourceError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return [], [SourceError(shown, 1, f"not UTF-8 text ({error.reason} at byte {error.start})")]
    except OSError as error:
        return [], [SourceError(shown, 1, f"cannot be read: {error.strerror or error}")]
    return read_documents(shown, text)


def yaml_files(arguments: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files to read for the given arguments, and a message for each argument that is unusable."""
    files: list[Path] = []
    problems: list[str] = []
    for argument in arguments:
        if argument.is_dir():
            found = sorted(
                path
                for path in argument.rglob("*")
                if path.suffix in YAML_SUFFIXES
                and path.is_file()
                and not any(part.startswith(".") for part in path.relative_to(argument).parts)
            )
            if not found:
                problems.append(f"{argument}: no *.yaml or *.yml files in this directory")
            files.extend(found)
        elif argument.is_file():
            files.append(argument)
        elif argument.exists():
            problems.append(f"{argument}: not a file or directory")
        else:
            problems.append(f"{argument}: no such file or directory")
    return list(dict.fromkeys(files)), problems
