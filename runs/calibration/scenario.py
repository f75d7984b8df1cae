"""The calibrated scenario: a TOML file that sets the estimated values, each with its source.

It holds the base scenario's sections plus those of the estimated parameters, written out in full from the
validated config, so that it runs as it stands (``tokenmarket run --scenario calibrated.toml``). An estimated
value carries an end-of-line comment ``estimated by tokenmarket calibrate against <targets file> (fit: …)``, the
source kind ``estimated`` of :mod:`market.provenance`; a value the base scenario set away from the schema default
carries the base scenario's own comment; every other value equals the default and keeps the default's source.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from market.config import ConfigError, build_config, scenario_source
from market.provenance import ESTIMATED_PREFIX, comment_for, scenario_comments

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} cannot be written in TOML by this writer")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + "}"
    raise ValueError(f"{v!r}: no TOML form")


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _note(path: str, comments: dict[str, str]) -> str:
    """The comment of a line: its own, or (an inline table) the comments of the fields inside it."""
    if path in comments:
        return comments[path]
    inside = [c for p, c in comments.items() if p.startswith(path + ".")]
    return " | ".join(dict.fromkeys(inside))


def _emit(lines: list[str], prefix: str, data: dict[str, Any], comments: dict[str, str], header: str,
          in_array: bool) -> None:
    lines.extend(["", header])
    subtables = []
    for k, v in data.items():
        path = f"{prefix}{k}"
        if v is None:
            continue  # TOML has no null: an absent key keeps the schema default (None)
        if _is_table_list(v) or (isinstance(v, dict) and not in_array and not _inline_only(v)):
            subtables.append((k, v))
        else:
            note = _note(path, comments)
            lines.append(f"{_key(k)} = {_value(v)}" + (f"  # {note}" if note else ""))
    for k, v in subtables:
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            _emit(lines, f"{name}.", v, comments, f"[{_dotted(name)}]", in_array)
        else:
            for i, item in enumerate(v):
                _emit(lines, f"{name}.{i}.", item, comments, f"[[{_dotted(name)}]]", True)


def _dotted(path: str) -> str:
    """A table header's name: the path without list indices (``customers.segments``)."""
    return ".".join(_key(p) for p in path.split(".") if not p.isdigit())


def _inline_only(d: dict[str, Any]) -> bool:
    """A mapping of plain keys (a vertical mix, wrappers per vertical) reads best inline; a section of fields
    (world, customers) as a table."""
    return all(not isinstance(v, (dict, list)) for v in d.values()) and len(d) <= 8


def _base_comments(scenario: str | None, base: dict[str, Any], paths: list[str]) -> dict[str, str]:
    """The base scenario's comments for the values it sets away from the schema default (by dotted path)."""
    if not scenario:
        return {}
    try:
        comments = scenario_comments(scenario_source(scenario)[0])
    except ConfigError:
        return {}
    out = {}
    for p in paths:
        found = comment_for(p, comments)
        if found is not None:
            out[p] = found[1].replace("\n", " ")
    return out


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _leaves(v, f"{prefix}{k}.")]
    if _is_table_list(data):
        return [x for i, v in enumerate(data) for x in _leaves(v, f"{prefix}{i}.")]
    return [(prefix[:-1], data)]


def estimated_source(targets_path: str, fit: str) -> str:
    """The source text of an estimated value: ``estimated by tokenmarket calibrate against <file> (fit: …)``;
    parentheses inside ``fit`` become brackets so the text stays one source."""
    return f"{ESTIMATED_PREFIX}{targets_path} (fit: {fit.replace('(', '[').replace(')', ']')})"


def scenario_text(name: str, description: str, base: dict[str, Any], scenario: str | None,
                  scenario_data: dict[str, Any], values: dict[str, Any], sources: dict[str, str],
                  set_paths: list[str] | tuple[str, ...] = ()) -> str:
    """The calibrated scenario's TOML text.

    Args:
        name, description: the new scenario's name and description.
        base: the dumped base config (scenario + overrides; the population size of the calibration removed).
        scenario, scenario_data: the base scenario as given (name or path) and its parsed data (for the sections
            it sets and its comments).
        values: estimated values by dotted path.
        sources: the comment of each estimated path (:func:`estimated_source`).
        set_paths: dotted paths fixed with ``--set`` when calibrating (their sections are written too, each value
            with a comment saying so).

    Raises:
        market.config.ConfigError: the estimated values do not validate against the base (should not happen:
            the prior ranges were checked).
    """
    config = build_config(base, values).model_dump(mode="json")
    wanted = {k for k in scenario_data} | {p.split(".")[0] for p in [*values, *set_paths]}
    tops = [k for k in config if k in wanted and k not in ("name", "description")]
    defaults = dict(_leaves(build_config({}).model_dump(mode="json")))
    section_leaves = [p for p, v in _leaves({k: config[k] for k in tops}) if defaults.get(p, object()) != v]
    comments = {**_base_comments(scenario, base, section_leaves),
                **{p.replace("__", "."): "fixed with --set when calibrating" for p in set_paths}, **sources}
    lines = ["# Written by tokenmarket calibrate: estimated values carry their source at the end of their line;",
             "# every other value is the base scenario's (with its comment) or the schema default (with its source).",
             f"name = {_value(name)}", f"description = {_value(description)}",
             "# The values below stand on the schema defaults, as the calibration estimated them: not on the",
             "# calibrated layer (market/data/calibrated.toml), whose estimates may be another calibration's.",
             "calibrated = false"]
    tables = []
    for top in tops:
        v = config[top]
        if isinstance(v, dict) or _is_table_list(v):
            tables.append(top)
        elif v is not None:
            note = _note(top, comments)
            lines.append(f"{_key(top)} = {_value(v)}" + (f"  # {note}" if note else ""))
    for top in tables:
        v = config[top]
        if isinstance(v, dict):
            _emit(lines, f"{top}.", v, comments, f"[{_key(top)}]", False)
        else:
            for i, item in enumerate(v):
                _emit(lines, f"{top}.{i}.", item, comments, f"[[{_key(top)}]]", True)
    return "\n".join(lines) + "\n"
