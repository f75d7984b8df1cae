"""An option's forecast value: run its schedule through the holdings chain, let rivals that run out of cash leave,
and value the lab's path for its owners (docs/design.md, "Strategic moves").

Awareness: a plan with a :class:`market.moves.awareness.Diffusion` is run twice, with awareness held and carried
forward (market/moves/awareness.py); its path is the one at fixed awareness plus the awareness it spreads, less what
the reference option (the status quo) spreads: the growth the status quo brings is already in the lab's trend
(market/moves/value.py), so an option is credited only with the awareness it adds or takes away.

Rivals' exits: each rival's gross profit moves on the path (its own offers' holders in the chain), and a rival whose
cash, with the funding it could get, goes negative within the horizon leaves in that month
(``market.moves.value.exit_month``): from then its offers are closed and its customers choose again. The schedule is
run once more with those exits, so an option that drives a rival out earns what its customers bring afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from market.moves import awareness
from market.moves.context import LabContext
from market.moves.forecast import Phase, Terms, flows
from market.moves.value import base_path, exit_month, owners_value


@dataclass(frozen=True)
class Plan:
    """An option's schedule: its phases, the chain's tracked groups and offers' nests when they differ from the
    context's (an acquisition moves a wrapper's plans into the lab's group; a build adds offers), the lab's one-off
    outlays ((T,) $ by month), the quality it earns — a function of the forecast's metric paths giving the
    cumulative quality gain over the status quo ((T,) index points) — with the lab's monthly revenue and gross
    profit per point of quality ((2, T) $), whether the lab can play it, and the awareness its forecast carries
    forward (None: awareness held where it is)."""

    phases: list[Phase]
    groups: tuple[np.ndarray, ...] | None = None
    nest: np.ndarray | None = None
    one_off: np.ndarray | None = None
    quality: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
    per_quality: np.ndarray | None = None
    feasible: bool = True
    diffusion: awareness.Diffusion | None = None


@dataclass(frozen=True)
class Forecast:
    """An option's forecast: value to the lab's owners ($), its revenue and gross-profit paths as changes from now
    ((T,) $/month), its one-off outlays ((T,) $), the rivals it forecasts to leave ((name, month) pairs), and the
    operating cash flow it forecasts ((T,) $/month: gross profit less fixed costs; one-off outlays apart), the
    figure its forecast error is measured on, and, for a plan that carries awareness forward, its value with
    awareness held where it is ($; NaN otherwise)."""

    value_usd: float
    d_revenue: np.ndarray
    d_gross: np.ndarray
    one_off: np.ndarray
    rival_exits: tuple[tuple[str, int], ...] = ()
    cash_flow: np.ndarray = field(default_factory=lambda: np.zeros(0))
    feasible: bool = True
    fixed_awareness_usd: float = math.nan


def close_rows(terms: Terms, rows: np.ndarray) -> Terms:
    """``terms`` with offers ``rows`` closed (nobody can choose them; their holders bring nothing)."""
    v0 = terms.v0.copy()
    v0[rows] = -np.inf
    return replace(terms, v0=v0)


def _with_exits(ctx: LabContext, phases: list[Phase], exits: list[tuple[object, int]]) -> list[Phase]:
    """The schedule with each exiting rival's offers closed from its exit month, its holders made to choose."""
    out = list(phases)
    for rival, month in sorted(exits, key=lambda e: e[1]):
        starts = [p.start for p in out]
        if month not in starts:  # split the phase running in that month
            k = max(i for i, s in enumerate(starts) if s < month)
            out.insert(k + 1, Phase(month, out[k].terms))
        forced_share = np.isin(ctx.base.holding, rival.rows).astype(float)
        for i, p in enumerate(out):
            if p.start < month:
                continue
            forced = None
            if p.start == month:
                n_states = len(ctx.groups) + 1
                forced = np.zeros((n_states, ctx.base.n))
                forced[-1] = forced_share
                if p.forced is not None:
                    forced = np.maximum(forced, p.forced)
            out[i] = replace(p, terms=close_rows(p.terms, rival.rows), forced=forced if forced is not None else p.forced)
    return out


def _run(ctx: LabContext, plan: Plan, phases: list[Phase], now: Terms | None, spread: bool = False
         ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """A schedule's metric paths and level now, awareness carried forward only when ``spread`` (module docstring)."""
    groups = plan.groups or ctx.groups
    nest = ctx.nest if plan.nest is None else plan.nest
    if plan.diffusion is None:
        return flows(ctx.base, groups, nest, now, phases, ctx.months, ctx.cache)
    diffusion = replace(plan.diffusion, spread=spread)
    series, level, _ = awareness.flows(ctx.base, groups, nest, now, phases, ctx.months, diffusion, ctx.cache)
    return series, level


def evaluate(ctx: LabContext, plans: dict[str, Plan], default: str, reference: str | None = None
             ) -> dict[str, Forecast]:
    """Each option's :class:`Forecast`; paths are changes from the lab's figures now, measured against the default
    option's level now (one chain, one starting point for every option). ``reference``: the option whose
    awareness growth the lab's trend already carries (default: ``default``; module docstring)."""
    now = ctx.terms()
    runs = {name: _run(ctx, plan, plan.phases, now if name == default else None) for name, plan in plans.items()}
    level = runs[default][1]
    spread = {name: {k: v - runs[name][0][k] for k, v in _run(ctx, plan, plan.phases, None, True)[0].items()}
              for name, plan in plans.items() if plan.diffusion is not None}
    base_gain = spread.get(reference or default, {})
    out = {}
    for name, plan in plans.items():
        series, _ = runs[name]
        exits = []
        for rival in ctx.rivals:
            key = f"gp:{rival.firm.unique_id}"
            month = exit_month(ctx.model, rival.firm, series[key] - level[key])
            if month is not None and month <= ctx.months:
                exits.append((rival, month))
        if exits:
            series, _ = _run(ctx, plan, _with_exits(ctx, plan.phases, exits), None)
        one_off = np.zeros(ctx.months) if plan.one_off is None else plan.one_off
        fixed_value = math.nan
        if name in spread:  # the awareness the option spreads, beyond what the status quo spreads
            fixed_value = _value(ctx, plan, series, level, one_off)[0]
            series = {k: v + spread[name][k] - base_gain.get(k, 0.0) for k, v in series.items()}
        value, d_rev, d_gp = _value(ctx, plan, series, level, one_off)
        _, gross, fixed = base_path(ctx.model, ctx.lab, ctx.months)
        cash = gross + d_gp - fixed
        out[name] = Forecast(value, d_rev, d_gp, one_off, tuple((r.firm.name, m) for r, m in exits), cash,
                             plan.feasible, fixed_value)
    return out


def _value(ctx: LabContext, plan: Plan, series: dict[str, np.ndarray], level: dict[str, float],
           one_off: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(owners' value $, Δrevenue and Δgross profit (T,) $/month) of a plan's metric paths, its quality included."""
    d_rev, d_gp = series["rev"] - level["rev"], series["gp"] - level["gp"]
    if plan.quality is not None and plan.per_quality is not None:
        gained = plan.quality(series)
        d_rev = d_rev + gained * plan.per_quality[0]
        d_gp = d_gp + gained * plan.per_quality[1]
    value = owners_value(ctx.model, ctx.lab, d_rev, d_gp, one_off) if plan.feasible else np.nan
    return value, d_rev, d_gp


def per_quality_point(ctx: LabContext, step: float = 0.01) -> np.ndarray:
    """(2, T) change of the lab's monthly revenue and gross profit ($) per quality index point, from a forecast
    in which every offer of the lab is ``step`` better from month 1 (a first-order sensitivity: the holdings
    chain spreads a better model's pull over the months it takes customers to reconsider)."""
    rows = ctx.own[ctx.offers.alive[ctx.own]]
    if rows.size == 0 or ctx.lab.quality <= 0:
        return np.zeros((2, ctx.months))
    scale = 1.0 + step / ctx.lab.quality
    v0, x, pay = ctx.with_rows(rows, quality=ctx.offers.quality[rows] * scale)
    better, _ = flows(ctx.base, ctx.groups, ctx.nest, None, [Phase(1, ctx.terms(v0, x, pay))], ctx.months, ctx.cache)
    same, _ = flows(ctx.base, ctx.groups, ctx.nest, None, [Phase(1, ctx.terms())], ctx.months, ctx.cache)
    return np.vstack([better["rev"] - same["rev"], better["gp"] - same["gp"]]) / step
