"""PRIM boxes over a sweep: which ranges of the swept parameters hold the runs where an outcome appears.

A *box* is a range (numbers) or a set of values (switches, labels) for every swept parameter. Its *coverage*
is the share of all runs with the outcome that lie in it, its *density* the share of the runs in it that have
the outcome, its *mass* the share of all runs in it (Bryant and Lempert 2010, "Thinking inside the box",
Technological Forecasting and Social Change 77:34–49). PRIM (Friedman and Fisher 1999) peels thin slices off
the box (``peel_alpha`` of the remaining runs at a time), always the slice whose removal raises density most,
down to ``mass_min``, then pastes back slices that raise density; the *peeling trajectory* lists every box on the
way, from high coverage and low density to the reverse. EMA Workbench's ``Prim`` does the peeling and pasting.

Which box of a trajectory to report is a choice: here, the box with the largest coverage among those whose
density reaches ``threshold`` (the classic PRIM threshold; Bryant and Lempert pick by eye on the same
trade-off curve). Further boxes are found on the runs outside the first (PRIM's covering): their density is
measured on those remaining runs, their coverage against all runs with the outcome. The search stops when no
box reaches the threshold, no run with the outcome remains, or ``max_boxes`` are found.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ID_COLUMNS = ("run_id", "point", "replicate", "seed")


class DiscoveryError(ValueError):
    """Unusable input: no sweep folder, unknown outcome, no swept parameter, an outcome that never or always
    appears, bad options. Names the argument, the value and what is allowed."""


@dataclass(frozen=True)
class DiscoveryData:
    """The sweep as PRIM sees it: ``x`` (one row per successful run, one column per swept parameter), ``y``
    (bool per run: the outcome appeared), the ``rule`` that made ``y`` (e.g. ``outcome_dumb_pipe is true``) and
    the runs left out (failed, or with no value for the outcome)."""

    x: pd.DataFrame
    y: np.ndarray
    outcome: str
    rule: str
    dropped: int


@dataclass(frozen=True)
class Limit:
    """One parameter's part of a box: numeric ``lo``..``hi`` (the swept range's ends when unrestricted) or the
    ``values`` kept (switches, labels); ``restricted``: narrower than the data's range."""

    parameter: str
    lo: float | None
    hi: float | None
    values: tuple[str, ...] | None
    restricted: bool

    def text(self) -> str:
        """``lo ≤ parameter ≤ hi`` or ``parameter ∈ {…}``."""
        if self.values is not None:
            return f"{self.parameter} ∈ {{{', '.join(self.values)}}}"
        return f"{self.lo:.4g} ≤ {self.parameter} ≤ {self.hi:.4g}"


@dataclass(frozen=True)
class Box:
    """A found box: its number (1, 2, …), coverage, density, mass, runs in it and runs in it with the outcome,
    one :class:`Limit` per swept parameter, and its peeling trajectory (DataFrame: step, coverage, density,
    mass, res_dim (restricted parameters), runs, selected)."""

    number: int
    coverage: float
    density: float
    mass: float
    runs: int
    runs_with_outcome: int
    limits: tuple[Limit, ...]
    trajectory: pd.DataFrame

    def restrictions(self) -> list[Limit]:
        """The limits that restrict the box."""
        return [lim for lim in self.limits if lim.restricted]


# ------------------------------------------------------------------------------------------- data

def _swept(folder: Path, runs: pd.DataFrame) -> list[str]:
    """Swept parameters: the design's varied keys (manifest.json), else design.csv's parameter columns."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        keys = [p["key"] for p in manifest["plan"]["design"]["parameters"]]
    except (OSError, ValueError, KeyError, TypeError):
        design = folder / "design.csv"
        keys = [c for c in pd.read_csv(design, nrows=0).columns if c not in ID_COLUMNS] if design.exists() else []
    return [k for k in keys if k in runs and runs[k].nunique(dropna=True) > 1]


def _runs(folder: Path) -> pd.DataFrame:
    try:
        from runs.sweeps.sweep import load_sweep

        if (folder / "manifest.json").is_file():
            return load_sweep(folder)[0]
    except ValueError as err:  # SweepError: a manifest that is not a sweep's
        raise DiscoveryError(f"SWEEP_DIR: {err}") from None
    return pd.read_csv(folder / "runs.csv", dtype={"run_id": str})


def load_discovery_data(folder: Path | str, outcome: str, above: float | None = None,
                        below: float | None = None) -> DiscoveryData:
    """Read a sweep folder for discovery. ``outcome`` is an outcome flag (``dumb_pipe`` or ``outcome_dumb_pipe``)
    or a numeric column of runs.csv (``last_lerner_api``) with ``above`` or ``below`` a value (strictly).

    Raises:
        DiscoveryError: no such folder, no runs.csv, unknown outcome (naming the available ones), a numeric
            outcome without --above/--below (or a flag with one), no swept parameter, no successful run,
            an outcome that appears in no run or in every run.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DiscoveryError(f"SWEEP_DIR: {str(folder)!r} is not a folder")
    if not (folder / "runs.csv").is_file():
        raise DiscoveryError(f"SWEEP_DIR: {str(folder)!r} holds no runs.csv (not a sweep folder, or no run finished)")
    runs = _runs(folder)
    if "status" in runs:
        runs = runs[runs["status"] == "ok"]
    flags = [c for c in runs.columns if c.startswith("outcome_")]
    numeric = [c for c in runs.select_dtypes("number").columns if c not in ID_COLUMNS and not c.startswith("outcome_")]
    column = outcome if outcome in runs else f"outcome_{outcome}"
    if column not in runs:
        shown = ", ".join(f.removeprefix("outcome_") for f in flags) or "none"
        raise DiscoveryError(f"--outcome: {outcome!r} is not a column of runs.csv; outcome flags: {shown}; or a "
                             f"numeric column with --above/--below (e.g. {', '.join(numeric[:3]) or 'none'})")
    if above is not None and below is not None:
        raise DiscoveryError("--above/--below: give one of them")
    values = runs[column]
    if column.startswith("outcome_"):
        if above is not None or below is not None:
            raise DiscoveryError(f"--above/--below: {column} is an outcome flag (true/false); they apply to numeric "
                                 f"columns only")
        mapped = values.map(lambda v: {"True": True, "False": False, "true": True, "false": False}.get(v, v)
                            if isinstance(v, str) else v)
        keep = mapped.notna()
        y = mapped[keep].astype(bool).to_numpy()
        rule = f"{column} is true"
    else:
        if not pd.api.types.is_numeric_dtype(values):
            raise DiscoveryError(f"--outcome: {column} is neither an outcome flag nor numeric")
        if above is None and below is None:
            raise DiscoveryError(f"--outcome {column}: a numeric column needs --above VALUE or --below VALUE")
        keep = values.notna()
        y = (values[keep] > above).to_numpy() if above is not None else (values[keep] < below).to_numpy()
        rule = f"{column} > {above:g}" if above is not None else f"{column} < {below:g}"
    params = _swept(folder, runs)
    if not params:
        raise DiscoveryError(f"SWEEP_DIR: {str(folder)!r} varies no parameter (a replicates-only sweep): there is no "
                             f"parameter space to search")
    if len(y) == 0:
        raise DiscoveryError(f"SWEEP_DIR: no successful run with a value for {column}")
    if y.all() or not y.any():
        raise DiscoveryError(f"--outcome: {rule} holds in {'every' if y.all() else 'no'} one of the {len(y)} runs; "
                             f"scenario discovery needs runs with and without it")
    x = runs.loc[keep, params].reset_index(drop=True)
    for p in params:
        if pd.api.types.is_bool_dtype(x[p]) or not pd.api.types.is_numeric_dtype(x[p]):
            x[p] = x[p].astype(str).astype("category")
        else:
            # Integers as floats: EMA Workbench 3.0's pasting writes half-way limits into integer columns, which
            # pandas ≥ 2 refuses (EMAworkbench issue 448, fixed after 3.0). Limits then read "1.5 ≤ n", i.e. n ≥ 2.
            x[p] = x[p].astype(float)
    return DiscoveryData(x, y.astype(bool), column, rule, int(len(runs) - keep.sum()))


# ------------------------------------------------------------------------------------------- boxes

def _limits(box_lim: pd.DataFrame, init: pd.DataFrame) -> tuple[Limit, ...]:
    out = []
    for p in box_lim.columns:
        lo, hi = box_lim[p].iloc[0], box_lim[p].iloc[1]
        if isinstance(lo, (set, frozenset)):
            kept = tuple(sorted(str(v) for v in lo))
            out.append(Limit(p, None, None, kept, set(lo) != set(init[p].iloc[0])))
        else:
            restricted = bool(lo > init[p].iloc[0] or hi < init[p].iloc[1])
            out.append(Limit(p, float(lo), float(hi), None, restricted))
    return tuple(out)


def check_options(threshold: float, max_boxes: int, peel_alpha: float, paste_alpha: float, mass_min: float) -> None:
    """Raise :class:`DiscoveryError` naming the first PRIM option out of range."""
    if not 0 < threshold <= 1:
        raise DiscoveryError(f"--threshold: {threshold} out of range (allowed: (0, 1], the least box density)")
    if max_boxes < 1:
        raise DiscoveryError(f"--max-boxes: {max_boxes} out of range (allowed: ≥ 1)")
    for name, v, hi in (("--peel-alpha", peel_alpha, 0.5), ("--paste-alpha", paste_alpha, 0.5),
                        ("--mass-min", mass_min, 1.0)):
        if not 0 < v < hi:
            raise DiscoveryError(f"{name}: {v} out of range (allowed: (0, {hi:g}))")


def find_boxes(data: DiscoveryData, threshold: float = 0.8, max_boxes: int = 3, peel_alpha: float = 0.05,
               paste_alpha: float = 0.05, mass_min: float = 0.05) -> tuple[list[Box], list[str]]:
    """Boxes where the outcome appears (see the module docstring) and notes (why the search stopped).

    Raises:
        DiscoveryError: an option out of range (threshold in (0, 1], max_boxes ≥ 1, peel_alpha and
            paste_alpha in (0, 0.5), mass_min in (0, 1)).
    """
    check_options(threshold, max_boxes, peel_alpha, paste_alpha, mass_min)
    with warnings.catch_warnings():
        # "ipyparallel not installed" (only the workbench's cluster runner needs it) and pandas deprecations
        # inside the workbench: nothing the user can act on.
        warnings.filterwarnings("ignore", module=r"ema_workbench(\.|$)")
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        return _find(data, threshold, max_boxes, peel_alpha, paste_alpha, mass_min)


def _find(data: DiscoveryData, threshold: float, max_boxes: int, peel_alpha: float, paste_alpha: float,
          mass_min: float) -> tuple[list[Box], list[str]]:
    from ema_workbench.analysis.prim import Prim

    prim = Prim(data.x, data.y.astype(int), peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min)
    boxes, notes = [], []
    while len(boxes) < max_boxes:
        found = prim.find_box()
        if found is None:
            notes.append("no runs remain outside the boxes found")
            break
        traj = found.peeling_trajectory.reset_index(drop=True)
        ok = traj[traj["density"] >= threshold]
        if ok.empty:
            notes.append(f"box {len(boxes) + 1}: no box on the peeling trajectory reaches density {threshold:g} "
                         f"(highest: {traj['density'].max():.3g}); the search stops")
            break
        best = ok.sort_values(["coverage", "density", "res_dim"], ascending=[False, False, True], kind="stable")
        i = int(best.index[0])
        found.select(i)
        table = pd.DataFrame({"step": traj.index, "coverage": traj["coverage"].astype(float),
                              "density": traj["density"].astype(float), "mass": traj["mass"].astype(float),
                              "res_dim": traj["res_dim"].astype(int), "runs": traj["n"].astype(int),
                              "selected": traj.index == i})
        row = traj.loc[i]
        boxes.append(Box(len(boxes) + 1, float(row["coverage"]), float(row["density"]), float(row["mass"]),
                         int(row["n"]), int(row["k"]), _limits(found.box_lims[i], prim.box_init), table))
        if int(data.y[prim.yi_remaining].sum()) == int(row["k"]):
            notes.append("every run with the outcome is in the boxes found")
            break
    else:
        notes.append(f"stopped at --max-boxes {max_boxes}")
    return boxes, notes


def boxes_frame(boxes: list[Box]) -> pd.DataFrame:
    """boxes.csv: one row per box and parameter: box, coverage, density, mass, runs, runs_with_outcome,
    parameter, restricted, lo, hi, values (kept values of a switch or label, ``|``-separated)."""
    rows = []
    for b in boxes:
        for lim in b.limits:
            rows.append({"box": b.number, "coverage": b.coverage, "density": b.density, "mass": b.mass,
                         "runs": b.runs, "runs_with_outcome": b.runs_with_outcome, "parameter": lim.parameter,
                         "restricted": lim.restricted, "lo": lim.lo, "hi": lim.hi,
                         "values": "|".join(lim.values) if lim.values is not None else ""})
    return pd.DataFrame(rows)


def trajectory_frame(boxes: list[Box]) -> pd.DataFrame:
    """trajectory.csv: every box's peeling trajectory, with a ``box`` column."""
    frames = [b.trajectory.assign(box=b.number) for b in boxes]
    if not frames:
        return pd.DataFrame(columns=["box", "step", "coverage", "density", "mass", "res_dim", "runs", "selected"])
    df = pd.concat(frames, ignore_index=True)
    return df[["box", *[c for c in df.columns if c != "box"]]]
