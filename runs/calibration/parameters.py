"""The estimated parameters: which config fields the calibration moves, over which prior range, on which scale.

Declared in TOML (the shipped set is ``runs/calibration/parameters.toml``), one ``[[parameter]]`` each:
``path`` (a dotted config path as ``--set`` takes it, e.g. ``customers.segments.0.price_scale_usd``), ``lo`` and
``hi`` (the prior range, in the field's unit, inside the schema's bounds), ``scale`` (``log`` for positive
quantities known to an order of magnitude, ``linear`` otherwise) and the ``reason`` the field is estimated rather
than taken from a public figure. Every other parameter keeps its default and its source.

The search works in unit coordinates: ``u`` in [0, 1] maps to ``lo + u (hi − lo)`` (linear) or
``lo (hi/lo)^u`` (log), so finite differences and identification diagnostics treat every parameter alike.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from market.config import ConfigError, build_config
from runs.calibration import CalibrationError

SHIPPED = Path(__file__).with_name("parameters.toml")
SCALES = ("log", "linear")
_FIELDS = {"path", "lo", "hi", "scale", "reason"}


@dataclass(frozen=True)
class EstimatedParameter:
    """One estimated config field: dotted ``path``, prior range ``lo``..``hi`` (field unit), ``scale``, ``kind``
    (``float`` or ``int``; ints are rounded), ``default`` (the base config's value) and ``reason``."""

    path: str
    lo: float
    hi: float
    scale: str
    kind: str
    default: float
    reason: str

    def from_unit(self, u: float) -> float:
        """The value (field unit) at unit coordinate ``u`` ∈ [0, 1], rounded to 10 significant digits (the CSV
        precision) or to an integer for int fields."""
        u = min(1.0, max(0.0, float(u)))
        if self.scale == "log":
            value = self.lo * (self.hi / self.lo) ** u
        else:
            value = self.lo + u * (self.hi - self.lo)
        return float(round(value)) if self.kind == "int" else float(f"{value:.10g}")

    def to_unit(self, value: float) -> float:
        """Unit coordinate of ``value`` (not clipped: values outside the prior give u outside [0, 1])."""
        if self.scale == "log":
            return math.log(value / self.lo) / math.log(self.hi / self.lo)
        return (value - self.lo) / (self.hi - self.lo)

    def cast(self, value: float) -> float | int:
        """``value`` as the field's type (int fields as int)."""
        return int(round(value)) if self.kind == "int" else float(value)


@dataclass(frozen=True)
class ParameterSet:
    """A validated set of estimated parameters: the file's name and text, and the parameters in file order."""

    path: str
    text: str = field(repr=False)
    parameters: tuple[EstimatedParameter, ...]

    @property
    def paths(self) -> list[str]:
        """Dotted config paths, in file order."""
        return [p.path for p in self.parameters]

    def overrides(self, values: dict[str, float]) -> dict[str, Any]:
        """``--set``-style overrides {path: value} for parameter values given by path (cast to field types).

        Raises:
            KeyError: a parameter missing from ``values``.
        """
        return {p.path: p.cast(values[p.path]) for p in self.parameters}

    def from_unit(self, u: list[float]) -> dict[str, float]:
        """{path: value} at unit coordinates ``u`` (one per parameter, file order)."""
        return {p.path: p.from_unit(x) for p, x in zip(self.parameters, u)}

    def to_unit(self, values: dict[str, float]) -> list[float]:
        """Unit coordinates of {path: value} (file order)."""
        return [p.to_unit(float(values[p.path])) for p in self.parameters]


def _field_kind(path: str) -> str:
    from runs.sweeps.designs import field_kind

    return field_kind(path)


def _value_at(data: Any, path: str) -> Any:
    node = data
    for part in path.replace("__", ".").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def parse_parameters(text: str, base: dict[str, Any], path: str = "<parameters>") -> ParameterSet:
    """Validate a parameters file given as TOML text against the base config.

    Args:
        text: the TOML text (``[[parameter]]`` tables).
        base: the base config data (scenario + fixed overrides, as :func:`market.config.build_config` takes it).
        path: the file name used in messages.

    Returns:
        :class:`ParameterSet`.

    Raises:
        CalibrationError: bad TOML; an unknown or missing field; a path that names no numeric config field;
            ``lo`` ≥ ``hi``; a bound the schema rejects (naming the schema's allowed range); ``lo`` ≤ 0 on a log
            scale; a duplicated path; no parameter at all. The message names the parameter and the field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CalibrationError(f"{path}: bad TOML: {err}") from None
    unknown = sorted(set(data) - {"parameter"})
    if unknown:
        raise CalibrationError(f"{path}: {unknown[0]}: unknown section; allowed: [[parameter]]")
    items = data.get("parameter", [])
    if not isinstance(items, list) or not items:
        raise CalibrationError(f"{path}: no [[parameter]] tables: nothing to estimate")
    config = build_config(base).model_dump()
    out: list[EstimatedParameter] = []
    for i, item in enumerate(items):
        name = item.get("path") if isinstance(item, dict) else None
        where = f"{path}: parameter {i + 1}" + (f" ({name})" if isinstance(name, str) else "")
        if not isinstance(item, dict):
            raise CalibrationError(f"{where}: expected a table, got {item!r}")
        bad = sorted(set(item) - _FIELDS)
        if bad:
            raise CalibrationError(f"{where}: {bad[0]}: unknown field; allowed: {', '.join(sorted(_FIELDS))}")
        for req in ("path", "lo", "hi", "reason"):
            if req not in item:
                raise CalibrationError(f"{where}: {req}: missing (required)")
        if not isinstance(name, str):
            raise CalibrationError(f"{where}: path: expected a dotted config path, got {name!r}")
        name = name.replace("__", ".")
        try:
            kind = _field_kind(name)
        except ConfigError as err:
            raise CalibrationError(f"{where}: path: {err}") from None
        if kind not in ("float", "int"):
            raise CalibrationError(f"{where}: path: {name} is a {kind} field; allowed: numeric (float or int) fields")
        if name in {p.path for p in out}:
            raise CalibrationError(f"{where}: path: listed twice")
        lo, hi = item["lo"], item["hi"]
        for label, v in (("lo", lo), ("hi", hi)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise CalibrationError(f"{where}: {label}: expected a number, got {v!r}")
        if not lo < hi:
            raise CalibrationError(f"{where}: lo/hi: {lo:g} ≥ {hi:g}; allowed: lo < hi")
        scale = item.get("scale", "linear")
        if scale not in SCALES:
            raise CalibrationError(f"{where}: scale: {scale!r} not allowed; allowed: {', '.join(SCALES)}")
        if scale == "log" and lo <= 0:
            raise CalibrationError(f"{where}: lo: {lo:g} ≤ 0 on a log scale; allowed: lo > 0 (or scale = 'linear')")
        for label, v in (("lo", lo), ("hi", hi)):
            try:
                build_config(base, {name: int(v) if kind == "int" else float(v)})
            except ConfigError as err:
                raise CalibrationError(f"{where}: {label}: {v:g} rejected by the schema: {err}") from None
        reason = item["reason"]
        if not isinstance(reason, str) or not reason.strip():
            raise CalibrationError(f"{where}: reason: expected non-empty text saying why it is estimated")
        out.append(EstimatedParameter(name, float(lo), float(hi), scale, kind, float(_value_at(config, name)),
                                      reason.strip()))
    return ParameterSet(path, text, tuple(out))


def load_parameters(path: str | Path | None, base: dict[str, Any]) -> ParameterSet:
    """Read and validate a parameters file (default: the shipped ``runs/calibration/parameters.toml``).

    Raises:
        CalibrationError: unreadable file or any problem :func:`parse_parameters` reports.
    """
    from runs.calibration.targets import display_path, read_text

    path = Path(path) if path is not None else SHIPPED
    return parse_parameters(read_text(path, "--params"), base, display_path(path))
