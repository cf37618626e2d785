"""Plugins published by installed distributions through the entry-point groups `flink_operator.validators`,
`flink_operator.mutators` and `flink_operator.listeners`: installing the package is all it takes.

Also parses the standard `entry_points.txt` format, which plugin directories reuse to declare what they hold.
"""

from __future__ import annotations

import configparser
import importlib.metadata
from collections.abc import Iterable

from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._sources import (
    LoadFailure,
    Origin,
    PluginCandidate,
    PluginSource,
    valid_plugin_name,
)


def entry_point_candidates(
    points: Iterable[importlib.metadata.EntryPoint] | None = None,
) -> tuple[list[PluginCandidate], list[LoadFailure]]:
    """Candidates for every entry point in the plugin groups, sorted by name within each role.

    The same name declared twice with the same target (one distribution visible twice on the path) counts
    once; with different targets it is a failure, since the name is what configuration keys address.
    """
    given = None if points is None else list(points)
    candidates: list[PluginCandidate] = []
    failures: list[LoadFailure] = []
    for kind in PluginKind:
        group = kind.entry_point_group
        in_group = sorted(
            importlib.metadata.entry_points(group=group)
            if given is None
            else [p for p in given if p.group == group],
            key=lambda p: (p.name, p.value),
        )
        seen: dict[str, importlib.metadata.EntryPoint] = {}
        for point in in_group:
            source = PluginSource(Origin.ENTRY_POINT, f"{group}:{point.name}")
            earlier = seen.get(point.name)
            if earlier is not None:
                if earlier.value != point.value:
                    failures.append(
                        LoadFailure(
                            source,
                            f"the name is also declared by {_distribution(earlier)} for {earlier.value}",
                            kind,
                            point.name,
                            point.value,
                        )
                    )
                continue
            seen[point.name] = point
            problem = valid_plugin_name(point.name)
            if problem:
                failures.append(LoadFailure(source, problem, kind, point.name, point.value))
                continue
            candidates.append(PluginCandidate(kind, point.name, source, point.value, point.load))
    return candidates, failures


def _distribution(point: importlib.metadata.EntryPoint) -> str:
    dist = point.dist
    return f"distribution {dist.name!r}" if dist is not None else "another distribution"


def parse_entry_points_text(text: str, where: str) -> list[tuple[PluginKind, str, str]]:
    """`(role, name, "module:attr")` for each entry of a plugin group in an `entry_points.txt`.

    Raises ValueError naming `where` when the text is not in the INI-like entry-point format.
    """
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # names are case-sensitive
    try:
        parser.read_string(text, source=where)
    except configparser.Error as error:
        raise ValueError(f"{where} is not in the entry-point format: {error}") from error
    entries: list[tuple[PluginKind, str, str]] = []
    for section in parser.sections():
        kind = PluginKind.from_entry_point_group(section.strip())
        if kind is None:
            continue
        for name, value in parser.items(section):
            target = value.split("[", 1)[0].strip()  # drop "[extras]"
            entries.append((kind, name.strip(), target))
    return entries
