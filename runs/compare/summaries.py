"""Tables of a finished (or partly finished) study: key series with bands, paired differences with confidence
intervals, outcome frequencies with Wilson intervals and their differences. Pure functions of a
:class:`~runs.compare.study.Study`; :func:`write_summaries` is the one writer (through ``runs.io``).

All series are per round (a month); a difference is arm a − arm b within a replicate (same seed, same draw:
common random numbers), averaged over replicates with a Student-t interval.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import date_of
from market.outcomes import OUTCOMES, independent_share
from runs import io
from runs.compare.stats import mean_interval, newcombe_interval, wilson_interval
from runs.compare.study import Study

SERIES_CSV, DIFFERENCES_CSV, FREQUENCIES_CSV, FREQ_DIFF_CSV = (
    "series.csv", "differences.csv", "frequencies.csv", "frequency_differences.csv")
CONFIDENCE = 0.95
INDEPENDENT_SHARE = "independent_share_of_firms_value"  # derived here from the value columns (market.outcomes)
# The series a comparison shows: (model.csv column, label with unit).
KEY_SERIES: tuple[tuple[str, str], ...] = (
    ("lerner_api_marginal_cost", "API margin on marginal cost (Lerner index)"),
    (INDEPENDENT_SHARE, "independent apps' share of firms' value (fraction)"),
    ("api_price_usd_per_mtok", "API price ($/Mtok)"),
    ("value_consumers_usd", "consumer surplus ($/month)"),
    ("value_labs_usd", "value captured by labs ($/month)"),
    ("value_independent_apps_usd", "value captured by independent apps ($/month)"),
    ("roic_labs_per_year", "labs' return on invested capital (per year)"),
    ("subsidy_usd", "below-unit-cost sales of APIs ($/month)"),
    ("hhi_api", "HHI of the API market (0–10,000)"),
    ("n_wrappers", "independent wrappers alive"),
)


def key_rounds(study: Study) -> pd.DataFrame:
    """The rounds table with the derived key series added (``independent_share_of_firms_value``)."""
    r = study.rounds.copy()
    if len(r):
        r[INDEPENDENT_SHARE] = independent_share(r)
    return r


def horizon_of(study: Study, arm: str) -> int:
    """Months each run of ``arm`` lasts (the study's --rounds, else the arm's config)."""
    return next(a for a in study.plan.arms if a.label == arm).horizon(study.plan.rounds)


def series(study: Study) -> pd.DataFrame:
    """Key series (:data:`KEY_SERIES` present in the rounds) per arm and round over replicates: arm, round,
    metric, n, q05, q25, median, q75, q95 (the 90 % and 50 % bands)."""
    from runs.compare.stats import bands

    r = key_rounds(study)
    cols = [c for c, _ in KEY_SERIES if c in r.columns]
    if r.empty or not cols:
        return pd.DataFrame(columns=["arm", "round", "metric", "n", "q05", "q25", "median", "q75", "q95"])
    return bands(r, ["arm", "round"], cols)


def differences(study: Study, a: str, b: str, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Paired differences a − b of the key series per round: round, metric, n_pairs, mean_difference, ci_low,
    ci_high (Student-t at ``confidence`` over replicates), median_difference. Pairs are (replicate, round)
    present in both arms."""
    r = key_rounds(study)
    cols = [c for c, _ in KEY_SERIES if c in r.columns]
    rows = []
    if not r.empty and cols:
        left = r[r["arm"] == a].set_index(["replicate", "round"])[cols]
        right = r[r["arm"] == b].set_index(["replicate", "round"])[cols]
        diff = (left.apply(pd.to_numeric, errors="coerce") - right.apply(pd.to_numeric, errors="coerce")).dropna(how="all")
        for rnd, g in diff.groupby(level="round", sort=True):
            for c in cols:
                mean, lo, hi, n = mean_interval(g[c].to_numpy(float), confidence)
                x = g[c].to_numpy(float)
                x = x[np.isfinite(x)]
                rows.append(dict(round=int(rnd), metric=c, n_pairs=n, mean_difference=mean, ci_low=lo, ci_high=hi,
                                 median_difference=float(np.median(x)) if x.size else np.nan))
    return pd.DataFrame(rows, columns=["round", "metric", "n_pairs", "mean_difference", "ci_low", "ci_high",
                                       "median_difference"])


def fired(values: pd.Series) -> pd.Series:
    """Outcome flags as booleans, whether read back from CSV ("True"/"False", 1/0) or not."""
    return values.map(lambda v: str(v).strip() in ("True", "1", "1.0"))


def outcome_frequencies(runs: pd.DataFrame, by: list[str], confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per group of ``by`` and outcome of :data:`market.outcomes.OUTCOMES`, over the successful runs of
    ``runs`` (a runs.csv table with ``status`` and ``outcome_*`` columns): by…, outcome, runs, fired, frequency,
    wilson_low, wilson_high (at ``confidence``), failed (runs that raised, not counted)."""
    rows = []
    groups = runs.groupby(by, sort=True, dropna=False) if by else [((), runs)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        ok = g[g["status"] == "ok"] if "status" in g else g
        for name in OUTCOMES:
            col = f"outcome_{name}"
            k = int(fired(ok[col]).sum()) if col in ok else 0
            lo, hi = wilson_interval(k, len(ok), confidence)
            rows.append({**dict(zip(by, key)), "outcome": name, "runs": len(ok), "fired": k,
                         "frequency": k / len(ok) if len(ok) else np.nan, "wilson_low": lo, "wilson_high": hi,
                         "failed": len(g) - len(ok)})
    return pd.DataFrame(rows, columns=[*by, "outcome", "runs", "fired", "frequency", "wilson_low", "wilson_high",
                                       "failed"])


def frequencies(study: Study, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Outcome frequencies per arm (:func:`outcome_frequencies`) with the arm's scenario, horizon_months and
    horizon_date (the month of the last round), arms in plan order."""
    freq = outcome_frequencies(study.runs, ["arm"], confidence)
    arms = {a.label: a for a in study.plan.arms}
    freq = freq[freq["arm"].isin(arms)]
    freq.insert(1, "scenario", freq["arm"].map(lambda a: arms[a].scenario))
    freq["horizon_months"] = freq["arm"].map(lambda a: arms[a].horizon(study.plan.rounds))
    freq["horizon_date"] = freq["horizon_months"].map(date_of)
    order = {label: i for i, label in enumerate(arms)}
    return freq.sort_values("arm", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def frequency_differences(study: Study, a: str, b: str, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per outcome: frequency in a − frequency in b with Newcombe's interval, and the discordant replicate pairs
    (fired in a only, in b only: with common random numbers, the pairs that the condition changed)."""
    freq = frequencies(study, confidence).set_index(["arm", "outcome"])
    ok = study.runs[study.runs["status"] == "ok"]
    rows = []
    for name in OUTCOMES:
        fa, fb = freq.loc[(a, name)], freq.loc[(b, name)]
        lo, hi = newcombe_interval(int(fa["fired"]), int(fa["runs"]), int(fb["fired"]), int(fb["runs"]), confidence)
        col = f"outcome_{name}"
        only_a = only_b = 0
        if col in ok:
            flag = ok[["replicate", "arm"]].assign(hit=fired(ok[col]))
            wide = flag.pivot_table(index="replicate", columns="arm", values="hit", aggfunc="first").dropna()
            if a in wide and b in wide:
                only_a = int((wide[a].astype(bool) & ~wide[b].astype(bool)).sum())
                only_b = int((wide[b].astype(bool) & ~wide[a].astype(bool)).sum())
        rows.append(dict(outcome=name, frequency_a=fa["frequency"], frequency_b=fb["frequency"],
                         difference=fa["frequency"] - fb["frequency"], newcombe_low=lo, newcombe_high=hi,
                         pairs_a_only=only_a, pairs_b_only=only_b))
    return pd.DataFrame(rows)


def write_summaries(study: Study) -> list[Path]:
    """Write series.csv and frequencies.csv (and, for a comparison, differences.csv and
    frequency_differences.csv) into the study folder; returns the paths."""
    out = study.folder
    tables = {SERIES_CSV: series(study), FREQUENCIES_CSV: frequencies(study)}
    if study.plan.kind == "compare":
        a, b = (arm.label for arm in study.plan.arms)
        tables[DIFFERENCES_CSV] = differences(study, a, b)
        tables[FREQ_DIFF_CSV] = frequency_differences(study, a, b)
    for name, df in tables.items():
        io.write_csv(out / name, df)
    return [out / name for name in tables]


def frequency_text(freq: pd.DataFrame) -> str:
    """The frequency table for the terminal: one line per arm and outcome, fired/runs, frequency and its
    Wilson interval, then the horizon."""
    if freq.empty:
        return "no finished runs"
    width = max(len(s) for s in freq["scenario"]) + 2
    lines = [f"{'scenario':<{width}}{'outcome':<24}{'fired':>9}{'freq':>7}   95% Wilson interval   horizon"]
    for r in freq.itertuples():
        freq_text = f"{r.frequency:.0%}" if r.runs else "n/a"
        ci = f"[{r.wilson_low:.0%}, {r.wilson_high:.0%}]" if r.runs else "n/a"
        lines.append(f"{r.scenario:<{width}}{r.outcome:<24}{f'{r.fired}/{r.runs}':>9}{freq_text:>7}   {ci:<20}  "
                     f"{r.horizon_months} months ({r.horizon_date})")
    return "\n".join(lines)
