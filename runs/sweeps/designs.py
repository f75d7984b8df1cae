"""Sweep designs: which config fields vary, over which values, and the seed of every run (DESIGN.md §6).

A design is a list of *points* (one value per varied field) crossed with ``replicates`` seeds. Methods:

- ``grid``: the Cartesian product of listed values (``--grid key=v1,v2``; first key varies slowest). With no
  parameter it is a single point, i.e. a pure replicate sweep.
- ``random``: ``n`` independent uniform draws in the ranges (``--range key=lo:hi``).
- ``lhs``: ``n`` points of a Latin hypercube (SALib ``sample.latin``; McKay et al. 1979).
- ``sobol``: the Saltelli scheme on a scrambled Sobol' sequence (SALib ``sample.sobol`` with
  ``calc_second_order=False``): ``n × (D + 2)`` points in ``n`` consecutive blocks of ``D + 2`` (Saltelli 2002,
  Saltelli et al. 2010). ``n`` must be a power of 2 ≥ 4.
- ``morris``: ``n`` trajectories of ``D + 1`` points on a 4-level grid (SALib ``sample.morris``; Morris 1991,
  Campolongo et al. 2007).

Float values (listed or sampled) are rounded to 10 significant digits, the precision of the CSV files, so
what is written is exactly what ran; sampled integer fields are rounded to the nearest integer.

Seeds come from one master seed through :class:`numpy.random.SeedSequence` spawn keys, so a run's seed depends
only on (master seed, point, replicate), never on the executor or the order runs finish in:
``(0, point, replicate)`` per run, or ``(1, replicate)`` with common random numbers (every point of a replicate
shares its seed), and ``(2,)`` for the sampler.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market.config import ConfigError, build_config, parse_value, resolve

METHODS = ("grid", "random", "lhs", "sobol", "morris")
SAMPLED = ("random", "lhs", "sobol", "morris")
MORRIS_LEVELS = 4
SOBOL_MIN_N = 4
MAX_RUNS = 1_000_000
_RUN_KEY, _CRN_KEY, _SAMPLER_KEY = 0, 1, 2


@dataclass(frozen=True)
class Parameter:
    """One varied config field: dotted ``key``, its ``kind`` (int, float, bool, str) and either grid
    ``values`` or a sampling range ``lo``..``hi`` (in the field's unit)."""

    key: str
    kind: str
    values: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (manifest.json)."""
        if self.lo is None:
            return {"key": self.key, "kind": self.kind, "values": list(self.values)}
        return {"key": self.key, "kind": self.kind, "lo": self.lo, "hi": self.hi}


@dataclass(frozen=True)
class Design:
    """A validated design: ``method`` (one of :data:`METHODS`), ``parameters``, sample size ``n`` (None for a
    grid), ``replicates`` per point, ``master_seed`` and the common-random-numbers switch."""

    method: str
    parameters: tuple[Parameter, ...]
    n: int | None
    replicates: int
    master_seed: int
    common_random_numbers: bool = False
    _points: list[dict[str, Any]] = field(default_factory=list, compare=False, repr=False)

    @property
    def keys(self) -> list[str]:
        """Dotted keys of the varied fields, in design order (the column order of runs.csv)."""
        return [p.key for p in self.parameters]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :func:`design_from_dict` inverts it."""
        return {"method": self.method, "parameters": [p.to_dict() for p in self.parameters], "n": self.n,
                "replicates": self.replicates, "master_seed": self.master_seed,
                "common_random_numbers": self.common_random_numbers, "morris_levels": MORRIS_LEVELS}

    def points(self) -> list[dict[str, Any]]:
        """The design points: a list of {key: value}, in design order (Sobol blocks, Morris trajectories)."""
        if not self._points:
            self._points.extend(_make_points(self))
        return self._points

    def table(self) -> pd.DataFrame:
        """One row per run: run_id, point, replicate, seed and one column per varied key (design.csv).

        ``run_id`` is ``p<point>-r<replicate>``, zero-padded, so sorting by it sorts by (point, replicate).
        """
        pts = self.points()
        wp, wr = max(4, len(str(len(pts) - 1))), max(2, len(str(self.replicates - 1)))
        rows = []
        for i, values in enumerate(pts):
            for r in range(self.replicates):
                rows.append({"run_id": f"p{i:0{wp}d}-r{r:0{wr}d}", "point": i, "replicate": r,
                             "seed": run_seed(self.master_seed, i, r, self.common_random_numbers), **values})
        return pd.DataFrame(rows, columns=["run_id", "point", "replicate", "seed", *self.keys])


def run_seed(master_seed: int, point: int, replicate: int, common_random_numbers: bool = False) -> int:
    """The seed (int in [0, 2**63)) of one run, from the master seed via a SeedSequence spawn key."""
    key = (_CRN_KEY, replicate) if common_random_numbers else (_RUN_KEY, point, replicate)
    state = np.random.SeedSequence(master_seed, spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


# --------------------------------------------------------------------------------------------- fields

def field_kind(key: str) -> str:
    """Kind of the config field at dotted ``key``: ``"int"``, ``"float"``, ``"bool"`` or ``"str"`` (text and
    choices). List elements are addressed by index (``labs.0.skill``), dict entries by key
    (``wrappers.per_vertical.coding``); ``__`` works as ``.`` (:func:`market.config.resolve`).

    Raises:
        ConfigError: unknown key (naming the allowed keys), a key naming a group of fields or a list.
    """
    slot = resolve(key)
    if slot.kind == "model":
        raise ConfigError(f"{slot.path}: is a group of fields; vary one of them: "
                          f"{', '.join(f'{slot.path}.{f}' for f in slot.annotation.model_fields)}")
    if slot.kind in ("bool", "int", "float", "str"):
        return slot.kind
    if slot.kind == "choice":
        return "str"
    raise ConfigError(f"{slot.path}: a {slot.kind} field cannot be varied; vary one scalar inside it")


def coerce(key: str, kind: str, value: Any, flag: str) -> Any:
    """``value`` as a ``kind`` value (int, float, bool, str), or a ConfigError naming ``flag``, key and value."""
    ok = {"bool": isinstance(value, bool), "str": isinstance(value, str),
          "int": isinstance(value, int) and not isinstance(value, bool)
          or isinstance(value, float) and value.is_integer(),
          "float": isinstance(value, (int, float)) and not isinstance(value, bool)}[kind]
    if not ok:
        raise ConfigError(f"{flag} {key}: value {value!r} is not {'an' if kind == 'int' else 'a'} {kind} "
                          f"(the field's type)")
    if kind == "float" and not math.isfinite(value):
        raise ConfigError(f"{flag} {key}: value {value!r} is not finite")
    if kind == "float":
        return float(f"{value:.10g}")  # the precision of the CSV files: what is written is what ran
    return int(value) if kind == "int" else value


def _check_value(base: dict[str, Any], key: str, value: Any, flag: str) -> None:
    try:
        build_config(base, {key: value})
    except ConfigError as err:
        raise ConfigError(f"{flag} {key}={value!r}: {err}") from None


# --------------------------------------------------------------------------------------------- building

def parse_grid(items: list[str]) -> list[tuple[str, list[str]]]:
    """``["key=v1,v2", ...]`` → ``[(key, ["v1", "v2"]), ...]``. Raises ConfigError on a malformed item."""
    out = []
    for item in items:
        key, sep, values = item.partition("=")
        vals = [v.strip() for v in values.split(",")] if sep else []
        if not sep or not key.strip() or not any(vals) or not all(vals):
            raise ConfigError(f"--grid: expected key=v1,v2,... with no empty value, got {item!r}")
        out.append((key.strip(), vals))
    return out


def parse_ranges(items: list[str]) -> list[tuple[str, float, float]]:
    """``["key=lo:hi", ...]`` → ``[(key, lo, hi), ...]``. Raises ConfigError on a malformed item."""
    out = []
    for item in items:
        key, sep, rng = item.partition("=")
        lo, colon, hi = rng.rpartition(":") if rng.count(":") == 1 else ("", "", "")
        try:
            if not sep or not colon or not key.strip():
                raise ValueError
            out.append((key.strip(), float(lo), float(hi)))
        except ValueError:
            raise ConfigError(f"--range: expected key=lo:hi with numbers lo < hi, got {item!r}") from None
    return out


def make_design(base: dict[str, Any], *, grid: list[tuple[str, list[Any]]] | None = None,
                method: str | None = None, n: int | None = None,
                ranges: list[tuple[str, float, float]] | None = None, replicates: int = 1, master_seed: int = 0,
                common_random_numbers: bool = False) -> Design:
    """Validate a design against the base config data (a dumped :class:`MarketConfig`) and return it.

    ``grid`` lists (key, values) with values as typed Python values or command-line strings; ``method`` is a
    sampler of :data:`SAMPLED` with ``n`` and ``ranges`` (key, lo, hi). Every grid value and both ends of every
    range are validated against the schema (whole points are checked by :meth:`runs.sweeps.sweep.SweepPlan.tasks`).

    Raises:
        ConfigError: unknown or repeated key, wrong value type, value outside the field's range, empty or
            reversed range, range on a non-numeric field, ``n`` missing or too small for the method, a grid
            mixed with a sampler, too many runs. The message names the flag, field, value and what is allowed.
    """
    grid = [(k.strip().replace("__", "."), v) for k, v in grid or []]
    ranges = [(k.strip().replace("__", "."), lo, hi) for k, lo, hi in ranges or []]
    if method is not None and method not in SAMPLED:
        raise ConfigError(f"--sample: unknown method {method!r}; allowed: {', '.join(SAMPLED)}")
    if grid and (method or ranges):
        raise ConfigError("--grid cannot be combined with --sample/--range; use --set for fixed values")
    if ranges and not method:
        raise ConfigError("--range needs --sample (lhs, sobol, morris or random)")
    if not isinstance(replicates, int) or replicates < 1:
        raise ConfigError(f"--replicates: {replicates!r} out of range (allowed: ≥ 1)")
    if not isinstance(master_seed, int) or master_seed < 0:
        raise ConfigError(f"--seed: {master_seed!r} out of range (allowed: int ≥ 0)")
    keys = [k for k, _ in grid] + [k for k, _, _ in ranges]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup:
        raise ConfigError(f"{dup}: varied twice; give each key once")
    params: list[Parameter] = []
    for key, raw in grid:
        kind = field_kind(key)
        slot = resolve(key)
        try:
            values = tuple(coerce(key, kind, parse_value(v, slot) if isinstance(v, str) else v, "--grid")
                           for v in raw)
        except ConfigError as err:
            raise ConfigError(f"--grid {err}") from None
        if len(set(values)) != len(values):
            raise ConfigError(f"--grid {key}: repeated value in {list(values)}")
        for v in values:
            _check_value(base, key, v, "--grid")
        params.append(Parameter(key, kind, values=values))
    for key, lo, hi in ranges:
        kind = field_kind(key)
        if kind not in ("int", "float"):
            raise ConfigError(f"--range {key}: a {kind} field cannot take a range; use --grid")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(f"--range {key}: bounds must be finite, got {lo}:{hi}")
        if lo > hi:
            raise ConfigError(f"--range {key}: lo {lo:g} > hi {hi:g} (allowed: lo < hi)")
        if lo == hi:
            raise ConfigError(f"--range {key}: empty range {lo:g}:{hi:g} (allowed: lo < hi; use --set for a "
                              f"fixed value)")
        if kind == "int":
            lo, hi = coerce(key, kind, lo, "--range"), coerce(key, kind, hi, "--range")
            if method == "morris" and hi - lo < MORRIS_LEVELS - 1:
                raise ConfigError(f"--range {key}: integer range {lo}:{hi} too narrow for Morris' "
                                  f"{MORRIS_LEVELS} levels (allowed: hi - lo ≥ {MORRIS_LEVELS - 1})")
        for v in (lo, hi):
            _check_value(base, key, v, "--range")
        params.append(Parameter(key, kind, lo=lo, hi=hi))
    if method:
        _check_n(method, n, len(params))
    elif n is not None:
        raise ConfigError("--n applies only to --sample designs")
    design = Design(method or "grid", tuple(params), n if method else None, replicates, master_seed,
                    common_random_numbers)
    _check_size(design)
    return design


def _check_n(method: str, n: int | None, d: int) -> None:
    if d == 0:
        raise ConfigError(f"--sample {method}: needs at least one --range key=lo:hi")
    if n is None or not isinstance(n, int):
        raise ConfigError(f"--sample {method}: --n is required (an integer)")
    if method == "sobol" and (n < SOBOL_MIN_N or n & (n - 1)):
        raise ConfigError(f"--n: {n} too small or not a power of 2 for Sobol (allowed: a power of 2 ≥ "
                          f"{SOBOL_MIN_N}; the design has n × (D + 2) = n × {d + 2} points)")
    if method == "morris" and n < 2:
        raise ConfigError(f"--n: {n} too small for Morris (allowed: ≥ 2 trajectories of D + 1 = {d + 1} points)")
    if n < 1:
        raise ConfigError(f"--n: {n} out of range (allowed: ≥ 1)")


def _check_size(design: Design) -> None:
    d = len(design.parameters)
    if design.method == "grid":
        points = math.prod(len(p.values) for p in design.parameters)
    else:
        points = design.n * {"sobol": d + 2, "morris": d + 1}.get(design.method, 1)
    if points * design.replicates > MAX_RUNS:
        raise ConfigError(f"design: {points} points × {design.replicates} replicates = "
                          f"{points * design.replicates} runs (allowed: ≤ {MAX_RUNS})")


def _make_points(design: Design) -> list[dict[str, Any]]:
    ps = design.parameters
    if design.method == "grid":
        return [dict(zip(design.keys, combo)) for combo in itertools.product(*(p.values for p in ps))]
    from SALib.sample import latin, morris, sobol

    problem = {"num_vars": len(ps), "names": design.keys, "bounds": [[p.lo, p.hi] for p in ps]}
    rng = np.random.default_rng(np.random.SeedSequence(design.master_seed, spawn_key=(_SAMPLER_KEY,)))
    if design.method == "random":
        lo, hi = np.array([p.lo for p in ps], float), np.array([p.hi for p in ps], float)
        x = rng.uniform(lo, hi, size=(design.n, len(ps)))
    elif design.method == "lhs":
        x = latin.sample(problem, design.n, seed=rng)
    elif design.method == "sobol":
        x = sobol.sample(problem, design.n, calc_second_order=False, scramble=True, seed=rng)
    else:
        x = morris.sample(problem, design.n, num_levels=MORRIS_LEVELS, seed=rng)
    out = []
    for row in np.asarray(x, float):
        out.append({p.key: int(np.rint(v)) if p.kind == "int" else float(f"{v:.10g}") for p, v in zip(ps, row)})
    return out


def design_from_dict(data: dict[str, Any]) -> Design:
    """Rebuild a :class:`Design` from :meth:`Design.to_dict` output (manifest.json). No schema validation."""
    params = tuple(Parameter(p["key"], p["kind"], values=tuple(p.get("values", ())), lo=p.get("lo"), hi=p.get("hi"))
                   for p in data["parameters"])
    return Design(data["method"], params, data.get("n"), int(data["replicates"]), int(data["master_seed"]),
                  bool(data.get("common_random_numbers", False)))
