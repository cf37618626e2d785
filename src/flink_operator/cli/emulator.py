"""`flink-operator emulator`: run only the Kubernetes API emulator in the foreground (local mode and tests).

The emulator package is imported inside the command, so the operator itself never depends on it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

_SERVICE_ADDRESS = re.compile(r"^([^/\s]+)/([^:\s]+):(\d+)=(\S+:\d+)$")


def _service_addresses(values: list[str]) -> dict[tuple[str, str, int], str]:
    addresses = {}
    for value in values:
        match = _SERVICE_ADDRESS.match(value)
        if not match:
            raise typer.BadParameter(
                f"{value!r}: expected NAMESPACE/SERVICE:PORT=HOST:PORT, "
                "e.g. flink/webhook:443=127.0.0.1:9443",
                param_hint="--service-address")
        namespace, name, port, address = match.groups()
        addresses[(namespace, name, int(port))] = address
    return addresses


def emulator(
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 0,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    state_dir: Annotated[Path | None, typer.Option(
        help="Keep the cluster's objects in this directory across restarts (default: in memory only)."
    )] = None,
    kubeconfig: Annotated[Path | None, typer.Option(
        help="Where to write a kubeconfig for the emulator (default: STATE_DIR/kubeconfig, or "
             "./kubeconfig without a state directory).")] = None,
    crd: Annotated[list[Path] | None, typer.Option(
        "--crd", help="Manifest file whose objects (e.g. CRDs) are created at start; repeatable.")] = None,
    service_address: Annotated[list[str] | None, typer.Option(
        help="Route admission webhook calls for a Service reference to a local address: "
             "NAMESPACE/SERVICE:PORT=HOST:PORT; repeatable.")] = None,
    history: Annotated[int, typer.Option(
        help="Changes kept for watch resumption; older resourceVersions answer 410 Gone.")] = 10_000,
    bookmark_interval: Annotated[float, typer.Option(help="Seconds between watch bookmarks.")] = 60.0,
    gc_delay: Annotated[float, typer.Option(help="Seconds garbage collection waits after a deletion.")] = 0.0,
    lifetime: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Run a Kubernetes API server emulator (no cluster needed) until interrupted."""
    import asyncio
    import contextlib
    import signal

    from kube_emulator import EmbeddedApiServer, EmulatorConfig, serve

    target = kubeconfig or ((state_dir / "kubeconfig") if state_dir else Path("kubeconfig"))
    for path in crd or []:
        if not path.is_file():
            raise typer.BadParameter(f"{path}: no such file", param_hint="--crd")
    config = EmulatorConfig(
        host=host, port=port, state_dir=state_dir, kubeconfig=target, crd_files=list(crd or []),
        history_size=history, bookmark_interval=bookmark_interval, gc_delay=gc_delay,
        service_addresses=_service_addresses(service_address or []), freeze_gc=True)

    def ready(server: EmbeddedApiServer) -> None:
        typer.echo(f"kube-emulator listening on {server.url}")
        typer.echo(f"kubeconfig: {target}")
        if state_dir:
            typer.echo(f"state directory: {state_dir}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        async def until() -> None:
            if lifetime is None:
                await stop.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), lifetime)

        waiter = until()
        try:
            await serve(config, waiter, ready)
        finally:
            # serve() never awaits it when the port cannot be bound; closing avoids a "never awaited" warning.
            waiter.close()

    try:
        asyncio.run(main())
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("kube-emulator stopped")


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)
