"""The baseline's first months beside the dated public paths of revenues, API shares, users and plan prices.

Runs a scenario (baseline by default) for ``--rounds`` months (round 0 = July 2024, ``market/calendar.py``) on
``--seeds`` seeds at ``--customers`` customers, and reads every target of the calibration table
(``runs/calibration/targets.toml``) on a series of the paths' groups 2-4 — revenue run rates, API market shares,
app users and subscribers, plan prices — with the calibration's own machinery
(:func:`runs.calibration.moments.moment_frame`, :func:`runs.calibration.moments.mean_errors`): the same series,
the same reading at the target's date or window, the same tolerance. Nothing is estimated: the parameters are the
scenario's.

Prints one row per target: the figure, the model's seed mean (and min-max over seeds), the tolerance band
(figure ÷/× factor for log series, figure ± points for shares; a lower bound is met anywhere above its band's
floor), where the model falls (``inside``, ``below``, ``above``, ``missing``) and z (the seed-mean error in
tolerances, clamped as the calibration clamps one-sided targets). Year 1 is July 2024 - June 2025 (rounds 0-11; a
window counts as year 1 when it ends by round 11). Then the rows of groups 2-4 of ``market/data/path_targets.csv``
that no target reads in the run's span: dated after it, or left out of the fit (with the table's reason).

``--free-tier small`` (or off, large) imposes that free-tier size on every lab (``MarketConfig.forced``) instead of
letting each choose it by value: a diagnostic of what the labs' free-tier choice does to users and plan prices.

Usage: python benchmarks/first_year_fit.py [--scenario baseline] [--customers 100000] [--rounds 24] [--seeds 0,1]
                                          [--free-tier chosen|off|small|large] [--csv FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from market import path_targets  # noqa: E402
from market.config import MOVES  # noqa: E402
from market.scenario import config_from  # noqa: E402
from market.simulate import run_once  # noqa: E402
from runs.calibration.moments import mean_errors, moment_frame  # noqa: E402
from runs.calibration.targets import TargetTable, load_targets  # noqa: E402

# The series of the targets table (runs/calibration/targets.toml) that stand for the paths' groups 2-4. Group 1 is
# token volumes, 5 the inference hosts, 6-7 GPUs, capex and training: other checks.
GROUPS = {
    "revenue": ("openai_run_rate", "anthropic_run_rate", "labs_run_rate"),
    "API share": ("openai_api_spend_share", "anthropic_api_spend_share", "openai_api_token_share",
                  "anthropic_api_token_share", "anthropic_vs_openai_api_spend_share", "closed_api_token_share"),
    "users": ("openai_subscribers", "chatgpt_users", "gemini_users"),
    "plan price": ("openai_app_price", "google_app_price"),
}
# The first and last key of groups 2-4 in the paths table (its rows run in group order).
FIRST_KEY, LAST_KEY = "openai_arr_2023_12_ft", "google_ai_ultra_price_2026"
YEAR_ONE_LAST_ROUND = 11  # June 2025
# Higher plan tiers the targets table leaves out (it says the labs sell one paid plan; they now sell two, and the
# second, its `pro` plan, is the high-cap tier): each row beside the lab's second plan price (agents.csv
# plan2_price_usd_per_month) as a window mean, with the ×1.25 tolerance the table gives plan prices.
HIGH_TIERS = (("chatgpt_pro_price", "lab_investor_a"), ("claude_max_5x_price", "lab_investor_b"),
              ("claude_max_20x_price", "lab_investor_b"), ("google_ai_ultra_price_2025", "lab_self_funded"),
              ("google_ai_ultra_price_2026", "lab_self_funded"))
HIGH_TIER_TOLERANCE = 1.25


def group_of(series: str) -> str | None:
    """The group name of a series of :data:`GROUPS`, or None."""
    return next((g for g, names in GROUPS.items() if series in names), None)


def selected(table: TargetTable, rounds: int) -> TargetTable:
    """The table cut to the targets of groups 2-4 that read only recorded rounds (1 … ``rounds``)."""
    keep = tuple(t for t in table.targets if group_of(t.series) and t.start >= 1 and t.end <= rounds)
    return dataclasses.replace(table, targets=keep)


def band(figure: float, tolerance: float, compare: str, bound: str) -> str:
    """The tolerance band in the figure's unit, as text."""
    lo, hi = (figure / tolerance, figure * tolerance) if compare == "log" else (figure - tolerance, figure + tolerance)
    if bound == "lower":
        return f"≥ {lo:.4g}"
    if bound == "upper":
        return f"≤ {hi:.4g}"
    return f"{lo:.4g} – {hi:.4g}"


def fit(table: TargetTable, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per target of ``table``: figure, model seed mean and range, band, verdict, z.

    Args:
        table: the cut targets table.
        frames: one :func:`moment_frame` per seed.
    """
    names = table.names()
    moments = [f[f["kind"] == "moment"].set_index("name").reindex(names) for f in frames]
    values = np.array([m["value"].to_numpy(float) for m in moments])   # (seeds, targets)
    d = np.array([m["d"].to_numpy(float) for m in moments])
    missing = np.array([m["missing"].to_numpy(bool) for m in moments])
    bounds = [t.bound for t in table.targets]
    z = mean_errors(d, bounds) / np.asarray(table.scales())
    rows = []
    for i, t in enumerate(table.targets):
        s = table.series[t.series]
        v = values[:, i]
        finite = v[np.isfinite(v)]
        if missing[:, i].all():
            verdict = "missing"
        else:
            verdict = "inside" if abs(z[i]) <= 1 else ("below" if z[i] < 0 else "above")
        model = float(np.exp(np.log(finite[finite > 0]).mean())) if s.compare == "log" and (finite > 0).any() \
            else (float(finite.mean()) if finite.size else math.nan)
        rows.append({"group": group_of(t.series), "target": t.name, "when": t.when,
                     "year": 1 if t.end <= YEAR_ONE_LAST_ROUND else 2, "series": t.series,
                     "unit": s.unit if s.unit != "one" else "", "figure": t.value, "model": model,
                     "seed_lo": float(finite.min()) if finite.size else math.nan,
                     "seed_hi": float(finite.max()) if finite.size else math.nan,
                     "band": band(t.value, t.tolerance, s.compare, t.bound), "verdict": verdict, "z": float(z[i]),
                     "weight": t.weight})
    return pd.DataFrame(rows)


def high_tiers(agents: list[pd.DataFrame], rounds: int) -> pd.DataFrame:
    """The rows of :data:`HIGH_TIERS` beside the lab's second plan price, mean over year 1 and over the rest of the
    run (seeds pooled), with the band figure ÷/× :data:`HIGH_TIER_TOLERANCE` and the verdict."""
    spans = [("year 1", 1, YEAR_ONE_LAST_ROUND), ("year 2+", YEAR_ONE_LAST_ROUND + 1, rounds)]
    rows = []
    for key, lab in HIGH_TIERS:
        figure = path_targets.value(key)
        rec = {"row": key, "as_of": path_targets.row(key)["as_of"], "lab": lab, "figure": figure,
               "band": f"{figure / HIGH_TIER_TOLERANCE:.4g} – {figure * HIGH_TIER_TOLERANCE:.4g}"}
        for label, lo, hi in spans:
            if lo > hi:
                continue
            prices = pd.concat([a[(a["name"] == lab) & a["round"].between(lo, hi)]["plan2_price_usd_per_month"]
                                for a in agents])
            model = float(prices.mean()) if len(prices) else math.nan
            inside = figure / HIGH_TIER_TOLERANCE <= model <= figure * HIGH_TIER_TOLERANCE
            rec[label] = model
            rec[f"{label} verdict"] = "inside" if inside else ("below" if model < figure else "above")
        rows.append(rec)
    return pd.DataFrame(rows)


def rows_not_read(full: TargetTable, cut: TargetTable) -> list[tuple[str, str]]:
    """(key, why) for every row of groups 2-4 of the paths table that no target of ``cut`` reads."""
    keys = path_targets.keys()
    block = keys[keys.index(FIRST_KEY): keys.index(LAST_KEY) + 1]
    read = {k for t in cut.targets for k in t.keys}
    later = {k: t for t in full.targets for k in t.keys if group_of(t.series)}
    unused = {u.key: u.reason for u in full.unused}
    out = []
    for k in block:
        if k in read:
            continue
        if k in unused:
            out.append((k, f"not a target: {unused[k]}"))
        elif k in later:
            out.append((k, f"read by {later[k].name} at {later[k].when} (round {later[k].end:g}), after the run"))
        else:
            out.append((k, "read by no target of these series"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--free-tier", default="chosen", choices=("chosen", *MOVES["free_tier"]))
    ap.add_argument("--csv", default=None, help="also write the table here")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    full = load_targets()
    cut = selected(full, args.rounds)
    cfg = config_from(args.scenario, {"customers.n_customers": args.customers})
    if args.free_tier != "chosen":
        forced = [{"firm": lab.name, "move": "free_tier", "option": args.free_tier} for lab in cfg.labs]
        cfg = config_from(args.scenario, {"customers.n_customers": args.customers, "forced": forced})
    frames, agents = [], []
    t0 = time.process_time()
    for seed in seeds:
        res = run_once(cfg, seed, args.rounds)
        frames.append(moment_frame(cut, res.model, res.agents))
        agents.append(res.agents)
    cpu = time.process_time() - t0
    table = fit(cut, frames)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 40)
    print(f"{args.scenario} (free tiers: {args.free_tier}): {args.customers:,} customers, {args.rounds} rounds (round 0 = July 2024), seeds "
          f"{seeds}; targets of runs/calibration/targets.toml on groups 2-4; {cpu:.0f} s CPU")
    for year in (1, 2):
        part = table[table["year"] == year]
        if part.empty:
            continue
        print(f"\nYear {year} ({'Aug 2024 - Jun 2025' if year == 1 else 'Jul 2025 on'}): "
              f"{(part['verdict'] == 'inside').sum()} of {len(part)} inside their band")
        print(part[["group", "target", "when", "unit", "figure", "model", "seed_lo", "seed_hi", "band", "verdict",
                    "z"]].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print("\nHigher plan tiers (not targets of the table) beside each lab's second plan price, $/month")
    print(high_tiers(agents, args.rounds).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print("\nRows of groups 2-4 not read in this span:")
    for key, why in rows_not_read(full, cut):
        print(f"  {key}: {why}")
    if args.csv:
        table.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
