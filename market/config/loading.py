"""Loading a configuration: shipped scenario files (package data, ``market/scenarios/*.toml``) and paths to TOML
files, overrides given as text (``--set``, ``--grid``) or typed values (keyword arguments), validation against
the strict schema, and one-line error messages naming the field, the value and what is allowed.
"""

from __future__ import annotations

import reprlib
import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from market.config.schema import ConfigError, MarketConfig
from market.config.walk import Slot, resolve, split_key


# ----------------------------------------------------------------------------------------------- values

def parse_value(text: str, slot: Slot) -> Any:
    """The one parser of a value written as text (``--set``, ``--grid``): by the type of the field it is for.

    Text and choice fields take the text as written (a TOML-quoted string gives its content, so ``"123"`` is
    text); booleans take ``true``/``false`` only; numbers, lists and tables are TOML values (``3``, ``2.5``,
    ``1e9``, ``nan``, ``[0.1, 0.5]``, ``{coding = 3}``). Anything else is passed on as the text, for the schema
    to refuse with the field's rule.

    Raises:
        ConfigError: a boolean field given anything but true/false, an integer field given a non-integer, a
            number field given a non-number (naming the key, the text and what is allowed).
    """
    text = text.strip()
    if slot.kind in ("str", "choice"):
        if text[:1] in ("'", '"'):
            value = _toml_value(text)
            if isinstance(value, str):
                return value
        return text
    value = _toml_value(text)
    if value is _NOT_TOML:
        value = text
    if slot.kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{slot.path}: expected a boolean (true or false), got {text!r}")
    if slot.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{slot.path}: expected an integer, got {text!r}" + _allowed(slot))
    if slot.kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{slot.path}: expected a number, got {text!r}" + _allowed(slot))
    return value


def _allowed(slot: Slot) -> str:
    rng = slot.range_text()
    return f" (allowed: {rng})" if rng else ""


_NOT_TOML = object()


MAX_NESTING = 64  # the schema nests a few levels; this keeps tomllib far from the interpreter's recursion limit


def _nesting(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in TOML text, outside strings and comments (a cheap pre-check, so that a
    deeply nested file is refused before the parser recurses toward the interpreter's limit)."""
    depth = deepest = 0
    quote: str | None = None
    comment = escaped = False
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _toml_value(text: str) -> Any:
    """``text`` read as one TOML value, or ``_NOT_TOML`` (not TOML, or more than one value, e.g. ``1\\nx = 2``)."""
    if _nesting(text) > MAX_NESTING:
        return _NOT_TOML
    try:
        parsed = tomllib.loads(f"v = {text}")
    except (tomllib.TOMLDecodeError, RecursionError):
        return _NOT_TOML
    return parsed["v"] if list(parsed) == ["v"] else _NOT_TOML


def parse_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides with dotted keys (``__`` read as ``.``) and text values parsed for their fields
    (:func:`parse_value`); values that are not text are kept as given.

    Raises:
        ConfigError: a bad key (:func:`resolve`) or value (:func:`parse_value`).
    """
    out = {}
    for raw_key, raw in overrides.items():
        parts = split_key(str(raw_key))
        slot = resolve(parts)
        out[".".join(parts)] = parse_value(raw, slot) if isinstance(raw, str) else raw
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of nested config ``data`` with dotted-path ``overrides`` set (see :func:`parse_overrides`).

    Raises:
        ConfigError: the path names no field (unknown key, list index out of range, a step into a value).
    """
    import copy

    out = copy.deepcopy(data)
    for key, value in parse_overrides(overrides).items():
        parts = key.split(".")
        node: Any = out
        for i, part in enumerate(parts):
            where, last = ".".join(parts[: i + 1]), i == len(parts) - 1
            if isinstance(node, list):
                if int(part) >= len(node):
                    raise ConfigError(f"{where}: no such list element (have {len(node)})")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    if node.get(part) is None:
                        node[part] = {}
                    elif not isinstance(node[part], (dict, list)):
                        raise ConfigError(f"{where}: set to {_shown(node[part])} by another override; a group "
                                          f"of fields cannot also take {key}")
                    node = node[part]
            else:
                raise ConfigError(f"{where}: {'.'.join(parts[:i])} holds {node!r}, not a group of fields")
    return out


# ----------------------------------------------------------------------------------------------- errors

_SHORT = reprlib.Repr(maxlevel=2, maxlist=6, maxtuple=6, maxdict=4, maxstring=60, maxother=60)


def _shown(value: Any) -> str:
    """A short, safe repr of a value (deep or huge inputs never blow up the message)."""
    if isinstance(value, dict):
        return "{…}"
    try:
        return _SHORT.repr(value)
    except RecursionError:
        return "…"


def format_error(err: ValidationError, root: type[BaseModel] | None = None) -> str:
    """One line naming, for each problem, the field's path, what is wrong, what is allowed and the value.

    Only the most specific problem of a path is kept (an element's type, not its list's length afterwards).
    """
    errors = err.errors()
    locs = [tuple(e["loc"]) for e in errors]
    lines = []
    for e, loc in zip(errors, locs):
        if any(other != loc and other[: len(loc)] == loc for other in locs):
            continue
        path = ".".join("'' (empty key)" if p == "" else str(p) for p in loc)
        msg = e["msg"]
        if e["type"] == "value_error":
            # Our validators name the field (relative to their section), the value and what is allowed.
            msg = msg.removeprefix("Value error, ")
            lines.append(f"{path}.{msg}" if path else msg)
            continue
        allowed = ""
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
            try:
                parent = resolve([str(p) for p in loc[:-1]], root) if loc[:-1] else None
                fields = (parent.annotation if parent else (root or MarketConfig)).model_fields
                allowed = f"; allowed: {', '.join(fields)}"
            except (ConfigError, AttributeError):
                pass
        else:
            if e["type"] in ("model_type", "dict_type", "model_attributes_type"):
                msg = "expected a group of fields (a TOML table)"
            try:
                rng = resolve([str(p) for p in loc], root).range_text()
            except ConfigError:
                rng = None
            allowed = f" (allowed: {rng})" if rng else ""
        lines.append(f"{path or '<root>'}: {msg}{allowed}; got {_shown(e.get('input'))}")
    return "; ".join(lines)


def build_config(base: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None) -> MarketConfig:
    """Validate nested ``base`` (e.g. a parsed scenario) with ``overrides`` applied.

    Raises:
        ConfigError: naming every bad field with its value and allowed range.
    """
    try:
        config = MarketConfig.model_validate(base or {})
        if not overrides:
            return config
        # Overrides apply to the full (defaults filled in) config, so list paths such as labs.0.skill exist.
        return MarketConfig.model_validate(apply_overrides(config.model_dump(mode="json"), overrides))
    except ValidationError as err:
        raise ConfigError(format_error(err)) from None


MAX_SCENARIO_BYTES = 1 << 20  # the shipped scenarios are a few kB


def shipped_scenarios() -> dict[str, Traversable]:
    """Shipped scenario files by name: the package data ``market/scenarios/*.toml``, read through
    :mod:`importlib.resources` so that an installed wheel finds them as a source checkout does."""
    folder = resources.files("market") / "scenarios"
    found = {p.name.removesuffix(".toml"): p for p in folder.iterdir() if p.name.endswith(".toml")}
    return dict(sorted(found.items()))


def list_scenarios() -> dict[str, str]:
    """Shipped scenarios: name → first line of their description."""
    out = {}
    for name, path in shipped_scenarios().items():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[name] = str(data.get("description", "")).strip().splitlines()[0] if data.get("description") else ""
    return out


def scenario_source(name_or_path: str | Path) -> tuple[str, str]:
    """(TOML text, scenario name) of a shipped scenario name or a path to a TOML file; the name is the file's stem.

    Raises:
        ConfigError: unknown scenario name, missing or unreadable file, not UTF-8.
    """
    if not str(name_or_path).strip():
        raise ConfigError("scenario: empty name; allowed: a shipped scenario name or a path to a TOML file")
    path = Path(name_or_path)
    shipped = shipped_scenarios()
    source: Path | Traversable = path
    if not path.suffix and not path.exists():
        if str(name_or_path) not in shipped:
            names = ", ".join(shipped) or "none"
            raise ConfigError(f"scenario: unknown scenario {str(name_or_path)!r}; shipped: {names} "
                              f"(or a path to a TOML file)")
        source = shipped[str(name_or_path)]
    try:
        if isinstance(source, Path) and source.exists():
            # Devices and pipes (/dev/zero) never end; a huge file is not a scenario.
            if not source.is_file() and not source.is_dir():
                raise ConfigError(f"scenario: {str(path)!r} is not a regular file (a device, pipe or socket); "
                                  f"allowed: a TOML file")
            if source.is_file() and source.stat().st_size > MAX_SCENARIO_BYTES:
                raise ConfigError(f"scenario: {str(path)!r} is {source.stat().st_size / 2**20:.1f} MB; allowed: "
                                  f"≤ {MAX_SCENARIO_BYTES >> 20} MB")
        return source.read_text(encoding="utf-8"), path.stem
    except FileNotFoundError:
        raise ConfigError(f"scenario: file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"scenario: {str(path)!r} is a folder, not a TOML file") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"scenario: {str(path)!r} is not UTF-8 text (byte {err.start}): TOML files must be UTF-8") from None
    except OSError as err:
        raise ConfigError(f"scenario: cannot read {str(path)!r} ({err.strerror})") from None


def load_scenario(name_or_path: str | Path) -> dict[str, Any]:
    """Parse a scenario (a shipped name or a path to a TOML file) into nested config data.

    Raises:
        ConfigError: unknown scenario name, unreadable file or bad TOML.
    """
    text, name = scenario_source(name_or_path)
    if _nesting(text) > MAX_NESTING:
        raise ConfigError(f"scenario: {name_or_path}: values nested too deeply to be a scenario (more than "
                          f"{MAX_NESTING} levels of [ or {{); allowed: a TOML file with the schema's nesting")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"scenario: {name_or_path}: bad TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"scenario: {name_or_path}: values nested too deeply to be a scenario") from None
    data.setdefault("name", name)
    return data


def config_from(scenario: str | Path | None = None, overrides: dict[str, Any] | None = None) -> MarketConfig:
    """Scenario (or the schema defaults) plus overrides, validated. Raises :class:`ConfigError`."""
    base = load_scenario(scenario) if scenario else {}
    return build_config(base, overrides)
