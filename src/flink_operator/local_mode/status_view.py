"""`local status` for people: a table of resources and one of local Flink clusters (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flink_operator.local_mode.status import StatusReport

_GOOD = {"STABLE", "RUNNING", "READY"}
_BAD = {"FAILED", "ERROR", "MISSING"}


def _styled(value: str | None) -> str:
    if value is None:
        return "[dim]-[/dim]"
    style = "green" if value in _GOOD else "red" if value in _BAD else "cyan"
    return f"[{style}]{escape(value)}[/{style}]"


def render_status(report: StatusReport, console: Console | None = None) -> None:
    out = console or Console(highlight=False)
    if not out.is_terminal:
        out.width = 240  # piped: keep rows whole rather than squeezed into 80 columns
    if report.running:
        where = escape(report.state_dir)
        out.print(f"local mode [green]running[/green] (pid {report.pid}, {report.phase}) in {where}")
    else:
        out.print(f"local mode [yellow]not running[/yellow] in {escape(report.state_dir)}")
    if report.api_server:
        out.print(
            f"  API server: {escape(report.api_server)}   kubeconfig: {escape(report.kubeconfig or '-')}"
        )
    for problem in report.problems:
        out.print(f"  [red]{escape(problem)}[/red]")
    if report.resources:
        table = Table(show_header=True, header_style="bold")
        for column in ("kind", "namespace", "name", "lifecycle", "job", "JobManager", "Flink Web UI / REST"):
            table.add_column(column)
        for r in report.resources:
            table.add_row(
                r.kind,
                r.namespace,
                r.name,
                _styled(r.lifecycle_state),
                _styled(r.job_state),
                _styled(r.job_manager_status),
                escape(r.rest_url or "-"),
            )
        out.print(table)
        for r in report.resources:
            if r.error:
                out.print(f"  [red]{escape(r.namespace)}/{escape(r.name)}:[/red] {escape(r.error)}")
    elif report.api_server:
        out.print("  no FlinkDeployments or FlinkSessionJobs")
    if report.flink_clusters:
        table = Table(title="local Flink clusters", show_header=True, header_style="bold")
        for column in ("namespace", "name", "mode", "Flink", "processes", "REST"):
            table.add_column(column)
        for c in report.flink_clusters:
            table.add_row(
                c.namespace,
                c.name,
                c.mode,
                c.flink_version,
                "[green]running[/green]" if c.running else "[dim]stopped[/dim]",
                escape(c.rest_url),
            )
        out.print(table)
