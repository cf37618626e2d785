"""How local mode talks to the person at the terminal: phases with their durations, progress lines, errors.

Output goes through a rich `Console`; without a terminal (pipes, CI logs) it degrades to plain lines.
Timings are measured here (monotonic clock) so every command reports them the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flink_operator.local_mode.progress import ProgressLine

_STYLES = {"good": "green", "bad": "bold red", "info": "cyan"}


@dataclass
class Display:
    console: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    phases: list[tuple[str, float]] = field(default_factory=list)

    def info(self, text: str) -> None:
        self.console.print(escape(text))

    def note(self, label: str, value: str) -> None:
        self.console.print(f"  {escape(label)}: [bold]{escape(value)}[/bold]")

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {escape(text)}")

    def error(self, text: str) -> None:
        self.console.print(f"[bold red]error:[/bold red] {escape(text)}")

    def done(self, name: str, seconds: float, detail: str = "") -> None:
        self.phases.append((name, seconds))
        extra = f"  {escape(detail)}" if detail else ""
        self.console.print(f"[green]\u2713[/green] {escape(name)} [dim]({seconds:.1f} s)[/dim]{extra}")

    @contextmanager
    def phase(self, name: str) -> Iterator[dict[str, str]]:
        """Time a phase; the caller may set `detail` in the yielded dict. Failures are not recorded."""
        started = time.monotonic()
        detail: dict[str, str] = {}
        yield detail
        self.done(name, time.monotonic() - started, detail.get("detail", ""))

    def progress(self, line: ProgressLine) -> None:
        style = _STYLES[line.severity]
        t = line.transition
        if t.what == "web ui":
            change = f"Flink Web UI / REST: [bold underline]{escape(t.after or '')}[/bold underline]"
        elif t.before is not None and t.after is not None:
            change = f"{escape(t.what)} {escape(t.before)} \u2192 [{style}]{escape(t.after)}[/{style}]"
        elif t.after is not None:
            change = f"{escape(t.what)} [{style}]{escape(t.after)}[/{style}]"
        else:
            change = f"[{style}]{escape(t.what)}[/{style}]"
        self.console.print(f"[dim]+{line.elapsed:6.1f}s[/dim]  [bold]{escape(line.subject)}[/bold]  {change}")

    def summary(self, title: str) -> None:
        table = Table(title=title, show_header=True, header_style="bold")
        table.add_column("phase")
        table.add_column("seconds", justify="right")
        for name, seconds in self.phases:
            table.add_row(name, f"{seconds:.1f}")
        table.add_row("[bold]total[/bold]", f"[bold]{sum(s for _, s in self.phases):.1f}[/bold]")
        self.console.print(table)
