"""`flink-operator validate FILE_OR_DIR...`: check resource files offline, with the default validator and the
plugin validators, loaded as the operator loads them.

Output: one line per problem on stdout, `FILE:LINE: KIND NAMESPACE/NAME: FIELD: MESSAGE`; notes (skipped
documents, related resources not among the files) on stderr. Exit status: 0 when there is no problem, 1 when
there is one, 2 for usage errors (missing files, an unreadable configuration, plugins that fail to load).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flink_operator.api import FlinkDeployment, FlinkResource, FlinkSessionJob
from flink_operator.config import (
    ConfigError,
    Configuration,
    load_declared_options,
    load_default_configuration,
)
from flink_operator.validation import ValidationContext, offline_resolver, system_resolver
from flink_operator.validation.offline import Finding, OfflineValidation, PluginCheck
from flink_operator.validation.pod_template import supported_kubernetes_versions
from flink_operator.validation.sources import read_file, yaml_files

if TYPE_CHECKING:
    from flink_operator.plugins._host import PluginHost

USAGE_ERROR = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(USAGE_ERROR)


def _load_plugins(configuration: Configuration) -> PluginHost:
    # Imported here: plugins are only loaded (and only paid for) when they are wanted.
    from flink_operator.plugins._host import PluginHost
    from flink_operator.plugins._sources import PluginLoadError

    try:
        return PluginHost.load(configuration)
    except PluginLoadError as error:
        raise _fail(f"plugins could not be loaded: {error}") from error


def _plugin_check(host: PluginHost) -> PluginCheck:
    async def check(
        resource: FlinkResource, related: FlinkDeployment | FlinkSessionJob | None
    ) -> Sequence[tuple[str, str]]:
        report = await host.validators.validate(resource, related)
        return [(message.validator, message.message) for message in report.messages]

    return check


async def _run(checker: OfflineValidation, host: PluginHost | None) -> list[Finding]:
    if host is None:
        return await checker.validate()
    try:
        return await checker.validate(_plugin_check(host))
    finally:
        await host.aclose()


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE_OR_DIR",
            help="YAML files (multi-document) or directories, searched recursively for *.yaml and *.yml.",
            show_default=False,
        ),
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Report documents that are not Flink resources as problems.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Operator configuration file (default: config.yaml in $FLINK_CONF_DIR); environment "
            "variables apply on top, as for the operator.",
        ),
    ] = None,
    plugins: Annotated[
        bool,
        typer.Option(
            "--plugins/--no-plugins", help="Also run the installed and configured plugin validators."
        ),
    ] = True,
    resolve_hosts: Annotated[
        bool,
        typer.Option(
            "--resolve-hosts",
            help="Resolve the hosts of session-job jar URIs to check for restricted addresses (needs DNS); "
            "without it only IP addresses and localhost are checked.",
        ),
    ] = False,
    kubernetes_version: Annotated[
        str | None,
        typer.Option(
            "--kubernetes-version", help="Check pod templates against this Kubernetes version's Pod schema."
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print problems only: no notes, no summary.")
    ] = False,
) -> None:
    """Validate FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot files offline."""
    files, unusable = yaml_files(paths)
    if unusable:
        for message in unusable:
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(USAGE_ERROR)
    version = kubernetes_version.lstrip("v") if kubernetes_version else None
    if version is not None and version not in supported_kubernetes_versions():
        raise _fail(
            f"--kubernetes-version {kubernetes_version!r}: no Pod schema for it; available: "
            f"{', '.join(supported_kubernetes_versions())}"
        )
    load_declared_options()
    try:
        defaults = load_default_configuration(path=config)
    except ConfigError as error:
        raise _fail(str(error)) from error
    host = _load_plugins(defaults.configuration) if plugins else None

    context = ValidationContext(
        defaults,
        resolve_host=system_resolver if resolve_hosts else offline_resolver,
        kubernetes_version=version,
    )
    checker = OfflineValidation(context, strict=strict)
    for file in files:
        documents, errors = read_file(file, str(file))
        checker.add_errors(errors)
        checker.add_documents(documents)
    findings = asyncio.run(_run(checker, host))

    problems = 0
    for finding in findings:
        if finding.severity == "problem":
            problems += 1
            typer.echo(str(finding))
        elif not quiet:
            typer.echo(str(finding), err=True)
    if not quiet:
        outcome = f"{problems} problem{'s' if problems != 1 else ''}" if problems else "no problems"
        typer.echo(
            f"{checker.checked} Flink resource{'s' if checker.checked != 1 else ''} in {len(files)} "
            f"file{'s' if len(files) != 1 else ''}: {outcome}",
            err=True,
        )
    raise typer.Exit(1 if problems else 0)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
