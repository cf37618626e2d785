"""The `flink-operator` command: one Typer application; each subcommand lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="flink-operator",
    help="A Kubernetes operator for Apache Flink.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """A Kubernetes operator for Apache Flink."""


from flink_operator.cli import crds as _crds  # noqa: E402

_crds.register(app)

from flink_operator.cli import config_cmd as _config_cmd  # noqa: E402

_config_cmd.register(app)

from flink_operator.cli import emulator as _emulator  # noqa: E402

_emulator.register(app)

from flink_operator.cli import validate as _validate  # noqa: E402

_validate.register(app)

from flink_operator.cli import run as _run  # noqa: E402

_run.register(app)

from flink_operator.cli import webhook as _webhook  # noqa: E402

_webhook.register(app)

from flink_operator.cli import local as _local  # noqa: E402

_local.register(app)


def main() -> None:
    app()
