"""The calibrated layer: the estimates of the last applied calibration, laid under every scenario file.

A scenario's config is resolved in four layers, each overriding the one before:

1. the schema defaults (``market/config.py``: hand-set, each with its source);
2. **this layer**: the values ``tokenmarket calibrate`` estimated against dated public paths, read from one
   package-data file, ``market/data/calibrated.toml`` (written only by ``tokenmarket calibrate --apply DIR``);
3. the scenario file's own values (its conditions);
4. ``--set`` overrides.

A scenario file opts out with ``calibrated = false`` at its top: it then stands on the schema defaults alone.
With no scenario at all (:func:`market.scenario.config_from` given ``None``, :func:`market.config.build_config`)
there is no layer either: those are the bare schema.

The file holds one ``[calibration]`` table, the record of the calibration that produced the estimates (its
targets file, objective J, trial, fit, population, date and code commit), and one ``[[estimate]]`` table per
value: its dotted config path, the value, the hand-set default it replaces, its bootstrap band and prior. Each
value's source (kind ``estimated`` of :mod:`market.provenance`) is built from the record, so it is written once.

An estimate of a list element's field (``customers.segments.0.usage_median_mtok``) names the element
(``item = "consumer"``): under a scenario that writes its own list, it fills that field of the element of the
same name, unless the file sets the field itself; an element of another name gets nothing from the layer.

A field the schema requires of a list element (a segment's willingness to pay, token need, price scale,
switching cost) has no default of its own: its hand-set values live in the schema's default list. So an element
a file writes under the name of a default element, without such a field, takes it from the layers below — the
layer's estimate, else the default element's value (:func:`fill_required`). Before the layer existed that was
an error ("Field required"), so no configuration that loaded before changes; it lets a file restate a segment
to change one field (``switching_costs_high``) and still stand on the estimates, or on the hand-set values with
the layer off.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from market.config import ConfigError, build_config, resolve

LAYER_NAME = "market/data/calibrated.toml"  # how manifests and messages name the shipped layer
OPT_OUT_KEY = "calibrated"  # top-level key of a scenario file: false keeps the layer out
_RECORD_FIELDS = {"folder": str, "targets": str, "parameters": str, "objective": float, "trial": int,
                  "trials": int, "within": int, "n_targets": int, "seeds": int, "customers": int, "rounds": int,
                  "date": str, "commit": str}
_RECORD_OPTIONAL = {"folder", "parameters", "rounds"}
_ESTIMATE_FIELDS = {"path", "value", "item", "default", "p05", "p95", "prior", "scale"}
_SCALES = ("linear", "log")

# Where the layer is read from. Tests point it at a file of their own; everything else reads the package's.
layer_path: Path | None = None


@dataclass(frozen=True)
class CalibrationRecord:
    """The calibration that produced the layer's estimates.

    Attributes:
        targets: the targets file it fitted (e.g. ``runs/calibration/targets.toml``).
        objective: J at the best trial (dimensionless: weighted squared errors in tolerance units).
        trial, trials: the best trial's number and the trials run.
        within, n_targets: targets within tolerance at the best trial, and targets fitted.
        seeds, customers: seeds per trial and simulated customers per run (the reduced population).
        date: day the calibration finished (``YYYY-MM-DD``, UTC).
        commit: git commit of the code it ran on.
        folder, parameters, rounds: the calibration folder, the parameters file, months per run ("" / 0 unknown).
    """

    targets: str
    objective: float
    trial: int
    trials: int
    within: int
    n_targets: int
    seeds: int
    customers: int
    date: str
    commit: str
    folder: str = ""
    parameters: str = ""
    rounds: int = 0


@dataclass(frozen=True)
class Estimate:
    """One estimated value.

    Attributes:
        path: dotted config path (``world.usage_growth_per_year``, ``customers.segments.0.price_scale_usd``).
        value: the estimate, in the field's unit.
        item: name of the list element a list path points into (``consumer``), else None.
        default: the schema's hand-set value it replaces (None: not recorded).
        p05, p95: 5th and 95th percentiles over the calibration's bootstrap draws (None: not recorded).
        prior: (low, high) of the search range; scale: ``linear`` or ``log``.
    """

    path: str
    value: float
    item: str | None = None
    default: float | None = None
    p05: float | None = None
    p95: float | None = None
    prior: tuple[float, float] | None = None
    scale: str = "linear"


@dataclass(frozen=True)
class Layer:
    """The calibrated layer as read and validated.

    Attributes:
        file: where it was read (:data:`LAYER_NAME` for the package's own).
        sha256: hex digest of the file's bytes (manifests record it).
        record: the calibration that produced it.
        estimates: the values, in file order.
    """

    file: str
    sha256: str
    record: CalibrationRecord
    estimates: tuple[Estimate, ...]

    def source(self, estimate: Estimate) -> str:
        """The source text of ``estimate`` (kind ``estimated`` of :mod:`market.provenance`): the fit of the
        calibration, the estimate's bootstrap band and prior, the date and commit."""
        r = self.record
        parts = [f"J = {r.objective:.4g} at trial {r.trial} of {r.trials}, {r.within} of {r.n_targets} targets "
                 f"within tolerance, {r.seeds} seeds × {r.customers} customers"]
        if estimate.p05 is not None and estimate.p95 is not None:
            parts.append(f"draws 5-95 %: {estimate.p05:.4g} to {estimate.p95:.4g}")
        if estimate.prior is not None:
            parts.append(f"prior {estimate.prior[0]:g} to {estimate.prior[1]:g}, {estimate.scale}")
        parts.append(f"calibrated {r.date} on commit {r.commit[:7]}")
        return f"estimated by tokenmarket calibrate against {r.targets} (fit: {'; '.join(parts)})"

    def values(self) -> dict[str, float]:
        """{path: value} of every estimate (list paths with the calibration's index)."""
        return {e.path: e.value for e in self.estimates}

    def manifest_record(self, applied: list[str] | tuple[str, ...]) -> dict[str, Any]:
        """What a run's manifest records of the layer: file, hash, calibration and the paths it set."""
        return {"file": self.file, "sha256": self.sha256, "calibration_date": self.record.date,
                "calibration_commit": self.record.commit, "objective": self.record.objective,
                "applied": list(applied)}


# ------------------------------------------------------------------------------------------ reading

def _where(file: str, what: str) -> str:
    return f"calibrated layer {file}: {what}"


def _number(value: Any, file: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(_where(file, f"{what}: expected a finite number, got {value!r}"))
    return float(value)


def _record(data: Any, file: str) -> CalibrationRecord:
    if not isinstance(data, dict):
        raise ConfigError(_where(file, "[calibration]: missing; it records the calibration the estimates come "
                                       "from (targets, objective, trial, trials, within, n_targets, seeds, "
                                       "customers, date, commit)"))
    unknown = sorted(set(data) - set(_RECORD_FIELDS))
    if unknown:
        raise ConfigError(_where(file, f"calibration.{unknown[0]}: unknown field; allowed: "
                                       f"{', '.join(_RECORD_FIELDS)}"))
    out: dict[str, Any] = {}
    for name, kind in _RECORD_FIELDS.items():
        if name not in data:
            if name in _RECORD_OPTIONAL:
                continue
            raise ConfigError(_where(file, f"calibration.{name}: missing (required)"))
        v = data[name]
        if kind is float:
            out[name] = _number(v, file, f"calibration.{name}")
        elif kind is int:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(_where(file, f"calibration.{name}: expected an integer ≥ 0, got {v!r}"))
            out[name] = v
        else:
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(_where(file, f"calibration.{name}: expected non-empty text, got {v!r}"))
            out[name] = v.strip()
    if any(c in out["targets"] for c in " ()"):
        raise ConfigError(_where(file, f"calibration.targets: {out['targets']!r}; allowed: a file path without "
                                       f"spaces or parentheses (it is quoted in every estimate's source)"))
    return CalibrationRecord(**out)


def _list_default(path: list[str]) -> tuple[list[Any], str] | None:
    """(the schema's default list, its field) when ``path`` is ``section.list.i.field``, else None."""
    if len(path) != 4 or not path[2].isdigit():
        return None
    section = build_config({}).model_dump(mode="json").get(path[0])
    items = section.get(path[1]) if isinstance(section, dict) else None
    return (items, path[3]) if isinstance(items, list) else None


def _estimate(i: int, data: Any, file: str) -> Estimate:
    if not isinstance(data, dict):
        raise ConfigError(_where(file, f"estimate {i + 1}: expected a table, got {data!r}"))
    path = data.get("path")
    what = f"estimate {i + 1}" + (f" ({path})" if isinstance(path, str) else "")
    unknown = sorted(set(data) - _ESTIMATE_FIELDS)
    if unknown:
        raise ConfigError(_where(file, f"{what}: {unknown[0]}: unknown field; allowed: "
                                       f"{', '.join(sorted(_ESTIMATE_FIELDS))}"))
    for req in ("path", "value"):
        if req not in data:
            raise ConfigError(_where(file, f"{what}: {req}: missing (required)"))
    if not isinstance(path, str):
        raise ConfigError(_where(file, f"{what}: path: expected a dotted config path, got {path!r}"))
    try:
        slot = resolve(path)
    except ConfigError as err:
        raise ConfigError(_where(file, f"{what}: path: {err}")) from None
    if slot.kind not in ("float", "int"):
        raise ConfigError(_where(file, f"{what}: path: a {slot.kind} field; allowed: numeric fields"))
    parts = path.split(".")
    listed = _list_default(parts)
    item = data.get("item")
    if listed is None:
        if len(parts) != 2:
            raise ConfigError(_where(file, f"{what}: path: allowed: section.field or section.list.i.field"))
        if item is not None:
            raise ConfigError(_where(file, f"{what}: item: {item!r} given for a path that is not a list element's"))
    else:
        items, _ = listed
        index = int(parts[2])
        if index >= len(items) or not isinstance(items[index], dict) or "name" not in items[index]:
            raise ConfigError(_where(file, f"{what}: path: the schema's {parts[0]}.{parts[1]} has no named "
                                           f"element {index} (have {len(items)})"))
        if item != items[index]["name"]:
            raise ConfigError(_where(file, f"{what}: item: {item!r}; allowed: {items[index]['name']!r}, the "
                                           f"name of element {index} of the schema's {parts[0]}.{parts[1]}"))
    value = _number(data["value"], file, f"{what}: value")
    try:  # the value alone against the field's bounds: the message names the field, value and range
        build_config({}, {path: int(value) if slot.kind == "int" else value})
    except ConfigError as err:
        raise ConfigError(_where(file, f"{what}: {err}")) from None
    optional = {k: _number(data[k], file, f"{what}: {k}") if k in data else None for k in ("default", "p05", "p95")}
    prior = data.get("prior")
    if prior is not None:
        if not isinstance(prior, list) or len(prior) != 2:
            raise ConfigError(_where(file, f"{what}: prior: expected [low, high], got {prior!r}"))
        prior = (_number(prior[0], file, f"{what}: prior"), _number(prior[1], file, f"{what}: prior"))
    scale = data.get("scale", "linear")
    if scale not in _SCALES:
        raise ConfigError(_where(file, f"{what}: scale: {scale!r}; allowed: {', '.join(_SCALES)}"))
    return Estimate(path, int(value) if slot.kind == "int" else value, item, optional["default"],
                    optional["p05"], optional["p95"], prior, scale)


def parse_layer(text: str, file: str = LAYER_NAME) -> Layer:
    """Validate a layer file given as text.

    Raises:
        ConfigError: bad TOML; a missing or mistyped ``[calibration]`` field; an estimate whose path names no
            numeric field, whose ``item`` is not the name of the schema's element at that index, or whose value
            the schema refuses (naming the field, the value and the allowed range); a path given twice; the
            estimates together refused by a cross-field rule. Every message starts with the file's name.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(_where(file, f"bad TOML: {err}")) from None
    unknown = sorted(set(data) - {"calibration", "estimate"})
    if unknown:
        raise ConfigError(_where(file, f"{unknown[0]}: unknown section; allowed: [calibration], [[estimate]]"))
    record = _record(data.get("calibration"), file)
    items = data.get("estimate", [])
    if not isinstance(items, list):
        raise ConfigError(_where(file, "estimate: expected [[estimate]] tables"))
    estimates = tuple(_estimate(i, item, file) for i, item in enumerate(items))
    seen: set[str] = set()
    for e in estimates:
        if e.path in seen:
            raise ConfigError(_where(file, f"{e.path}: estimated twice"))
        seen.add(e.path)
    try:
        build_config({}, {e.path: e.value for e in estimates})
    except ConfigError as err:
        raise ConfigError(_where(file, f"the estimates together: {err}")) from None
    return Layer(file, hashlib.sha256(text.encode("utf-8")).hexdigest(), record, estimates)


@functools.lru_cache(maxsize=8)
def _parsed(text: str, file: str) -> Layer:
    return parse_layer(text, file)


def read_layer(path: str | Path | None = None) -> Layer:
    """The layer in ``path`` (default: :data:`layer_path` if set, else the package's
    ``market/data/calibrated.toml``), validated; parsed once per distinct text.

    Raises:
        ConfigError: unreadable file, or anything :func:`parse_layer` refuses.
    """
    chosen = path if path is not None else layer_path
    try:
        if chosen is None:
            text, file = (resources.files("market") / "data" / "calibrated.toml").read_text(encoding="utf-8"), LAYER_NAME
        else:
            text, file = Path(chosen).read_text(encoding="utf-8"), str(chosen)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(_where(str(chosen or LAYER_NAME), f"cannot read ({err})")) from None
    return _parsed(text, file)


# ------------------------------------------------------------------------------------------ applying

def wants_layer(data: dict[str, Any], where: str = "scenario") -> bool:
    """Whether a parsed scenario file takes the layer, and the opt-out key removed from ``data``.

    Raises:
        ConfigError: ``calibrated`` given something other than true or false.
    """
    flag = data.pop(OPT_OUT_KEY, True)
    if not isinstance(flag, bool):
        raise ConfigError(f"{where}: {OPT_OUT_KEY}: expected true or false, got {flag!r}; allowed: true (the "
                          f"calibrated layer under the file's values, the default) or false (the schema defaults "
                          f"alone)")
    return flag


def apply_layer(data: dict[str, Any], layer: Layer) -> tuple[dict[str, Any], dict[str, Estimate]]:
    """``data`` (a parsed scenario) with the layer's estimates under it.

    Returns:
        (new data, {path in the new data: the estimate it took}). A value the file sets stays; an estimate of a
        list element goes to the element of the same name (the schema's default list is written out when the
        file sets no list). A section or list the file gives a non-table value is left for the schema to refuse.
    """
    # Copies are made only along the paths written (a hostile file may nest thousands of tables deep).
    out = dict(data)
    applied: dict[str, Estimate] = {}
    written: set[tuple[str, str]] = set()  # lists filled from the schema's defaults: their fields take estimates
    defaults: dict[str, Any] | None = None
    for e in layer.estimates:
        parts = e.path.split(".")
        node = out.get(parts[0], {})
        if not isinstance(node, dict):
            continue
        node = out[parts[0]] = dict(node)
        if e.item is None:
            if parts[1] not in node:
                node[parts[1]] = e.value
                applied[e.path] = e
            continue
        if parts[1] not in node:
            defaults = defaults or build_config({}).model_dump(mode="json")
            node[parts[1]] = copy.deepcopy(defaults[parts[0]][parts[1]])
            written.add((parts[0], parts[1]))
        if not isinstance(node[parts[1]], list):
            continue
        items = node[parts[1]] = list(node[parts[1]])
        for i, element in enumerate(items):
            if isinstance(element, dict) and element.get("name") == e.item and \
                    (parts[3] not in element or (parts[0], parts[1]) in written):
                items[i] = {**element, parts[3]: e.value}
                applied[f"{parts[0]}.{parts[1]}.{i}.{parts[3]}"] = e
    return out, applied


def _required(path: str) -> list[str]:
    """Fields the element model of the list at ``path`` requires (no default of their own)."""
    annotation = resolve(f"{path}.0").annotation
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return []
    return [n for n, f in annotation.model_fields.items() if f.is_required() and n != "name"]


def fill_required(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each list element that bears the name of an element of the schema's default list given
    that element's values for the fields the schema requires and the element omits (see the module docstring).
    Lists of unnamed elements, elements of other names and fields with defaults of their own are left alone."""
    defaults = build_config({}).model_dump(mode="json")
    out = dict(data)  # copies only along the paths written, as in apply_layer
    lists = [((k,), v) for k, v in defaults.items() if isinstance(v, list)]
    lists += [((k, sub), w) for k, v in defaults.items() if isinstance(v, dict) for sub, w in v.items()
              if isinstance(w, list)]
    for keys, default_items in lists:
        named = {d["name"]: d for d in default_items if isinstance(d, dict) and "name" in d}
        parent: Any = out
        if len(keys) == 2:
            if not isinstance(out.get(keys[0]), dict):
                continue
            parent = out[keys[0]] = dict(out[keys[0]])
        if not named or not isinstance(parent.get(keys[-1]), list):
            continue
        required = _required(".".join(keys))
        items = parent[keys[-1]] = list(parent[keys[-1]])
        for i, element in enumerate(items):
            name = element.get("name") if isinstance(element, dict) else None
            source = named.get(name) if isinstance(name, str) else None
            missing = [f for f in required if source is not None and f not in element and f in source]
            if missing:
                items[i] = {**element, **{f: copy.deepcopy(source[f]) for f in missing}}
    return out
