"""Outcome detectors (DESIGN.md §1 Q3–Q5, §5 ``outcomes.json``): pure functions of a run's recorded tables.

Inputs are the DataFrames written to model.csv, agents.csv and events.csv (see ``market/recording.py``); no model
object is needed, so a finished run folder can be re-judged with other thresholds. Thresholds come from
:class:`market.config.OutcomesConfig`. Conventions used throughout:

* a *round* is the value of the ``round`` column (a month); a run of rounds is "consecutive" when round numbers
  step by exactly 1 (a missing round breaks a spell);
* a condition on a NaN figure (no sales, no gross profit) is False;
* money is in $ (per month for flows, summed over months for totals), prices and unit costs in $/Mtok.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market.config import VERTICALS, OutcomesConfig

OUTCOME_COLUMNS = ("outcome_dumb_pipe", "outcome_loss_leading", "outcome_vertical_takeover")
API_TYPES = ("lab", "provider")
ENTRY_KINDS = ("vertical_launch", "acquisition")
APP_VERTICALS = tuple(v for v in VERTICALS if v != "general_chat")
EVENT_COLUMNS = ("round", "kind", "actor", "target", "amount", "unit", "vertical")
ID_COLUMNS = ("round", "seed", "run_id")  # bookkeeping, not measures: left out of summary_metrics


@dataclass
class Outcomes:
    """Detector results of one run.

    ``per_round``: same index as the ``model_df`` given to :func:`detect` (row i ↔ that row's ``round``), with
    columns ``outcome_dumb_pipe`` (bool), ``outcome_loss_leading`` (int, firms) and ``outcome_vertical_takeover``
    (bool); ``model_df.join(per_round)`` adds them. ``verdicts``: JSON-serialisable dict for outcomes.json.
    """

    per_round: pd.DataFrame
    verdicts: dict = field(default_factory=dict)

    def flags(self) -> dict[str, bool]:
        """One bool per outcome: dumb_pipe, loss_leading, loss_leading_recouped, vertical_takeover."""
        v = self.verdicts
        return {"dumb_pipe": bool(v["dumb_pipe"]["detected"]),
                "loss_leading": bool(v["loss_leading"]["detected"]),
                "loss_leading_recouped": bool(v["loss_leading"]["recouped"]),
                "vertical_takeover": bool(v["vertical_takeover"]["detected"])}


# ------------------------------------------------------------------------------------------------ helpers

def _py(x: Any) -> Any:
    """Recursively turn numpy/pandas scalars into Python ones and NaN/inf into None (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _py(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_py(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    """Column as float array (NaN where absent or non-numeric)."""
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)


def streaks(cond: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    """Trailing run length (rounds) of True in ``cond`` ending at each row; resets on False or a round gap.

    ``cond`` bool (n,), ``rounds`` int (n,) ascending. Returns int (n,).
    """
    out = np.zeros(len(cond), dtype=int)
    for i, c in enumerate(cond):
        if c:
            out[i] = out[i - 1] + 1 if i and rounds[i] == rounds[i - 1] + 1 else 1
    return out


def _spells(s: np.ndarray) -> list[tuple[int, int]]:
    """Maximal spells (first row, last row) from a streak array: a spell ends where the next streak is not +1."""
    ends = [i for i in range(len(s)) if s[i] > 0 and (i + 1 == len(s) or s[i + 1] != s[i] + 1)]
    return [(i - s[i] + 1, i) for i in ends]


def _events(events_df: pd.DataFrame | None) -> pd.DataFrame:
    """Events with every expected column present (missing text columns as '', missing numbers as NaN)."""
    ev = pd.DataFrame(columns=list(EVENT_COLUMNS)) if events_df is None else events_df.copy()
    for c in EVENT_COLUMNS:
        if c not in ev.columns:
            ev[c] = np.nan if c in ("round", "amount") else ""
    ev[["kind", "actor", "target", "vertical"]] = ev[["kind", "actor", "target", "vertical"]].fillna("").astype(str)
    ev["round"] = pd.to_numeric(ev["round"], errors="coerce")
    return ev[ev["round"].notna()]


def _counts(counts: dict[int, int], rounds: np.ndarray | None) -> pd.Series:
    """Firm counts by round as an int Series (indexed by ``rounds`` when given, zeros filled in)."""
    series = pd.Series(counts, dtype=int)
    return series if rounds is None else series.reindex(rounds, fill_value=0).astype(int)


# ---------------------------------------------------------------------------------------------- dumb pipe

def dumb_pipe(model_df: pd.DataFrame, cfg: OutcomesConfig) -> tuple[np.ndarray, dict]:
    """Q3, the API as a dumb pipe, on model rows sorted by round.

    Condition in a round: ``lerner_api`` (Lerner index, fraction) < ``cfg.dumb_pipe_lerner_max`` AND
    ``app_share_of_gross_profit`` (fraction) > ``cfg.dumb_pipe_app_share_min``. Detected once it has held for
    ``cfg.window_months`` consecutive rounds. Returns (per-row bool: the condition has held for the trailing
    window, verdict dict: detected, first_round (the round the window first completed), rounds_held (rounds
    the condition held in total), longest spell (start, end, rounds) with its mean lerner_api and app share).
    """
    rounds = model_df["round"].to_numpy(dtype=int) if "round" in model_df else np.arange(len(model_df))
    missing = [c for c in ("lerner_api", "app_share_of_gross_profit") if c not in model_df.columns]
    lerner, share = _num(model_df, "lerner_api"), _num(model_df, "app_share_of_gross_profit")
    with np.errstate(invalid="ignore"):
        cond = (lerner < cfg.dumb_pipe_lerner_max) & (share > cfg.dumb_pipe_app_share_min)
    s = streaks(cond, rounds)
    held = s >= cfg.window_months
    verdict: dict[str, Any] = dict(detected=bool(held.any()), first_round=int(rounds[held.argmax()]) if held.any() else None,
                                   rounds_held=int(cond.sum()), longest_spell=None, missing_columns=missing)
    spells = _spells(s)
    if spells:
        a, b = max(spells, key=lambda ab: (ab[1] - ab[0], -ab[0]))
        verdict["longest_spell"] = dict(start=int(rounds[a]), end=int(rounds[b]), rounds=int(b - a + 1),
                                        mean_lerner_api=float(lerner[a:b + 1].mean()),
                                        mean_app_share_of_gross_profit=float(share[a:b + 1].mean()))
    return held, verdict


# ------------------------------------------------------------------------------------------- loss leading

def loss_leading(agents_df: pd.DataFrame, events_df: pd.DataFrame | None, cfg: OutcomesConfig,
                 rounds: np.ndarray | None = None) -> tuple[pd.Series, dict]:
    """Q4, loss leading by API sellers (agents.csv rows of type lab/provider with ``price_unit == 'usd_per_mtok'``).

    A firm is below cost in a round when ``price`` < ``unit_cost`` ($/Mtok, both finite) and ``tokens_mtok`` > 0;
    a spell is ≥ ``cfg.loss_leading_window_months`` consecutive such rounds. Per spell: firm, type, start, end,
    rounds, ongoing (still running in the last recorded round), subsidy_usd = Σ (unit_cost − price) × tokens_mtok
    ($), funding (the firm's ``funding`` value), funding_inflow_usd (Σ ``funding_inflow_usd`` over the spell, $;
    None when agents.csv lacks the column), recouped, recoup_round, rival_exits, firm_exited, exit_round.
    Recouped: at some round r after the spell, before the firm's own exit, its price ≥ unit_cost ×
    (1 + ``cfg.recoup_markup_min``) has held for ≥ the window, AND another API seller exited (events kind 'exit')
    in [spell start, r]; recoup_round is the first such r. App prices are not judged (no app unit cost recorded).
    Returns (firms in a spell whose trailing length ≥ the window, by round, int; verdict dict).
    """
    L = cfg.loss_leading_window_months
    need = ("round", "name", "price", "unit_cost", "tokens_mtok")
    missing = [c for c in need if c not in agents_df.columns]
    verdict: dict[str, Any] = dict(detected=False, recouped=False, spells=[], missing_columns=missing)
    if missing:
        return _counts({}, rounds), verdict
    api = agents_df
    if "type" in api.columns:
        api = api[api["type"].isin(API_TYPES)]
    if "price_unit" in api.columns:
        api = api[api["price_unit"].fillna("usd_per_mtok") == "usd_per_mtok"]
    if "alive" in api.columns:  # the row of an exit round describes a dead firm; it cannot price
        api = api[api["alive"].fillna(True).astype(str).str.lower().isin(("true", "1", "1.0"))]
    ev = _events(events_df)
    exits = ev[ev["kind"] == "exit"]
    sellers = set(api["name"])
    last_round = pd.to_numeric(agents_df["round"], errors="coerce").max()
    counts: dict[int, int] = {}
    for name, g in api.sort_values("round").groupby("name", sort=True):
        r = g["round"].to_numpy(dtype=int)
        price, cost, tok = _num(g, "price"), _num(g, "unit_cost"), _num(g, "tokens_mtok")
        ok = np.isfinite(price) & np.isfinite(cost) & (tok > 0)
        with np.errstate(invalid="ignore"):
            below = ok & (price < cost)
            above = ok & (price >= cost * (1 + cfg.recoup_markup_min))
        s_below, s_above = streaks(below, r), streaks(above, r)
        for rr in r[s_below >= L]:
            counts[int(rr)] = counts.get(int(rr), 0) + 1
        own_exit = exits.loc[exits["actor"] == name, "round"]
        exit_round = int(own_exit.min()) if len(own_exit) else None
        for a, b in _spells(s_below):
            if b - a + 1 < L:
                continue
            sl = slice(a, b + 1)
            rival = exits[(exits["actor"] != name) & exits["actor"].isin(sellers) & (exits["round"] >= r[a])]
            recoup_round, rival_exits = None, []
            for i in range(b + 1, len(r)):
                if s_above[i] < L or (exit_round is not None and r[i] >= exit_round):
                    continue
                hit = rival[rival["round"] <= r[i]]
                if len(hit):
                    recoup_round = int(r[i])
                    rival_exits = [dict(round=int(x.round), firm=x.actor) for x in hit.itertuples()]
                    break
            inflow = float(np.nansum(_num(g, "funding_inflow_usd")[sl])) if "funding_inflow_usd" in g else None
            funding = g["funding"].iloc[a] if "funding" in g else None
            verdict["spells"].append(dict(
                firm=name, type=g["type"].iloc[a] if "type" in g else None, start=int(r[a]), end=int(r[b]),
                rounds=int(b - a + 1), ongoing=bool(r[b] == last_round),
                subsidy_usd=float(((cost - price) * tok)[sl].sum()),
                funding=None if pd.isna(funding) else str(funding), funding_inflow_usd=inflow,
                recouped=recoup_round is not None, recoup_round=recoup_round, rival_exits=rival_exits,
                firm_exited=exit_round is not None, exit_round=exit_round))
    verdict["detected"] = bool(verdict["spells"])
    verdict["recouped"] = any(sp["recouped"] for sp in verdict["spells"])
    return _counts(counts, rounds), verdict


# -------------------------------------------------------------------------------------- vertical takeover

def _entry_events(ev: pd.DataFrame, v: str, agent_vertical: dict[str, str], agent_type: dict[str, str]) -> pd.DataFrame:
    """Lab entries into vertical v: vertical_launch/acquisition events whose ``vertical`` is v (else ``target``
    is v, else, for acquisitions, the acquired wrapper's vertical in agents.csv is v); non-lab actors dropped."""
    e = ev[ev["kind"].isin(ENTRY_KINDS)]
    vert = e["vertical"].where(e["vertical"] != "", e["target"].where(e["target"].isin(VERTICALS),
                                                                        e["target"].map(agent_vertical).fillna("")))
    e = e[(vert == v) & (e["actor"].map(agent_type).fillna("lab") == "lab")]
    return e.sort_values("round", kind="stable")


def vertical_takeover(model_df: pd.DataFrame, agents_df: pd.DataFrame, events_df: pd.DataFrame | None,
                      cfg: OutcomesConfig) -> tuple[np.ndarray, dict]:
    """Q5, labs taking over verticals wrappers proved, per vertical v in ``APP_VERTICALS`` (not general_chat).

    Uses model columns ``lab_revenue_share_<v>`` and ``wrapper_revenue_share_<v>`` (fractions of v's revenue;
    absent → no takeover in v). Wrapper-led: ``wrapper_revenue_share_v`` ≥ ``cfg.wrapper_lead_share_min`` in some
    round before the first lab entry into v (events kind vertical_launch/acquisition; see ``_entry_events``), or
    in any round if labs never entered. Takeover established at the first round r ≥ the entry round where
    ``lab_revenue_share_v`` > ``cfg.takeover_lab_share_min`` and ≥ 1 wrapper of v (agents.csv ``vertical``)
    exited or was acquired in v at a round ≤ r. Returns (per-row bool: some vertical taken over by then,
    verdict: detected, first_round, and per vertical wrapper_led, wrapper_led_round, wrapper_share_then,
    entry_round/kind/actor, takeover, takeover_round, lab_share_then, wrapper_exits, acquisitions).
    """
    rounds = model_df["round"].to_numpy(dtype=int) if "round" in model_df else np.arange(len(model_df))
    ev = _events(events_df)
    has = {c: c in agents_df.columns for c in ("name", "vertical", "type")}
    agent_vertical = (agents_df.dropna(subset=["vertical"]).groupby("name")["vertical"].last().astype(str).to_dict()
                      if has["name"] and has["vertical"] else {})
    agent_type = agents_df.groupby("name")["type"].last().astype(str).to_dict() if has["name"] and has["type"] else {}
    per_vertical: dict[str, dict] = {}
    for v in APP_VERTICALS:
        lab_col, wr_col = f"lab_revenue_share_{v}", f"wrapper_revenue_share_{v}"
        out: dict[str, Any] = dict(wrapper_led=False, wrapper_led_round=None, wrapper_share_then=None,
                                   entry_round=None, entry_kind=None, entry_actor=None, takeover=False,
                                   takeover_round=None, lab_share_then=None, wrapper_exits=[], acquisitions=[],
                                   missing_columns=[c for c in (lab_col, wr_col) if c not in model_df.columns])
        per_vertical[v] = out
        lab, wr = _num(model_df, lab_col), _num(model_df, wr_col)
        entries = _entry_events(ev, v, agent_vertical, agent_type)
        wrappers = {n for n, t in agent_type.items() if t == "wrapper" and agent_vertical.get(n) == v}
        exits = ev[(ev["kind"] == "exit") & ev["actor"].isin(wrappers)]
        acq = entries[entries["kind"] == "acquisition"]
        out["wrapper_exits"] = [dict(round=int(x.round), firm=x.actor) for x in exits.itertuples()]
        out["acquisitions"] = [dict(round=int(x.round), actor=x.actor, target=x.target) for x in acq.itertuples()]
        if len(entries):
            first = entries.iloc[0]
            out.update(entry_round=int(first["round"]), entry_kind=first["kind"], entry_actor=first["actor"])
        before = rounds < out["entry_round"] if out["entry_round"] is not None else np.ones(len(rounds), bool)
        with np.errstate(invalid="ignore"):
            led = before & (wr >= cfg.wrapper_lead_share_min)
        if led.any():
            i = int(led.argmax())
            out.update(wrapper_led=True, wrapper_led_round=int(rounds[i]), wrapper_share_then=float(wr[i]))
        if not out["wrapper_led"] or out["entry_round"] is None:
            continue
        gone = np.sort(np.concatenate([exits["round"].to_numpy(float), acq["round"].to_numpy(float)]))
        with np.errstate(invalid="ignore"):
            hit = ((rounds >= out["entry_round"]) & (lab > cfg.takeover_lab_share_min)
                   & (np.searchsorted(gone, rounds, side="right") > 0))
        if hit.any():
            i = int(hit.argmax())
            out.update(takeover=True, takeover_round=int(rounds[i]), lab_share_then=float(lab[i]))
    taken = [o["takeover_round"] for o in per_vertical.values() if o["takeover"]]
    first_round = min(taken) if taken else None
    flags = rounds >= first_round if first_round is not None else np.zeros(len(rounds), bool)
    return flags, dict(detected=bool(taken), first_round=first_round, verticals=per_vertical)


# ---------------------------------------------------------------------------------------------- the run

def detect(model_df: pd.DataFrame, agents_df: pd.DataFrame, events_df: pd.DataFrame | None,
           cfg: OutcomesConfig | None = None) -> Outcomes:
    """Run the three detectors on one run's tables (model.csv, agents.csv, events.csv as DataFrames).

    ``cfg`` defaults to ``OutcomesConfig()``. Returns :class:`Outcomes`: ``per_round`` aligned with ``model_df``'s
    index (rows may come in any order) and ``verdicts`` = {thresholds, dumb_pipe, loss_leading,
    vertical_takeover} as documented in :func:`dumb_pipe`, :func:`loss_leading` and :func:`vertical_takeover`.
    """
    cfg = cfg or OutcomesConfig()
    m = model_df.sort_values("round", kind="stable") if "round" in model_df.columns else model_df
    rounds = m["round"].to_numpy(dtype=int) if "round" in m.columns else np.arange(len(m))
    agents_df = agents_df if agents_df is not None else pd.DataFrame()
    dp_flags, dp = dumb_pipe(m, cfg)
    ll_counts, ll = loss_leading(agents_df, events_df, cfg, rounds)
    vt_flags, vt = vertical_takeover(m, agents_df, events_df, cfg)
    per_round = pd.DataFrame({"outcome_dumb_pipe": dp_flags.astype(bool),
                              "outcome_loss_leading": ll_counts.to_numpy(dtype=int),
                              "outcome_vertical_takeover": vt_flags.astype(bool)}, index=m.index)
    per_round = per_round.reindex(model_df.index)
    verdicts = _py(dict(thresholds=cfg.model_dump(), dumb_pipe=dp, loss_leading=ll, vertical_takeover=vt))
    return Outcomes(per_round=per_round, verdicts=verdicts)


def summary_metrics(model_df: pd.DataFrame) -> dict[str, float]:
    """Per-run summary for sweeps: ``rounds`` (rows) and, for every numeric/bool model column but ``ID_COLUMNS``,
    ``last_<col>`` (its value in the last round, NaN if NaN there) and ``mean_<col>`` (mean over rounds with a
    finite value, NaN if none). Units are the columns' own (e.g. $/Mtok, $/month, fractions)."""
    if model_df is None or len(model_df) == 0:
        return {"rounds": 0}
    m = model_df.sort_values("round", kind="stable") if "round" in model_df.columns else model_df
    out: dict[str, float] = {"rounds": int(len(m))}
    for col in m.columns:
        if col in ID_COLUMNS or not (pd.api.types.is_numeric_dtype(m[col]) or pd.api.types.is_bool_dtype(m[col])):
            continue
        x = pd.to_numeric(m[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        fin = x[np.isfinite(x)]
        out[f"last_{col}"] = float(x[-1])
        out[f"mean_{col}"] = float(fin.mean()) if fin.size else float("nan")
    return out
