"""Outcome detectors that test the concepts (DESIGN.md §1 Q3–Q5, §6): pure functions of a run's recorded tables.

Inputs are the DataFrames written to model.csv, agents.csv and events.csv (``market/recording.py``; the measures
they read are defined in ``market/value.py``); no model object is needed, so a finished run folder can be
re-judged with other thresholds (:class:`market.config.OutcomesConfig`, argued in docs/outcomes.md).

* **Dumb pipe** (Q3): the API's margin on *marginal* cost near zero *and* independent apps capturing most of the
  value firms capture, held on a trailing window (the last two years), so that a price war's transient or a lab
  whose own app keeps the value does not count.
* **Loss leading** (Q4): a price below average total cost that the firm *chose* — rounds in which agents.csv's
  ``conduct`` is ``penetration`` (or, without that column, the last ``decision`` event of move ``api_conduct``
  played penetration). Price below average avoidable cost and below average total cost are reported apart;
  below-cost pricing that was not chosen (idle capacity after a shock) is listed apart and is not loss leading.
* **Recoupment**: after a spell, the firm's discounted excess API profit (price above average total cost) covers
  the spell's discounted subsidy at the firm's own cost of capital (``market.objective``).
* **Vertical takeover** (Q5): in a vertical wrappers led, labs' *organic* revenue share (what acquired wrappers
  brought counted apart, at its run rate when bought) above a threshold for months, with independent wrappers of
  the vertical exiting after the labs came.

Conventions: a *round* is the ``round`` column (a month); a condition on a NaN figure is False; money in $ (per
month for flows), prices and costs in $ per frontier-equivalent Mtok.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market.config import VERTICALS, FinanceConfig, OutcomesConfig
from market.objective import monthly_rate

OUTCOMES = ("dumb_pipe", "loss_leading", "loss_leading_recouped", "vertical_takeover")
OUTCOME_COLUMNS = ("outcome_dumb_pipe", "outcome_loss_leading", "outcome_vertical_takeover")
API_TYPES = ("lab", "provider")
ENTRY_KINDS = ("vertical_launch", "acquisition")
APP_VERTICALS = tuple(v for v in VERTICALS if v != "general_chat")
EVENT_COLUMNS = ("round", "kind", "actor", "target", "amount", "unit", "vertical", "detail")
ID_COLUMNS = ("round", "seed", "run_id")  # bookkeeping, not measures: left out of summary_metrics
PENETRATION = "penetration"
CONDUCT_MOVE = "api_conduct"


@dataclass
class Outcomes:
    """Detector results of one run.

    ``per_round``: same index as the ``model_df`` given to :func:`detect`, with columns ``outcome_dumb_pipe``
    (bool: the trailing window qualifies at that round), ``outcome_loss_leading`` (int: firms in a chosen
    below-cost spell of at least the minimum length by then) and ``outcome_vertical_takeover`` (bool: some
    vertical taken over by then); ``model_df.join(per_round)`` adds them. ``verdicts``: JSON-ready dict for
    outcomes.json.
    """

    per_round: pd.DataFrame
    verdicts: dict = field(default_factory=dict)

    def flags(self) -> dict[str, bool]:
        """One bool per outcome of :data:`OUTCOMES`: the verdict at the run's horizon."""
        return flags_of(self.verdicts)


def flags_of(verdicts: dict) -> dict[str, bool]:
    """The four outcome flags (:data:`OUTCOMES`) of a verdicts dict (outcomes.json)."""
    v = verdicts
    return {"dumb_pipe": bool(v["dumb_pipe"]["detected"]), "loss_leading": bool(v["loss_leading"]["detected"]),
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


def _num(df: pd.DataFrame, col: str, fallback: str | None = None) -> np.ndarray:
    """Column as float array (``fallback`` column if ``col`` is absent; NaN where absent or non-numeric)."""
    if col not in df.columns:
        if fallback is not None and fallback in df.columns:
            col = fallback
        else:
            return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)


def _mean(x: np.ndarray) -> float | None:
    fin = x[np.isfinite(x)]
    return float(fin.mean()) if fin.size else None


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
    text = ["kind", "actor", "target", "vertical", "detail"]
    ev[text] = ev[text].fillna("").astype(str)
    ev["round"] = pd.to_numeric(ev["round"], errors="coerce")
    ev["amount"] = pd.to_numeric(ev["amount"], errors="coerce").fillna(0.0)
    return ev[ev["round"].notna()]


def _detail(text: str) -> dict:
    """A decision event's ``detail`` JSON ({} when empty or unreadable)."""
    try:
        out = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _rounds_of(df: pd.DataFrame) -> np.ndarray:
    return df["round"].to_numpy(dtype=int) if "round" in df.columns else np.arange(len(df))


def _alive_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of firms alive at the end of the round (an exit round's row describes a firm that is gone)."""
    if "alive" not in df.columns:
        return df
    return df[df["alive"].fillna(True).astype(str).str.lower().isin(("true", "1", "1.0"))]


# ---------------------------------------------------------------------------------------------- dumb pipe

def independent_share(model_df: pd.DataFrame) -> np.ndarray:
    """Independent apps' share of the value captured by firms, per model row (fraction): value_independent_apps
    / (value_labs + value_independent_apps + value_hosts), NaN where that sum is ≤ 0 or a column is missing."""
    indep = _num(model_df, "value_independent_apps_usd")
    firms = indep + _num(model_df, "value_labs_usd") + _num(model_df, "value_hosts_usd")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(firms > 0, indep / np.where(firms > 0, firms, 1.0), np.nan)


def dumb_pipe(model_df: pd.DataFrame, cfg: OutcomesConfig) -> tuple[np.ndarray, dict]:
    """Q3, the API as a dumb pipe, on model rows sorted by round.

    Legs in a round: ``lerner_api_marginal_cost`` (the API layer's revenue-weighted margin on marginal cost) <
    ``cfg.dumb_pipe_margin_max``, and :func:`independent_share` ≥ ``cfg.dumb_pipe_independent_share_min``. The
    window ending at round r is the ``W = cfg.dumb_pipe_window_months`` rounds r − W + 1 … r; it qualifies when
    the run has all W of them and both legs hold in at least ceil(``cfg.dumb_pipe_hold_share`` × W). Returns
    (per-row bool: the window ending there qualifies; verdict: ``detected`` (the window ending at the last
    round qualifies: the verdict at the horizon), ``judged`` (the run is at least W rounds long),
    ``first_round`` (first round whose window qualified), ``rounds_both_legs`` (rounds in the run where both
    legs held), and ``window`` — the last window's start, end, months, months_both_legs, months_needed,
    mean_margin_on_marginal_cost, mean_independent_share, mean_lerner_api (on unit cost),
    mean_deviation_gain_median_share (sellers' median static deviation gain: is the market near a static
    equilibrium?) and the value shares of labs, independent apps and hosts among firms over the window).
    """
    rounds = _rounds_of(model_df)
    need = ("lerner_api_marginal_cost", "value_independent_apps_usd", "value_labs_usd", "value_hosts_usd")
    missing = [c for c in need if c not in model_df.columns]
    margin, share = _num(model_df, "lerner_api_marginal_cost"), independent_share(model_df)
    with np.errstate(invalid="ignore"):
        both = (margin < cfg.dumb_pipe_margin_max) & (share >= cfg.dumb_pipe_independent_share_min)
    W = cfg.dumb_pipe_window_months
    needed = int(math.ceil(cfg.dumb_pipe_hold_share * W - 1e-9))
    held = np.zeros(len(rounds), bool)
    if len(rounds):
        first = rounds.min()
        cum = pd.Series(both.astype(int), index=rounds).groupby(level=0).max()
        full = cum.reindex(np.arange(first, rounds.max() + 1), fill_value=0).rolling(W, min_periods=1).sum()
        held = (rounds - first + 1 >= W) & (full.reindex(rounds).to_numpy() >= needed)
    verdict: dict[str, Any] = dict(detected=bool(held[-1]) if len(held) else False,
                                   judged=bool(len(rounds) and rounds.max() - rounds.min() + 1 >= W),
                                   first_round=int(rounds[held.argmax()]) if held.any() else None,
                                   rounds_both_legs=int(both.sum()), window=None, missing_columns=missing)
    if len(rounds):
        end = int(rounds.max())
        sel = rounds > end - W
        firms = (_num(model_df, "value_labs_usd") + _num(model_df, "value_independent_apps_usd")
                 + _num(model_df, "value_hosts_usd"))[sel]
        shares = {}
        for owner in ("labs", "independent_apps", "hosts"):
            part = _num(model_df, f"value_{owner}_usd")[sel]
            total = np.nansum(firms)
            shares[f"share_of_firms_value_{owner}"] = float(np.nansum(part) / total) if total > 0 else None
        verdict["window"] = dict(start=int(rounds[sel].min()), end=end, months=int(sel.sum()),
                                 months_both_legs=int(both[sel].sum()), months_needed=needed,
                                 mean_margin_on_marginal_cost=_mean(margin[sel]),
                                 mean_independent_share=_mean(share[sel]),
                                 mean_lerner_api=_mean(_num(model_df, "lerner_api")[sel]),
                                 mean_deviation_gain_median_share=_mean(_num(model_df, "deviation_gain_median_share")[sel]),
                                 **shares)
    return held, verdict


# ------------------------------------------------------------------------------------------- loss leading

def conduct_table(agents_df: pd.DataFrame, events_df: pd.DataFrame | None) -> pd.Series:
    """The API conduct each firm played each round, indexed like ``agents_df``: its ``conduct`` column (the
    contract of the moves engineer), else the option of the firm's latest ``decision`` event of move
    ``api_conduct`` at or before the round (detail JSON ``{"move": "api_conduct", …}``, option in ``target``),
    else ``best_response``."""
    if "conduct" in agents_df.columns:
        return agents_df["conduct"].fillna("best_response").astype(str)
    out = pd.Series("best_response", index=agents_df.index, dtype=object)
    ev = _events(events_df)
    dec = ev[(ev["kind"] == "decision") & ev["detail"].map(lambda d: _detail(d).get("move") == CONDUCT_MOVE)]
    if dec.empty or "name" not in agents_df.columns:
        return out
    for name, g in dec.sort_values("round", kind="stable").groupby("actor"):
        rows = agents_df.index[agents_df["name"] == name]
        r = pd.to_numeric(agents_df.loc[rows, "round"], errors="coerce").to_numpy()
        pos = np.searchsorted(g["round"].to_numpy(float), r, side="right") - 1
        played = np.where(pos >= 0, g["target"].to_numpy()[np.clip(pos, 0, None)], "best_response")
        out.loc[rows] = played
    return out


def _decision(events: pd.DataFrame, name: str, start: int) -> dict[str, Any]:
    """The api_conduct decision in force when a spell starts (the firm's latest at or before ``start``): its
    round, whether it was forced (a strategy game) and its forecast present-value gain over the default option
    (the event's amount, $); Nones when no decision event says."""
    dec = events[(events["kind"] == "decision") & (events["actor"] == name) & (events["round"] <= start)]
    dec = dec[dec["detail"].map(lambda d: _detail(d).get("move") == CONDUCT_MOVE)]
    if dec.empty:
        return dict(decision_round=None, forced=None, forecast_gain_usd=None)
    last = dec.sort_values("round", kind="stable").iloc[-1]
    return dict(decision_round=int(last["round"]), forced=bool(_detail(last["detail"]).get("forced", False)),
                forecast_gain_usd=float(last["amount"]))


def _recoupment(r: np.ndarray, excess: np.ndarray, a: int, b: int, rate: float, alive_to: int | None,
                last_round: int) -> dict[str, Any]:
    """Discount the spell's subsidy and the later excess profit to the spell's start at ``rate`` (monthly) and
    find the round where the cumulative discounted excess first covers the subsidy."""
    disc = (1.0 + rate) ** -(r - r[a]).astype(float)
    pv_subsidy = float(np.nansum(-excess[a:b + 1] * disc[a:b + 1]))
    after = np.arange(b + 1, len(r))
    if alive_to is not None:
        after = after[r[after] < alive_to]
    cum = np.cumsum(np.nan_to_num(excess[after]) * disc[after]) if after.size else np.zeros(0)
    hit = np.nonzero(cum >= pv_subsidy)[0]
    recoup_round = int(r[after[hit[0]]]) if hit.size else None
    if recoup_round is not None:
        status = "recouped"
    elif r[b] == last_round:
        status = "ongoing"
    elif alive_to is not None:
        status = "firm_exited"
    else:
        status = "not_by_horizon"
    return dict(pv_subsidy_usd=pv_subsidy, pv_excess_after_usd=float(cum[-1]) if cum.size else 0.0,
                recouped=recoup_round is not None, recoup_round=recoup_round, recoup_status=status)


def _who_paid(g: pd.DataFrame, sl: slice, investors: pd.DataFrame, r: np.ndarray, a: int, b: int) -> dict:
    """Funding of a spell ($): investor rounds, parent transfers (the rest of the funding inflows) and the firm's
    own cash drawn down (cash before the spell less cash at its end, ≥ 0)."""
    inflow = float(np.nansum(_num(g, "funding_inflow_usd")[sl]))
    inv = float(investors.loc[investors["round"].between(r[a], r[b]), "amount"].sum())
    cash = _num(g, "cash_usd")
    before = cash[a - 1] if a > 0 else np.nan
    drawn = float(max(0.0, before - cash[b])) if np.isfinite(before) and np.isfinite(cash[b]) else None
    return dict(investors_usd=inv, parent_usd=max(0.0, inflow - inv), own_cash_usd=drawn)


def _rates(g: pd.DataFrame, finance: FinanceConfig) -> float:
    """The firm's monthly cost of capital: its ``cost_of_capital_per_year`` column, else from its funding type."""
    annual = _num(g, "cost_of_capital_per_year")
    if np.isfinite(annual).any():
        return monthly_rate(float(annual[np.isfinite(annual)][-1]))
    funding = str(g["funding"].iloc[-1]) if "funding" in g.columns else "investor"
    rates = {"self_funded": finance.cost_of_capital_self_funded, "efficient": finance.cost_of_capital_efficient}
    return monthly_rate(rates.get(funding, finance.cost_of_capital_investor))


def loss_leading(agents_df: pd.DataFrame, events_df: pd.DataFrame | None, cfg: OutcomesConfig,
                 rounds: np.ndarray | None = None, finance: FinanceConfig | None = None) -> tuple[pd.Series, dict]:
    """Q4, loss leading and its recoupment, for API sellers (agents.csv rows of type lab or provider).

    Per firm and round: price p = ``api_price_usd_per_mtok`` (realised, per frontier-equivalent Mtok), average
    avoidable cost ``average_avoidable_cost_usd_per_mtok``, average total cost
    ``average_total_cost_usd_per_mtok``, volume q = ``api_equiv_mtok`` (older tables: ``price``,
    ``marginal_cost``, ``unit_cost``, ``tokens_mtok``). A round is *chosen below cost* when the firm's conduct
    (:func:`conduct_table`) is penetration, q > 0 and p < ATC. A spell is ≥ ``cfg.loss_leading_min_months``
    consecutive such rounds. Per spell: firm, type, funding, start, end, months, ongoing, the decision behind it
    (:func:`_decision`: decision_round, forced, forecast_gain_usd), mean_deviation_gain_share (the firm's mean
    static deviation gain over the spell, a fraction of its profit: how far from a static best response the
    campaign priced), months_below_avoidable_cost (p < AAC), subsidy_below_total_cost_usd = Σ (ATC − p)·q,
    subsidy_below_avoidable_cost_usd = Σ (AAC − p)⁺·q, who_paid (:func:`_who_paid`), the recoupment
    (:func:`_recoupment`: excess profit (p − ATC)·q after the spell, while the firm is alive, discounted at its
    cost of capital ``cost_of_capital_per_year``, else ``finance``'s rate for its funding type), firm_exited,
    exit_round. Spells of p < ATC (same length) in rounds the firm did not choose penetration are listed under
    ``below_cost_not_chosen`` (firm, start, end, months, months_below_avoidable_cost) and are not loss leading.
    Returns (firms in a chosen spell at least the minimum long by that round, by round (int); verdict).
    """
    finance = finance or FinanceConfig()
    L = cfg.loss_leading_min_months
    need = ("round", "name", "type")
    missing = [c for c in need if c not in agents_df.columns]
    verdict: dict[str, Any] = dict(detected=False, recouped=False, spells=[], below_cost_not_chosen=[],
                                   conduct_recorded="conduct" in agents_df.columns, missing_columns=missing)
    counts: dict[int, int] = {}
    if missing:
        return _counts(counts, rounds), verdict
    api = agents_df[agents_df["type"].isin(API_TYPES)].copy()
    api["_conduct"] = conduct_table(agents_df, events_df).loc[api.index]
    api = _alive_rows(api)
    ev = _events(events_df)
    exits = ev[ev["kind"] == "exit"]
    investors = ev[ev["kind"] == "funding_round"]
    last_round = int(pd.to_numeric(agents_df["round"], errors="coerce").max()) if len(agents_df) else 0
    for name, g in api.sort_values("round", kind="stable").groupby("name", sort=True):
        r = g["round"].to_numpy(dtype=int)
        p = _num(g, "api_price_usd_per_mtok", "price")
        aac = _num(g, "average_avoidable_cost_usd_per_mtok", "marginal_cost")
        atc = _num(g, "average_total_cost_usd_per_mtok", "unit_cost")
        q = _num(g, "api_equiv_mtok", "tokens_mtok")
        with np.errstate(invalid="ignore"):
            below = np.isfinite(p) & np.isfinite(atc) & (q > 0) & (p < atc)
            below_aac = below & np.isfinite(aac) & (p < aac)
        chosen = below & (g["_conduct"].to_numpy() == PENETRATION)
        s_chosen = streaks(chosen, r)
        for rr in r[s_chosen >= L]:
            counts[int(rr)] = counts.get(int(rr), 0) + 1
        own_exit = exits.loc[exits["actor"] == name, "round"]
        exit_round = int(own_exit.min()) if len(own_exit) else None
        excess = np.where(q > 0, (p - atc) * q, 0.0)
        rate = _rates(g, finance)
        for a, b in _spells(s_chosen):
            if b - a + 1 < L:
                continue
            sl = slice(a, b + 1)
            verdict["spells"].append(dict(
                firm=name, type=str(g["type"].iloc[a]),
                funding=str(g["funding"].iloc[a]) if "funding" in g.columns else None,
                start=int(r[a]), end=int(r[b]), months=int(b - a + 1), ongoing=bool(r[b] == last_round),
                **_decision(ev, name, int(r[a])),
                mean_deviation_gain_share=_mean(_num(g, "deviation_gain_share")[sl]),
                months_below_avoidable_cost=int(below_aac[sl].sum()),
                subsidy_below_total_cost_usd=float(np.nansum((atc - p)[sl] * q[sl])),
                subsidy_below_avoidable_cost_usd=float(np.nansum(np.clip(aac - p, 0, None)[sl] * q[sl])),
                who_paid=_who_paid(g, sl, investors[investors["actor"] == name], r, a, b),
                cost_of_capital_per_year=(1.0 + rate) ** 12 - 1.0,
                **_recoupment(r, excess, a, b, rate, exit_round, last_round),
                firm_exited=exit_round is not None, exit_round=exit_round))
        for a, b in _spells(streaks(below & ~chosen, r)):
            if b - a + 1 >= L:
                verdict["below_cost_not_chosen"].append(dict(
                    firm=name, start=int(r[a]), end=int(r[b]), months=int(b - a + 1),
                    months_below_avoidable_cost=int(below_aac[a:b + 1].sum())))
    verdict["detected"] = bool(verdict["spells"])
    verdict["recouped"] = any(sp["recouped"] for sp in verdict["spells"])
    return _counts(counts, rounds), verdict


def _counts(counts: dict[int, int], rounds: np.ndarray | None) -> pd.Series:
    """Firm counts by round as an int Series (indexed by ``rounds`` when given, zeros filled in)."""
    series = pd.Series(counts, dtype=int)
    return series if rounds is None else series.reindex(rounds, fill_value=0).astype(int)


# -------------------------------------------------------------------------------------- vertical takeover

def _entry_events(ev: pd.DataFrame, v: str, agent_vertical: dict[str, str], agent_type: dict[str, str]) -> pd.DataFrame:
    """Lab entries into vertical v: vertical_launch/acquisition events whose ``vertical`` is v (else ``target``
    is v, else, for acquisitions, the acquired wrapper's vertical in agents.csv is v); non-lab actors dropped."""
    e = ev[ev["kind"].isin(ENTRY_KINDS)]
    vert = e["vertical"].where(e["vertical"] != "", e["target"].where(e["target"].isin(VERTICALS),
                                                                        e["target"].map(agent_vertical).fillna("")))
    e = e[(vert == v) & (e["actor"].map(agent_type).fillna("lab") == "lab")]
    return e.sort_values("round", kind="stable")


def _run_rate(agents_df: pd.DataFrame, name: str, before: int) -> float:
    """A firm's revenue ($/month) in its last recorded round before ``before`` (0 if none)."""
    if not {"name", "round", "revenue_usd"} <= set(agents_df.columns):
        return 0.0
    rows = agents_df[(agents_df["name"] == name) & (pd.to_numeric(agents_df["round"], errors="coerce") < before)]
    return float(rows.sort_values("round")["revenue_usd"].iloc[-1]) if len(rows) else 0.0


def vertical_takeover(model_df: pd.DataFrame, agents_df: pd.DataFrame, events_df: pd.DataFrame | None,
                      cfg: OutcomesConfig) -> tuple[np.ndarray, dict]:
    """Q5, labs taking over verticals wrappers proved, per vertical v in ``APP_VERTICALS`` (not general chat).

    Model columns: ``vertical_revenue_<v>_usd`` (what customers paid in v), ``lab_revenue_share_<v>`` and
    ``wrapper_revenue_share_<v>``. Labs' organic revenue in v at round t = labs' revenue there less the run rate
    of every wrapper of v a lab acquired by t (its revenue in its last round before the acquisition; assumption:
    the bought base is held at that level, so growth beyond it counts as organic and the base's churn does not
    count for the labs), floored at 0; organic share = that / the vertical's revenue (without the revenue column,
    the whole lab share, noted as ``organic_measured`` False). Wrapper-led: ``wrapper_revenue_share_v`` ≥
    ``cfg.wrapper_lead_share_min`` in a round before the first lab entry (events vertical_launch/acquisition).
    Taken over at the first round r ≥ that entry where the organic share has been > ``cfg.takeover_lab_share_min``
    for ``cfg.takeover_hold_months`` consecutive rounds and ≥ ``cfg.takeover_wrapper_exits_min`` independent
    wrappers of v exited (events kind exit; acquisitions do not count) in [entry, r]. Returns (per-row bool:
    some vertical taken over by then; verdict with, per vertical, wrapper_led, wrapper_led_round,
    wrapper_share_then, entry_round/kind/actor, takeover, takeover_round, organic_share_then, lab_share_then,
    organic_share_at_end, wrapper_exits, acquisitions (round, actor, target, run_rate_usd), organic_measured).
    """
    rounds = _rounds_of(model_df)
    ev = _events(events_df)
    has = {c: c in agents_df.columns for c in ("name", "vertical", "type")}
    agent_vertical = (agents_df.dropna(subset=["vertical"]).groupby("name")["vertical"].last().astype(str).to_dict()
                      if has["name"] and has["vertical"] else {})
    agent_type = agents_df.groupby("name")["type"].last().astype(str).to_dict() if has["name"] and has["type"] else {}
    per_vertical: dict[str, dict] = {}
    for v in APP_VERTICALS:
        lab_col, wr_col, rev_col = f"lab_revenue_share_{v}", f"wrapper_revenue_share_{v}", f"vertical_revenue_{v}_usd"
        out: dict[str, Any] = dict(wrapper_led=False, wrapper_led_round=None, wrapper_share_then=None,
                                   entry_round=None, entry_kind=None, entry_actor=None, takeover=False,
                                   takeover_round=None, organic_share_then=None, lab_share_then=None,
                                   organic_share_at_end=None, wrapper_exits=[], acquisitions=[],
                                   organic_measured=rev_col in model_df.columns,
                                   missing_columns=[c for c in (lab_col, wr_col, rev_col) if c not in model_df.columns])
        per_vertical[v] = out
        lab, wr = _num(model_df, lab_col), _num(model_df, wr_col)
        entries = _entry_events(ev, v, agent_vertical, agent_type)
        wrappers = {n for n, t in agent_type.items() if t == "wrapper" and agent_vertical.get(n) == v}
        exits = ev[(ev["kind"] == "exit") & ev["actor"].isin(wrappers)]
        acq = entries[entries["kind"] == "acquisition"]
        out["acquisitions"] = [dict(round=int(x.round), actor=x.actor, target=x.target,
                                    run_rate_usd=_run_rate(agents_df, x.target, int(x.round))) for x in acq.itertuples()]
        bought = np.zeros(len(rounds))
        for a in out["acquisitions"]:
            bought += np.where(rounds >= a["round"], a["run_rate_usd"], 0.0)
        if out["organic_measured"]:
            total = _num(model_df, rev_col)
            with np.errstate(invalid="ignore", divide="ignore"):
                organic = np.where(total > 0, np.clip(lab * total - bought, 0, None) / np.where(total > 0, total, 1), np.nan)
        else:
            organic = lab
        if len(rounds):
            out["organic_share_at_end"] = float(organic[-1]) if np.isfinite(organic[-1]) else None
        if len(entries):
            first = entries.iloc[0]
            out.update(entry_round=int(first["round"]), entry_kind=first["kind"], entry_actor=first["actor"])
        before = rounds < out["entry_round"] if out["entry_round"] is not None else np.ones(len(rounds), bool)
        with np.errstate(invalid="ignore"):
            led = before & (wr >= cfg.wrapper_lead_share_min)
        if led.any():
            i = int(led.argmax())
            out.update(wrapper_led=True, wrapper_led_round=int(rounds[i]), wrapper_share_then=float(wr[i]))
        if out["entry_round"] is not None:
            exits = exits[exits["round"] >= out["entry_round"]]
        out["wrapper_exits"] = [dict(round=int(x.round), firm=x.actor) for x in exits.itertuples()]
        if not out["wrapper_led"] or out["entry_round"] is None:
            continue
        gone = np.sort(exits["round"].to_numpy(float))
        with np.errstate(invalid="ignore"):
            above = (rounds >= out["entry_round"]) & (organic > cfg.takeover_lab_share_min)
        hit = ((streaks(above, rounds) >= cfg.takeover_hold_months)
               & (np.searchsorted(gone, rounds, side="right") >= cfg.takeover_wrapper_exits_min))
        if hit.any():
            i = int(hit.argmax())
            out.update(takeover=True, takeover_round=int(rounds[i]), organic_share_then=float(organic[i]),
                       lab_share_then=float(lab[i]))
    taken = [o["takeover_round"] for o in per_vertical.values() if o["takeover"]]
    first_round = min(taken) if taken else None
    flags = rounds >= first_round if first_round is not None else np.zeros(len(rounds), bool)
    return flags, dict(detected=bool(taken), first_round=first_round,
                       verticals_taken=sorted(v for v, o in per_vertical.items() if o["takeover"]),
                       verticals=per_vertical)


# ---------------------------------------------------------------------------------------------- the run

def detect(model_df: pd.DataFrame, agents_df: pd.DataFrame | None, events_df: pd.DataFrame | None,
           cfg: OutcomesConfig | None = None, finance: FinanceConfig | None = None) -> Outcomes:
    """Run the detectors on one run's tables (model.csv, agents.csv, events.csv as DataFrames).

    ``cfg`` defaults to ``OutcomesConfig()``; ``finance`` (costs of capital, used only when agents.csv lacks
    ``cost_of_capital_per_year``) to ``FinanceConfig()``. Returns :class:`Outcomes`: ``per_round`` aligned with
    ``model_df``'s index (rows may come in any order) and ``verdicts`` = {thresholds, horizon_round, dumb_pipe,
    loss_leading, vertical_takeover} as documented in :func:`dumb_pipe`, :func:`loss_leading` and
    :func:`vertical_takeover`.
    """
    cfg = cfg or OutcomesConfig()
    m = model_df.sort_values("round", kind="stable") if "round" in model_df.columns else model_df
    rounds = _rounds_of(m)
    agents_df = agents_df if agents_df is not None else pd.DataFrame()
    dp_flags, dp = dumb_pipe(m, cfg)
    ll_counts, ll = loss_leading(agents_df, events_df, cfg, rounds, finance)
    vt_flags, vt = vertical_takeover(m, agents_df, events_df, cfg)
    per_round = pd.DataFrame({"outcome_dumb_pipe": dp_flags.astype(bool),
                              "outcome_loss_leading": ll_counts.to_numpy(dtype=int),
                              "outcome_vertical_takeover": vt_flags.astype(bool)}, index=m.index)
    per_round = per_round.reindex(model_df.index)
    verdicts = _py(dict(thresholds=cfg.model_dump(), horizon_round=int(rounds.max()) if len(rounds) else None,
                        dumb_pipe=dp, loss_leading=ll, vertical_takeover=vt))
    return Outcomes(per_round=per_round, verdicts=verdicts)


# ------------------------------------------------------------------------------------------- in words

def _money(x: float | None) -> str:
    """Dollars in short scale with the sign before the $ (−413800 → '−$413.80k'); 'n/a' when missing."""
    if x is None or not math.isfinite(x):
        return "n/a"
    sign = "−" if x < 0 else ""
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{sign}${abs(x) / div:,.2f}{unit}"
    return f"{sign}${abs(x):,.0f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def verdict_lines(verdicts: dict) -> list[str]:
    """One line per verdict in words (the terminal summary, the run report, the page): the dumb pipe on its
    window, each chosen below-cost spell with its subsidy, who paid and its recoupment (or "no chosen spell",
    and the count of below-cost spells not chosen), each vertical taken over with its organic share."""
    t = verdicts.get("thresholds", {})
    dp, ll, vt = verdicts["dumb_pipe"], verdicts["loss_leading"], verdicts["vertical_takeover"]
    lines = []
    w = dp.get("window")
    if not dp.get("judged", True) or w is None:
        lines.append(f"dumb pipe: not judged (the run is shorter than the {t.get('dumb_pipe_window_months')}-month window)")
    else:
        m = w["mean_margin_on_marginal_cost"]
        lines.append(
            f"dumb pipe: {'YES' if dp['detected'] else 'no'} — rounds {w['start']}–{w['end']}: API margin on marginal "
            f"cost {'n/a' if m is None else f'{m:.2f}'} (dumb below {t.get('dumb_pipe_margin_max')}), independent apps "
            f"{_pct(w['mean_independent_share'])} of firms' value (needs ≥ {_pct(t.get('dumb_pipe_independent_share_min'))}); "
            f"both held in {w['months_both_legs']} of {w['months']} months (needs {w['months_needed']})")
    if not ll["spells"]:
        note = "" if ll.get("conduct_recorded", True) else " (no conduct recorded: only chosen spells count)"
        lines.append(f"loss leading: no chosen below-cost spell{note}; below-cost spells not chosen: "
                     f"{len(ll.get('below_cost_not_chosen', []))}")
    for sp in ll["spells"]:
        paid = sp["who_paid"]
        recoup = {"recouped": f"recouped by round {sp['recoup_round']}", "ongoing": "still running at the horizon",
                  "firm_exited": f"not recouped: the firm exited in round {sp['exit_round']}",
                  "not_by_horizon": "not recouped by the horizon"}[sp["recoup_status"]]
        lines.append(
            f"loss leading: {sp['firm']} chose below-cost prices in rounds {sp['start']}–{sp['end']} "
            f"({sp['months']} months, {sp['months_below_avoidable_cost']} below avoidable cost"
            f"{', forced' if sp.get('forced') else ''}"
            f"{'' if sp.get('forecast_gain_usd') is None else ', forecast gain ' + _money(sp['forecast_gain_usd'])}"
            f"); subsidy {_money(sp['subsidy_below_total_cost_usd'])} below "
            f"total cost ({_money(sp['subsidy_below_avoidable_cost_usd'])} below avoidable cost); funding in the spell "
            f"(all of it, not the subsidy's share): paid by investors {_money(paid['investors_usd'])}, parent "
            f"{_money(paid['parent_usd'])}, own cash drawn {_money(paid['own_cash_usd'])}; {recoup} (PV at {sp['cost_of_capital_per_year']:.0%}/yr: subsidy "
            f"{_money(sp['pv_subsidy_usd'])}, excess after {_money(sp['pv_excess_after_usd'])})")
    taken = [(v, o) for v, o in vt["verticals"].items() if o["takeover"]]
    if not taken:
        entered = [f"{v} in round {o['entry_round']} (labs' organic share at the end {_pct(o['organic_share_at_end'])}, "
                   f"{len(o['wrapper_exits'])} wrapper exit(s){'' if o['wrapper_led'] else ', not wrapper-led'})"
                   for v, o in vt["verticals"].items() if o["entry_round"] is not None]
        lines.append("vertical takeover: no" + (f" — labs entered {'; '.join(entered)}" if entered else
                                                 " (no lab entered a vertical)"))
    for v, o in taken:
        lines.append(
            f"vertical takeover: {v} by round {o['takeover_round']} — labs' organic share {_pct(o['organic_share_then'])} "
            f"(all labs {_pct(o['lab_share_then'])}), {len(o['wrapper_exits'])} wrapper exit(s), "
            f"{len(o['acquisitions'])} acquisition(s); entered by {o['entry_actor']} ({o['entry_kind']}, round "
            f"{o['entry_round']})")
    return lines


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
