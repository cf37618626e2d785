"""`flink-operator local up|status|down|demo`: the operator, the Kubernetes API emulator and real Flink
processes on this machine (see docs/local-mode.md). The logic lives in `flink_operator.local_mode`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from flink_operator.local_mode.layout import DEFAULT_STATE_DIR, LocalPaths
from flink_operator.local_mode.settings import DEFAULT_PORT, LocalOptions, parse_overrides

DEMO_STATE_DIR = Path(".state") / "demo"
DEMO_EXAMPLE = Path("examples") / "basic-flink2.yaml"

local_app = typer.Typer(
    name="local",
    help="Run the operator with local Flink processes and a Kubernetes API emulator (no cluster needed).",
    no_args_is_help=True,
    add_completion=False,
)

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        help="Where local mode keeps everything: API objects, Flink clusters, jars, logs, kubeconfig.",
    ),
]


def _options(
    state_dir: Path,
    port: int,
    kubeconfig_out: Path | None,
    keep_clusters: bool,
    config: Path | None,
    define: list[str] | None,
) -> LocalOptions:
    if not 0 <= port <= 65535:
        raise typer.BadParameter(f"{port} is not a TCP port (0 picks a free one)", param_hint="--port")
    try:
        overrides = parse_overrides(define or [])
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="-D") from error
    return LocalOptions(
        state_dir=state_dir,
        port=port,
        kubeconfig_out=kubeconfig_out,
        keep_clusters=keep_clusters,
        config_file=config,
        overrides=overrides,
    )


@local_app.command("up")
def up(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    port: Annotated[int, typer.Option(help="Port of the API emulator on 127.0.0.1 (0 picks a free one).")] = (
        DEFAULT_PORT
    ),
    kubeconfig_out: Annotated[
        Path | None,
        typer.Option(help="Also write the kubeconfig here (it is always in STATE_DIR/kubeconfig)."),
    ] = None,
    keep_clusters: Annotated[
        bool, typer.Option(help="Leave Flink clusters running on exit; the next `local up` adopts them.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="Operator configuration file (config.yaml) over the local defaults.")
    ] = None,
    define: Annotated[
        list[str] | None,
        typer.Option("-D", help="Operator option KEY=VALUE over everything else; repeatable."),
    ] = None,
    detach: Annotated[bool, typer.Option(help="Run in the background; stop it with `local down`.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print the operator's log.")] = False,
) -> None:
    """Start the API emulator, install the CRDs, run the operator on local Flink; Ctrl-C stops it all."""
    from flink_operator.local_mode.display import Display
    from flink_operator.local_mode.up import run_up

    options = _options(state_dir, port, kubeconfig_out, keep_clusters, config, define)
    if detach:
        _detach(options, state_dir, port, kubeconfig_out, keep_clusters, config, define or [])
        return
    raise typer.Exit(run_up(options, Display(), verbose=verbose))


def _detach(
    options: LocalOptions,
    state_dir: Path,
    port: int,
    kubeconfig_out: Path | None,
    keep_clusters: bool,
    config: Path | None,
    define: list[str],
) -> None:
    from flink_operator.local_mode.background import BackgroundError, start_detached

    arguments = ["--state-dir", str(options.paths.root), "--port", str(port)]
    if kubeconfig_out is not None:
        arguments += ["--kubeconfig-out", str(kubeconfig_out.absolute())]
    if keep_clusters:
        arguments.append("--keep-clusters")
    if config is not None:
        arguments += ["--config", str(config.absolute())]
    for value in define:
        arguments += ["-D", value]
    try:
        record = start_detached(options.paths, arguments, within=300.0)
    except BackgroundError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"local mode runs in the background (pid {record.pid}); log: {options.paths.background_log}")
    typer.echo(f"kubeconfig: {record.kubeconfig}")
    typer.echo(f"stop it with: flink-operator local down --state-dir {options.paths.root}")


@local_app.command("status")
def status(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Each resource's lifecycle and job state and its Flink Web UI / REST URL; the local clusters."""
    from flink_operator.local_mode.status import collect_status
    from flink_operator.local_mode.status_view import render_status

    report = asyncio.run(collect_status(LocalPaths.of(state_dir)))
    if as_json:
        typer.echo(report.to_json())
    else:
        render_status(report)


@local_app.command("down")
def down(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    keep_clusters: Annotated[bool, typer.Option(help="Leave running Flink clusters running.")] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for a graceful stop before SIGKILL.")
    ] = 90.0,
) -> None:
    """Stop a `local up` of this state directory (and whatever an earlier crash left running)."""
    from flink_operator.local_mode.background import stop_background

    report = asyncio.run(
        stop_background(LocalPaths.of(state_dir), keep_clusters=keep_clusters, within=timeout)
    )
    if report.stopped_instance:
        how = "killed after the timeout" if report.killed else "stopped"
        typer.echo(f"local up (pid {report.stopped_instance}) {how}")
    if report.stopped_emulator:
        typer.echo("API emulator stopped")
    for ref in report.stopped_clusters:
        typer.echo(f"Flink cluster {ref} stopped")
    for ref in report.kept_clusters:
        typer.echo(f"Flink cluster {ref} left running")
    if not (report.stopped_instance or report.stopped_emulator or report.stopped_clusters):
        typer.echo("nothing was running")


@local_app.command("demo")
def demo(
    state_dir: StateDir = DEMO_STATE_DIR,
    example: Annotated[Path, typer.Option(help="The FlinkDeployment to run.")] = DEMO_EXAMPLE,
    port: Annotated[int, typer.Option(help="Port of the API emulator (0 picks a free one).")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds each wait may take before the demo fails.")] = 300.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print the operator's log.")] = False,
    earlier: Annotated[
        list[str] | None,
        typer.Option("--earlier-phase", hidden=True, help="NAME=SECONDS of a phase run before (the set-up)."),
    ] = None,
) -> None:
    """Start everything, run an example FlinkDeployment to STABLE, show its Web UI, delete it, stop."""
    from flink_operator.local_mode.demo import run_demo
    from flink_operator.local_mode.display import Display

    options = _options(state_dir, port, None, False, None, None)
    display = Display()
    for value in earlier or []:
        name, _, seconds = value.rpartition("=")
        try:
            display.phases.append((name or value, float(seconds)))
        except ValueError as error:
            raise typer.BadParameter(
                f"{value!r}: expected NAME=SECONDS", param_hint="--earlier-phase"
            ) from error
    raise typer.Exit(run_demo(options, display, example=example, timeout=timeout, verbose=verbose))


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
