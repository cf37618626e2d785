"""`flink-operator webhook`: the admission webhook in its own process (`flink-operator run --webhook` serves
the same webhook inside the operator).

It loads the operator configuration (live-reloaded: the default validator reads the current one), the
plugins, and a Kubernetes client (in-cluster, `$KUBECONFIG` or `--kubeconfig`), then serves HTTPS until
SIGTERM or SIGINT. Exit status 1 when it cannot start (bad configuration, plugins that fail to load, no
certificate).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer


async def _serve(
    config: Path | None,
    kubeconfig: Path | None,
    namespace: str | None,
    host: str | None,
    port: int | None,
) -> None:
    from lightkube import AsyncClient, KubeConfig

    from flink_operator.config import ConfigReloader, load_declared_options
    from flink_operator.plugins._host import PluginHost
    from flink_operator.validation import DefaultValidator
    from flink_operator.webhook import WebhookServer

    load_declared_options()
    reloader = ConfigReloader(path=config)
    configuration = reloader.current.configuration
    client = AsyncClient(KubeConfig.from_file(kubeconfig)) if kubeconfig else AsyncClient()
    plugins = PluginHost.load(
        configuration, default_validator=DefaultValidator(lambda: reloader.current), kubernetes_client=client
    )
    server = WebhookServer.from_config(
        plugins, configuration, client, namespace=namespace, host=host, port=port
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reload_task: asyncio.Task[None] | None = None
    try:
        await server.start()
        typer.echo(f"flink-operator webhook listening on {server.url}")
        reload_task = asyncio.create_task(reloader.run(), name="config-reload")
        await stop.wait()
    finally:
        if reload_task is not None:
            reload_task.cancel()
        await server.stop()
        await plugins.aclose()
        await client.close()


def webhook(
    config: Annotated[Path | None, typer.Option(
        help="Operator configuration file (default: config.yaml in $FLINK_CONF_DIR); environment variables "
             "apply on top, as for the operator.")] = None,
    kubeconfig: Annotated[Path | None, typer.Option(
        help="Kubeconfig to use (default: in-cluster configuration, else $KUBECONFIG or ~/.kube/config).")
    ] = None,
    namespace: Annotated[str | None, typer.Option(
        help="Namespace of the webhook Service and certificate Secret (default: "
             "kubernetes.operator.webhook.service.namespace, else $OPERATOR_NAMESPACE).")] = None,
    host: Annotated[str | None, typer.Option(
        help="Address to bind (default: kubernetes.operator.webhook.host, 0.0.0.0).")] = None,
    port: Annotated[int | None, typer.Option(
        help="HTTPS port (default: kubernetes.operator.webhook.port or $WEBHOOK_SERVER_PORT, 9443).")] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Serve the admission webhook (/validate, /mutate) over HTTPS until interrupted."""
    from lightkube import ApiError

    from flink_operator.config import ConfigError
    from flink_operator.plugins._sources import PluginLoadError

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(_serve(config, kubeconfig, namespace, host, port))
    except (ApiError, ConfigError, PluginLoadError, OSError, ValueError, RuntimeError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo("flink-operator webhook stopped")


def register(app: typer.Typer) -> None:
    app.command("webhook")(webhook)
