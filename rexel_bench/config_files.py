"""Reading config files (YAML or TOML) that may inherit from others.

A config names the files it builds on with ``include:`` (one path or a list, relative to the including file),
as lm-evaluation-harness task configs do: the included settings are read first, in order, and the including
file's own settings win; nested mappings (``loss_weights``, ``model_options``) merge key by key, lists are
replaced whole. A config therefore states only how it differs from its base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rexel_bench.errors import ConfigError

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

INCLUDE_KEY = "include"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The settings of ``path`` with its ``include:`` chain resolved (the file's own settings win)."""
    return _read_with_includes(Path(path), ())


def _read_with_includes(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(f"include cycle: {cycle}", file=str(path))
    values = _read_mapping(path)
    includes = values.pop(INCLUDE_KEY, None)
    if includes is None:
        return values
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) and i for i in includes):
        raise ConfigError(f"{INCLUDE_KEY}: expected a path or a list of paths, found {includes!r}", file=str(path))
    merged: dict[str, Any] = {}
    for include in includes:
        base = path.parent / include
        if not base.is_file():
            raise ConfigError(f"{INCLUDE_KEY}: {include!r} not found (looked at {base})", file=str(path))
        merged = merge_settings(merged, _read_with_includes(base, (*chain, resolved)))
    return merge_settings(merged, values)


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        values = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (OSError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the config: {exc}", file=str(path)) from exc
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of settings, found {type(values).__name__}", file=str(path))
    return values


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_settings(merged[key], value)
        else:
            merged[key] = value
    return merged
