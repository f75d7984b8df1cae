"""A scenario resolved into a run's config: schema defaults → the calibrated layer → the scenario file's own
values → overrides (docs/calibration.md, "How the estimates reach runs").

The schema and its validation are :mod:`market.config`; the layer file and its checks are :mod:`market.calibrated`.
This module joins them, so that neither of the two imports the other's caller (no import cycle).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from market.calibrated import apply_layer, fill_required, read_layer, wants_layer
from market.config import MAX_NESTING, ConfigError, MarketConfig, build_config, nesting_depth, scenario_source


def read_scenario(name_or_path: str | Path) -> tuple[dict[str, Any], bool]:
    """A scenario file as written (a shipped name or a path to a TOML file), its name filled in, and whether it
    takes the calibrated layer (:mod:`market.calibrated`; ``calibrated = false`` at its top keeps it out; the
    key is removed from the data).

    Raises:
        ConfigError: unknown scenario name, unreadable file, bad TOML, ``calibrated`` not a boolean.
    """
    text, name = scenario_source(name_or_path)
    if nesting_depth(text) > MAX_NESTING:
        raise ConfigError(f"scenario: {name_or_path}: values nested too deeply to be a scenario (more than "
                          f"{MAX_NESTING} levels of [ or {{); allowed: a TOML file with the schema's nesting")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"scenario: {name_or_path}: bad TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"scenario: {name_or_path}: values nested too deeply to be a scenario") from None
    data.setdefault("name", name)
    return data, wants_layer(data, f"scenario: {name_or_path}")


def load_scenario(name_or_path: str | Path, calibrated: bool | None = None) -> dict[str, Any]:
    """Parse a scenario (a shipped name or a path to a TOML file) into nested config data, with the calibrated
    layer (:mod:`market.calibrated`) under the file's own values.

    Args:
        name_or_path: a shipped scenario name or a path to a TOML file.
        calibrated: None: as the file says (the layer unless it sets ``calibrated = false``); False: never the
            layer (the calibration estimates on the schema defaults, not on its own previous estimates); True:
            the layer even under a file that opts out.

    A list element the file writes under the name of an element of the schema's default list takes the fields
    the schema requires and the file omits from the layers below (:func:`market.calibrated.fill_required`).

    Raises:
        ConfigError: unknown scenario name, unreadable file or bad TOML, or a bad layer file (naming the
            estimate's field, value and allowed range).
    """
    data, wanted = read_scenario(name_or_path)
    if calibrated if calibrated is not None else wanted:
        data = apply_layer(data, read_layer())[0]
    return fill_required(data)


def config_from(scenario: str | Path | None = None, overrides: dict[str, Any] | None = None,
                calibrated: bool | None = None) -> MarketConfig:
    """Scenario (with the calibrated layer under it, see :func:`load_scenario`; ``None``: the bare schema
    defaults) plus overrides, validated. Raises :class:`ConfigError`."""
    base = load_scenario(scenario, calibrated) if scenario else {}
    return build_config(base, overrides)


def layer_record(scenario: str | Path | None) -> dict[str, Any] | None:
    """What a run's manifest records of the layer under ``scenario`` (:meth:`Layer.manifest_record`), or None
    when no layer was applied (no scenario, or a file with ``calibrated = false``). The manifest's config holds
    the values themselves, so a run reproduces from it alone; this says where they came from.

    Raises:
        ConfigError: as :func:`read_scenario` and :func:`read_layer`.
    """
    if not scenario:
        return None
    data, wanted = read_scenario(scenario)
    if not wanted:
        return None
    layer = read_layer()
    return layer.manifest_record(sorted(apply_layer(data, layer)[1]))
