"""From a forecast path to the one objective: owners' value, rivals' exits, a target's standalone value and the
price of an acquisition (docs/design.md, "Strategic moves"; market/objective.py, market/capital.py).

A path is laid on the firm's own trend: revenue_t = R_t + ΔR_t, gross profit_t = G_t + ΔG_t, fixed costs_t = F_t +
one-offs_t, where (R_t, G_t, F_t) extrapolate the firm's recorded figures as investors do
(``market.capital.forecast_cash_flows``: trailing growth decaying with a half-life toward the long-run rate, the
gross margin held, fixed costs growing at a share of revenue growth; F = gross − operating profit: opex, training,
idle GPUs), or hold last month's figures flat while the firm has fewer than ``TREND_MONTHS`` months of history.

* An investor-funded firm's owners get the value ``market.objective.forecast_owners_value`` gives: cash runs
  forward, rounds are raised when runway is short and priced by the capital market's rule
  (``market.capital.pricer_from_config``: investors weigh a revenue multiple against a DCF by their appetite), the
  owners are diluted by each round, and at the horizon they hold their share of what investors would pay. So
  revenue bought below cost raises the owners' value when investors pay for revenue, and not when they price cash.
* A parent-funded lab's owner is the parent: the value is the present value of the unit's operating cash flow at
  its cost of capital plus its Gordon value at the horizon (``market.objective.owners_value``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from market import objective
from market.capital import (dcf_value, figures_from_history, forecast_cash_flows, forecast_params_from_config,
                            pricer_from_config)


def cost_of_capital(model, firm) -> float:
    """The firm's owners' cost of capital per month (config ``finance.cost_of_capital_*`` by funding type)."""
    fin = model.config.finance
    annual = {"self_funded": fin.cost_of_capital_self_funded,
              "efficient": fin.cost_of_capital_efficient}.get(firm.funding, fin.cost_of_capital_investor)
    return objective.monthly_rate(annual)


def figures_now(firm) -> tuple[float, float, float]:
    """(revenue, gross profit, fixed costs) of the firm's last month, $/month; fixed = gross − operating profit."""
    last = firm.last
    return last.revenue_usd, last.gross_profit_usd, max(0.0, last.gross_profit_usd - last.operating_profit_usd)


def _history(model, firm) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    rows = model.moves.history.get(firm.unique_id)
    if not rows:
        return None
    arr = np.array(rows[:-1], dtype=float).reshape(-1, 3)  # the last row is "now", the forecast's base
    return arr[:, 0], arr[:, 1], arr[:, 2]


TREND_MONTHS = 4  # assumption: three months of growth are the least a trend is read from


def base_path(model, firm, months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(revenue, gross profit, fixed costs), each (months,) $/month: the firm's own trend (module docstring).
    Kept for the round: every option and every rival check of a review reads the same trend."""
    key = (firm.unique_id, model.round, months)
    cached = model.moves.trends.get(key)
    if cached is None:
        cached = model.moves.trends[key] = _trend(model, firm, months)
    return cached


def _trend(model, firm, months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rev0, gp0, fixed0 = figures_now(firm)
    rows = model.moves.history.get(firm.unique_id, [])
    if len(rows) < TREND_MONTHS or rev0 <= 0:
        return np.full(months, rev0), np.full(months, gp0), np.full(months, fixed0)
    arr = np.array(rows, dtype=float)
    fig = figures_from_history(np.maximum(arr[:, 0], 0.0), arr[:, 1], arr[:, 2], firm.cash_usd)
    params = dataclasses.replace(forecast_params_from_config(model.config.capital), horizon_months=months)
    revenue, cash_flow = forecast_cash_flows(fig, params)
    gross = fig.gross_margin * revenue
    return revenue, gross, gross - cash_flow


def owners_value(model, firm, d_revenue: np.ndarray, d_gross: np.ndarray, one_off: np.ndarray) -> float:
    """Present value ($) to ``firm``'s owners of the path (module docstring); arrays (T,) $/month."""
    rev0, gp0, fixed0 = base_path(model, firm, d_revenue.size)
    rev = np.maximum(0.0, rev0 + d_revenue)
    gp = gp0 + d_gross
    fc = fixed0 + one_off
    rate = cost_of_capital(model, firm)
    if firm.funding == "investor":
        fin = model.config.finance
        return objective.forecast_owners_value(
            rev, gp, fc, firm.cash_usd, rate, model.moves.pricer, runway_trigger_months=fin.runway_trigger_months,
            raise_months_of_burn=fin.raise_months_of_burn, max_raise_usd=fin.max_raise_usd,
            history=_history(model, firm), terminal="market").owners_value_usd
    flows = gp - fc
    return objective.owners_value(flows, 1.0, firm.cash_usd, float(flows[-1]), rate) if flows.size else firm.cash_usd


def exit_month(model, firm, d_gross: np.ndarray) -> int | None:
    """Month (1-based) in which ``firm`` runs out of cash on the path ΔG (revenue moving with gross profit), with
    the funding it could get (investors' rounds priced by the capital market; a parent's budget), or None."""
    rev0, gp0, fixed0 = base_path(model, firm, d_gross.size)
    flows = gp0 + d_gross - fixed0
    budget = getattr(firm.cfg, "parent_budget_usd_per_month", 0.0) if firm.funding != "investor" else 0.0
    cash = firm.cash_usd + np.cumsum(flows + np.minimum(budget, np.maximum(0.0, -flows)))
    if cash.size == 0 or cash.min() >= 0:
        return None
    if firm.funding != "investor":
        return int(np.argmax(cash < 0)) + 1
    fin = model.config.finance
    res = objective.forecast_owners_value(
        np.maximum(0.0, rev0 + d_gross), gp0 + d_gross, fixed0, firm.cash_usd,
        cost_of_capital(model, firm), model.moves.pricer, runway_trigger_months=fin.runway_trigger_months,
        raise_months_of_burn=fin.raise_months_of_burn, max_raise_usd=fin.max_raise_usd,
        history=_history(model, firm), terminal="fundamental")
    return res.exit_month


def standalone_value(model, wrapper) -> float:
    """A wrapper's value on its own ($): the DCF of its forecast cash flows at the investors' required return
    (``market.capital.dcf_value``: trailing growth decaying, margin held, fixed costs with operating leverage)
    plus its cash — what its owners give up by selling."""
    hist = np.array(wrapper.revenue_history, dtype=float)
    if hist.size == 0 or hist[-1] <= 0:
        return max(0.0, wrapper.cash_usd)
    margin = wrapper.last.gross_profit_usd / hist[-1]
    fixed = np.full(hist.size, wrapper.cfg.opex_usd_per_month)
    fig = figures_from_history(hist, hist * margin, fixed, wrapper.cash_usd)
    cfg = model.config
    return max(0.0, dcf_value(fig, cfg.finance.cost_of_capital_investor, forecast_params_from_config(cfg.capital)))


def nash_price(buyer_gain_usd: float, seller_value_usd: float, buyer_weight: float) -> float:
    """Price ($) of a sale by Nash bargaining: the seller's outside value plus its share (1 − buyer_weight) of the
    surplus G − S, where G is what owning the asset is worth to the buyer and S what the seller keeps without a
    deal. NaN when there is no surplus (no price both accept).

    Raises: ValueError: ``buyer_weight`` outside [0, 1].
    """
    if not 0.0 <= buyer_weight <= 1.0:
        raise ValueError(f"buyer_weight={buyer_weight!r}: must be in [0, 1]")
    surplus = buyer_gain_usd - seller_value_usd
    if not surplus > 0:
        return math.nan
    return seller_value_usd + (1.0 - buyer_weight) * surplus


def make_pricer(config):
    """The capital market's round pricing as firms forecast it (``market.capital.pricer_from_config``)."""
    return pricer_from_config(config.capital, config.finance)
