"""`flink-operator config ...`: check a configuration file, show the effective configuration, print the
configuration reference. Secret values are always shown as `******`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from flink_operator.config.docs import render_markdown
from flink_operator.config.errors import ConfigError
from flink_operator.config.loading import load_default_configuration
from flink_operator.config.redaction import redactor_for
from flink_operator.config.registry import load_declared_options

config_app = typer.Typer(help="Inspect and check the operator configuration.", no_args_is_help=True)

_PATH = typer.Option(
    "--config", "-c", help="Config file, or a directory holding config.yaml / flink-conf.yaml. "
    "Default: $FLINK_CONF_DIR (+ $CONF_OVERRIDE_DIR)."
)


@config_app.command("check")
def check(path: Annotated[Path | None, _PATH] = None) -> None:
    """Load the configuration (files + environment) and report every invalid value."""
    load_declared_options()
    try:
        loaded = load_default_configuration(path=path)
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    sources = ", ".join(loaded.sources) or "built-in defaults only"
    typer.echo(f"configuration OK ({len(loaded.values)} keys from {sources})")


@config_app.command("show")
def show(
    path: Annotated[Path | None, _PATH] = None,
    namespace: Annotated[str | None, typer.Option(help="Apply this namespace's defaults.")] = None,
    flink_version: Annotated[
        str | None, typer.Option("--flink-version", help="Apply the defaults of this version, e.g. v1_20.")
    ] = None,
    with_defaults: Annotated[
        bool, typer.Option("--with-defaults", help="Also list declared options left at their default.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Print the operator configuration as a resource in NAMESPACE with FLINK_VERSION would see it."""
    registry = load_declared_options()
    try:
        loaded = load_default_configuration(path=path)
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    values = loaded.for_resource(namespace, flink_version).as_dict()
    if with_defaults:
        for option in registry:
            text = option.default_text
            if not option.is_template and text is not None and not any(k in values for k in option.all_keys):
                values[option.key] = text
    redacted = redactor_for(loaded.values, registry).redact_config(dict(sorted(values.items())))
    if as_json:
        typer.echo(json.dumps(redacted, indent=2))
        return
    for key, value in redacted.items():
        typer.echo(f"{key}: {value}")


@config_app.command("docs")
def docs(
    write: Annotated[Path | None, typer.Option(help="Write the reference to this file.")] = None,
    check: Annotated[
        Path | None, typer.Option("--check", help="Exit 1 if this file differs from the generated reference.")
    ] = None,
) -> None:
    """Print (or write, or check) the Markdown configuration reference generated from the declared options."""
    text = render_markdown()
    if write is not None:
        write.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {write}", err=True)
        return
    if check is not None:
        current = check.read_text(encoding="utf-8") if check.exists() else ""
        if current != text:
            typer.echo(f"{check} is stale; run: flink-operator config docs --write {check}", err=True)
            raise typer.Exit(1)
        return
    typer.echo(text, nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
