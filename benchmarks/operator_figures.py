"""Small measuring helpers shared by the operator benchmarks: percentiles, a process's RSS and CPU time from
/proc, the machine's load, and a goal-vs-measured table."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class ProcFigures:
    rss_mb: float
    peak_rss_mb: float
    cpu_s: float
    """User + system CPU seconds so far."""


def proc_figures(pid: int) -> ProcFigures:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return ProcFigures(
        int(fields["VmRSS"].split()[0]) / 1024,
        int(fields["VmHWM"].split()[0]) / 1024,
        (int(stat[11]) + int(stat[12])) / ticks,
    )


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def spread(values: list[float]) -> str:
    """`median (min..max)` of seconds."""
    if not values:
        return "n/a"
    return f"{statistics.median(values):.2f} s ({min(values):.2f}..{max(values):.2f})"


@dataclass(frozen=True)
class Row:
    figure: str
    goal: str
    measured: str
    met: bool | None
    """None: no goal."""


def table(title: str, rows: list[Row]) -> str:
    width = max(len(r.figure) for r in rows)
    goal_width = max(len(r.goal) for r in rows)
    lines = [title, f"  {'figure':<{width}}  {'goal':<{goal_width}}  measured"]
    for row in rows:
        verdict = "" if row.met is None else ("  ok" if row.met else "  MISSED")
        lines.append(f"  {row.figure:<{width}}  {row.goal:<{goal_width}}  {row.measured}{verdict}")
    return "\n".join(lines)
