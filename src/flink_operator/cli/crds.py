"""`flink-operator crds`: print the CRD manifests, or write one file per CRD."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flink_operator.api.crds import render_crds, write_crds


def crds(
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", help="Write one file per CRD into this directory instead of printing."),
    ] = None,
) -> None:
    """Print the CustomResourceDefinitions of FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot."""
    if output_dir is None:
        typer.echo(render_crds(), nl=False)
        return
    for path in write_crds(output_dir):
        typer.echo(f"wrote {path}", err=True)


def register(app: typer.Typer) -> None:
    app.command("crds")(crds)
