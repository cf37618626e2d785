"""Loading the operator's default configuration: config files, then environment variables, then checks.

Files (as upstream): `$FLINK_CONF_DIR/config.yaml`, or the legacy `$FLINK_CONF_DIR/flink-conf.yaml` when there
is no `config.yaml`; if `$CONF_OVERRIDE_DIR` is set, the file found there the same way is laid on top. An
explicit path replaces the `FLINK_CONF_DIR` lookup. Missing files are not an error (defaults apply).
* `config.yaml` is YAML; nested mappings are flattened with `.`, lists become `;`-separated text. Scalars are
  kept as written (`on` stays `on`, `010` stays `010`): Flink gives them meaning per option, not YAML.
* `flink-conf.yaml` is read as YAML when it is a YAML mapping, otherwise in Flink's legacy line format
  (`key: value` per line, `#` starts a comment).

Environment, on top of the files:
* `FLINK_OPERATOR_PROPERTIES`: several `key: value` lines (like the Flink images' `FLINK_PROPERTIES`), for
  any key, including scoped defaults;
* for every declared option, `FLINK_OPERATOR_<KEY>` where the key is upper-cased and every character other
  than a letter or digit becomes `_` (`kubernetes.operator.reconcile.interval` ->
  `FLINK_OPERATOR_KUBERNETES_OPERATOR_RECONCILE_INTERVAL`);
* upstream's own variables for the options that have one (`WATCH_NAMESPACES`); the `FLINK_OPERATOR_*`
  variable wins when both are set.

Every declared option present is parsed once at load time, so a bad value fails the load with all problems
listed (and a reload keeps the previous configuration).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flink_operator.config.errors import ConfigError
from flink_operator.config.flatten import scalar_text
from flink_operator.config.layering import DefaultConfiguration, parse_scoped_key, parse_version_token
from flink_operator.config.registry import DEFAULT_CONFIGURATION_PREFIX, OptionRegistry, all_options

CONFIG_FILE_NAME = "config.yaml"
LEGACY_CONFIG_FILE_NAME = "flink-conf.yaml"
PROPERTIES_ENV = "FLINK_OPERATOR_PROPERTIES"


def locate_config_files(
    environ: Mapping[str, str] | None = None, path: str | os.PathLike[str] | None = None
) -> list[Path]:
    """The config files to read, lowest precedence first. Only existing files are returned."""
    env = os.environ if environ is None else environ
    found: list[Path] = []
    if path is not None:
        explicit = Path(path)
        if explicit.is_dir():
            in_dir = _file_in_dir(explicit)
            if in_dir is not None:
                found.append(in_dir)
        elif explicit.exists():
            found.append(explicit)
        else:
            raise ConfigError(f"configuration file {str(explicit)!r} does not exist")
    elif env.get("FLINK_CONF_DIR"):
        in_dir = _file_in_dir(Path(env["FLINK_CONF_DIR"]))
        if in_dir is not None:
            found.append(in_dir)
    if env.get("CONF_OVERRIDE_DIR"):
        override = _file_in_dir(Path(env["CONF_OVERRIDE_DIR"]))
        if override is not None:
            found.append(override)
    return found


def candidate_paths(
    environ: Mapping[str, str] | None = None, path: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Every path whose appearance, disappearance or change can change the loaded files (for reload)."""
    env = os.environ if environ is None else environ
    dirs: list[Path] = []
    candidates: list[Path] = []
    if path is not None:
        explicit = Path(path)
        if explicit.is_dir():
            dirs.append(explicit)
        else:
            candidates.append(explicit)
    elif env.get("FLINK_CONF_DIR"):
        dirs.append(Path(env["FLINK_CONF_DIR"]))
    if env.get("CONF_OVERRIDE_DIR"):
        dirs.append(Path(env["CONF_OVERRIDE_DIR"]))
    for directory in dirs:
        candidates.extend((directory / CONFIG_FILE_NAME, directory / LEGACY_CONFIG_FILE_NAME))
    return candidates


def _file_in_dir(directory: Path) -> Path | None:
    for name in (CONFIG_FILE_NAME, LEGACY_CONFIG_FILE_NAME):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def parse_config_text(text: str, *, source: str = "<config>", legacy: bool = False) -> dict[str, str]:
    """Parse one config file's text into a flat `key -> text` map; bad text raises `ConfigError`."""
    try:
        document = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only str/list/dict
    except yaml.YAMLError as error:
        if legacy:
            return _parse_legacy_lines(text, source)
        raise ConfigError(f"{source}: not valid YAML: {_one_line(str(error))}") from error
    if document is None or document == "":
        return {}
    if not isinstance(document, dict):
        if legacy:
            return _parse_legacy_lines(text, source)
        raise ConfigError(f"{source}: expected a mapping of configuration keys to values at the top level")
    flat: dict[str, str] = {}
    _flatten_yaml(flat, "", document)
    return flat


def _flatten_yaml(flat: dict[str, str], prefix: str, node: Mapping[Any, Any]) -> None:
    for raw_key, value in node.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, dict):
            _flatten_yaml(flat, f"{key}.", value)
        else:
            flat[key] = scalar_text(value)


def _parse_legacy_lines(text: str, source: str) -> dict[str, str]:
    """Flink's legacy `flink-conf.yaml` format: `key: value` lines; `#` comments; blank lines ignored."""
    flat: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        key, separator, value = content.partition(": ")
        if not separator:
            if content.endswith(":"):
                key, value = content[:-1], ""
            else:
                problems.append(f"line {number}: expected 'key: value', got {content!r}")
                continue
        if not key.strip():
            problems.append(f"line {number}: no key before ':'")
            continue
        flat[key.strip()] = value.strip()
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return flat


def parse_config_files(texts: Mapping[str, str]) -> dict[str, str]:
    """Merge config file contents (path or file name -> text), lowest precedence first. A file named
    `flink-conf.yaml` may use the legacy line format."""
    merged: dict[str, str] = {}
    for name, text in texts.items():
        merged.update(parse_config_text(text, source=name, legacy=Path(name).name == LEGACY_CONFIG_FILE_NAME))
    return merged


def read_config_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from error
    return parse_config_files({str(path): text})


def environment_layer(
    environ: Mapping[str, str] | None = None, registry: OptionRegistry | None = None
) -> dict[str, str]:
    """The configuration set through environment variables (see the module docstring)."""
    env = os.environ if environ is None else environ
    layer: dict[str, str] = {}
    properties = env.get(PROPERTIES_ENV)
    if properties:
        layer.update(_parse_legacy_lines(properties, PROPERTIES_ENV))
    for option in all_options(registry):
        if option.is_template:
            continue
        if option.env_var_name and option.env_var_name in env:
            layer[option.key] = env[option.env_var_name]
        if option.env_var in env:
            layer[option.key] = env[option.env_var]
    return layer


def check_values(values: Mapping[str, str], registry: OptionRegistry | None = None) -> list[str]:
    """Problems with a flat configuration: unparsable values of declared options (also inside scoped
    defaults) and malformed scoped-default keys. Empty when all is well."""
    reg = all_options(registry)
    problems: list[str] = []
    for key, value in values.items():
        target = key
        if key.startswith(DEFAULT_CONFIGURATION_PREFIX):
            scoped = parse_scoped_key(key)
            if scoped is None:
                problems.append(
                    f"{key}: a scoped default must look like "
                    f"'{DEFAULT_CONFIGURATION_PREFIX}namespace.<ns>.<key>' "
                    f"or '{DEFAULT_CONFIGURATION_PREFIX}flink-version.<vX_Y>[+].<key>'"
                )
                continue
            if scoped.kind == "flink-version" and parse_version_token(scoped.scope) is None:
                problems.append(
                    f"{key}: {scoped.scope!r} is not a Flink version (expected e.g. 'v1_20' or 'v1_19+')"
                )
                continue
            target = scoped.key
        option = reg.find(target)
        if option is None:
            continue
        try:
            option.parse(value, key=key)
        except ConfigError as error:
            problems.append(str(error))
    return problems


@dataclass(frozen=True)
class LoadedFiles:
    """The merged content of the config files, and which files it came from."""

    values: dict[str, str]
    paths: tuple[Path, ...]


def read_config_files(paths: list[Path]) -> LoadedFiles:
    merged: dict[str, str] = {}
    for path in paths:
        merged.update(read_config_file(path))
    return LoadedFiles(merged, tuple(paths))


def load_default_configuration(
    environ: Mapping[str, str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    registry: OptionRegistry | None = None,
    generation: int = 0,
) -> DefaultConfiguration:
    """Files + environment, checked. Raises `ConfigError` listing every problem found."""
    files = read_config_files(locate_config_files(environ, path))
    return build_default_configuration(
        files.values, tuple(str(p) for p in files.paths), environ, registry=registry, generation=generation
    )


def build_default_configuration(
    file_values: Mapping[str, str],
    sources: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
    *,
    registry: OptionRegistry | None = None,
    generation: int = 0,
) -> DefaultConfiguration:
    """Lay the environment over already-parsed file content and check the result."""
    env_values = environment_layer(environ, registry)
    values = {**file_values, **env_values}
    problems = check_values(values, registry)
    if problems:
        where = ", ".join(sources) if sources else "configuration"
        raise ConfigError(f"invalid operator configuration ({where}): " + "; ".join(problems))
    if env_values:
        sources = (*sources, "environment")
    return DefaultConfiguration(values=values, generation=generation, sources=sources)


def _one_line(text: str) -> str:
    return " ".join(text.split())
