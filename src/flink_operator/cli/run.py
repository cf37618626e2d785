"""`flink-operator run`: the operator against the current kubeconfig (a real cluster, or an emulator).

Everything the operator does is configured in its configuration file (`--config`, else `$FLINK_CONF_DIR`)
and the environment; the options here only say where to find things. The command runs in the foreground
until SIGTERM/SIGINT and shuts down gracefully.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer


def run(
    config: Annotated[Path | None, typer.Option(
        "--config", help="Operator configuration file (config.yaml / flink-conf.yaml) or a directory holding "
                         "one; default: $FLINK_CONF_DIR.")] = None,
    kubeconfig: Annotated[Path | None, typer.Option(
        help="kubeconfig to use; default: in-cluster service account, else $KUBECONFIG or ~/.kube/config.",
    )] = None,
    context: Annotated[str | None, typer.Option(help="kubeconfig context (default: the current).")] = None,
    namespace: Annotated[str | None, typer.Option(
        help="The operator's own namespace, for its leader-election Lease (default: $OPERATOR_NAMESPACE, "
             "the service account's namespace, else 'default').")] = None,
    health_port: Annotated[int | None, typer.Option(
        help="Health endpoint port (default: kubernetes.operator.health.probe.port; negative disables it).",
    )] = None,
    health_host: Annotated[str, typer.Option(help="Address the health endpoint binds to.")] = "0.0.0.0",  # noqa: S104
    log_level: Annotated[str, typer.Option(help="Logging level (DEBUG, INFO, WARNING, ERROR).")] = "INFO",
    webhook: Annotated[bool, typer.Option(
        "--webhook", help="Also serve the admission webhook (kubernetes.operator.webhook.*) in this process.",
    )] = False,
) -> None:
    """Run the operator until interrupted."""
    import asyncio

    from flink_operator.app import OperatorSettings, run_operator
    from flink_operator.config import ConfigError
    from flink_operator.plugins._sources import PluginLoadError

    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise typer.BadParameter(f"{log_level!r} is not a logging level", param_hint="--log-level")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    if config is not None and not config.exists():
        raise typer.BadParameter(f"{config}: no such file or directory", param_hint="--config")
    if kubeconfig is not None and not kubeconfig.is_file():
        raise typer.BadParameter(f"{kubeconfig}: no such file", param_hint="--kubeconfig")
    settings = OperatorSettings(
        config_file=config,
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace,
        health_port=health_port,
        health_host=health_host,
        webhook=webhook,
    )
    try:
        asyncio.run(run_operator(settings))
    except (ConfigError, PluginLoadError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    except (OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo("flink-operator stopped")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
