"""The firm's one objective, in numbers: the present value, at its own cost of capital, of the cash its current
owners will get (docs/design.md, "One objective").

Pure functions on cash-flow arrays. Rates are per year in config (``finance.cost_of_capital_*``) and converted
here to per month, compounding monthly: (1 + r_month)^12 = 1 + r_year. Flows are $ per month, dated at the end
of their month: the flow of month t (t = 1, 2, …) is discounted by (1 + r_month)^−t.

Terminal value: a firm still alive at the horizon is worth its cash plus its run-rate operating cash flow as a
perpetuity with growth g (Gordon 1959), never less than zero (owners have limited liability: a firm whose
run rate is negative can exit and hand its debts to creditors).

With the capital market (issue 13) the owners' value counts dilution: ``ownership_path`` turns rounds (amount at a
pre-money valuation) into the original owners' share month by month, ``owners_values`` values recorded paths
(outcomes.json ``owners_value_usd``), and ``forecast_owners_value`` values a forecast path with the funding it
would need, priced by the capital market's rule (a ``RoundPricing``, e.g. ``market.capital.RoundPricer``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np


def monthly_rate(annual_rate: float) -> float:
    """Monthly rate equivalent to ``annual_rate`` (fraction per year, > −1), compounding monthly.

    Raises:
        ValueError: ``annual_rate`` ≤ −1 or not finite.
    """
    if not math.isfinite(annual_rate) or annual_rate <= -1.0:
        raise ValueError(f"annual_rate={annual_rate!r}: must be finite and > -1")
    return (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0


def discount_factors(n_months: int, rate_monthly: float) -> np.ndarray:
    """(n_months,) discount factors (1 + r)^−t for t = 1 … n_months.

    Raises:
        ValueError: negative ``n_months`` or ``rate_monthly`` ≤ −1.
    """
    if n_months < 0 or rate_monthly <= -1.0:
        raise ValueError(f"n_months={n_months!r}, rate_monthly={rate_monthly!r}: need n ≥ 0 and rate > -1")
    return (1.0 + rate_monthly) ** -np.arange(1, n_months + 1, dtype=float)


def present_value(flows_usd: np.ndarray, rate_monthly: float) -> float:
    """Present value ($) of monthly flows ``flows_usd`` (shape (T,), $ per month, month t at index t − 1)."""
    flows = np.asarray(flows_usd, dtype=float)
    return float(flows @ discount_factors(flows.shape[0], rate_monthly)) if flows.size else 0.0


def annuity_factor(n_months: float, rate_monthly: float) -> float:
    """Present value ($) of $1 a month for ``n_months`` months (may be fractional or ``inf``) at ``rate_monthly``.

    With rate 0 it is ``n_months``; with ``n_months = inf`` and rate > 0 it is 1 / rate.

    Raises:
        ValueError: an infinite annuity at a rate ≤ 0 (its value is unbounded).
    """
    if rate_monthly == 0.0:
        if math.isinf(n_months):
            raise ValueError("annuity_factor: an infinite annuity at rate 0 has no finite value")
        return float(n_months)
    if math.isinf(n_months):
        if rate_monthly <= 0:
            raise ValueError(f"annuity_factor: an infinite annuity at rate {rate_monthly} has no finite value")
        return 1.0 / rate_monthly
    return (1.0 - (1.0 + rate_monthly) ** -n_months) / rate_monthly


def terminal_value(cash_usd: float, run_rate_usd_per_month: float, rate_monthly: float,
                   growth_monthly: float = 0.0) -> float:
    """Value ($) at the horizon of a firm with ``cash_usd`` and a run-rate cash flow ($/month): cash plus the
    Gordon perpetuity run_rate / (r − g), floored at zero (limited liability).

    Raises:
        ValueError: ``growth_monthly`` ≥ ``rate_monthly`` (the perpetuity would be unbounded).
    """
    if growth_monthly >= rate_monthly:
        raise ValueError(f"terminal_value: growth {growth_monthly} must be below the rate {rate_monthly}")
    return max(0.0, cash_usd + run_rate_usd_per_month / (rate_monthly - growth_monthly))


def owners_value(flows_to_owners_usd: np.ndarray, ownership_at_horizon: float, cash_at_horizon_usd: float,
                 run_rate_usd_per_month: float, rate_monthly: float, alive_at_horizon: bool = True) -> float:
    """Present value ($) to a firm's current owners of a path of months 1 … T.

    Args:
        flows_to_owners_usd: (T,) cash the current owners get (+) or put in (−) each month, $ per month (for a
            parent-funded unit, minus the parent's transfers; for an investor-funded firm, usually zeros).
        ownership_at_horizon: fraction of the firm the current owners still hold at T (after dilution), [0, 1].
        cash_at_horizon_usd, run_rate_usd_per_month: the firm's cash and run-rate operating cash flow at T.
        rate_monthly: the owners' cost of capital per month.
        alive_at_horizon: False for a firm that exited (its equity is then worth nothing).

    Raises:
        ValueError: ownership outside [0, 1].
    """
    if not 0.0 <= ownership_at_horizon <= 1.0:
        raise ValueError(f"ownership_at_horizon={ownership_at_horizon!r}: must be in [0, 1]")
    flows = np.asarray(flows_to_owners_usd, dtype=float)
    pv = present_value(flows, rate_monthly)
    if alive_at_horizon:
        tv = terminal_value(cash_at_horizon_usd, run_rate_usd_per_month, rate_monthly)
        pv += ownership_at_horizon * tv * (1.0 + rate_monthly) ** -flows.shape[0]
    return pv


# ------------------------------------------------------------------------------------------ owners' value with dilution

def ownership_path(n_months: int, round_months, pre_money_usd, amounts_usd) -> np.ndarray:
    """(n_months,) share of the original owners at the end of each month 1 … n, diluted by every round.

    A round of ``amount`` at pre-money ``pre`` in month m multiplies the owners' share by pre / (pre + amount)
    from month m on (its post-money valuation is pre + amount).

    Args:
        round_months: (k,) month of each round, 1 … n_months. pre_money_usd, amounts_usd: (k,) $, > 0 and ≥ 0.

    Raises:
        ValueError: unequal lengths, months outside 1 … n, non-positive pre-money, negative amounts.
    """
    months = np.asarray(round_months, dtype=int)
    pre, amt = np.asarray(pre_money_usd, float), np.asarray(amounts_usd, float)
    if not months.shape == pre.shape == amt.shape:
        raise ValueError(f"round_months, pre_money_usd, amounts_usd must have equal length: "
                         f"{months.shape}, {pre.shape}, {amt.shape}")
    if months.size and (months.min() < 1 or months.max() > n_months):
        raise ValueError(f"round_months={round_months!r}: must be within 1 … {n_months}")
    if np.any(pre <= 0) or np.any(amt < 0):
        raise ValueError("pre_money_usd must be > 0 and amounts_usd >= 0")
    factor = np.ones(n_months)
    np.multiply.at(factor, months - 1, pre / (pre + amt))
    return np.cumprod(factor)


@dataclass(frozen=True)
class OwnerPath:
    """A firm's recorded path, months 1 … T (each array (T,)).

    Fields:
        flows_to_owners_usd: cash the original owners got (+: dividends, their part of exit proceeds) or put in
            (−: a parent's transfers), $ per month. Money investors pay for new shares is not the owners' money.
        ownership: the original owners' share at the end of each month, after that month's rounds, [0, 1].
        cash_usd: the firm's cash at the end of each month, $.
        run_rate_usd_per_month: its operating cash flow each month, $/month.
        alive: False from the month the firm exits.
        market_value_usd: optional (T,) price at which the owners could sell the whole equity each month, $; when
            given the terminal value is the last one (floored at 0) instead of the Gordon value.
    """

    flows_to_owners_usd: np.ndarray
    ownership: np.ndarray
    cash_usd: np.ndarray
    run_rate_usd_per_month: np.ndarray
    alive: np.ndarray
    market_value_usd: np.ndarray | None = None

    def __post_init__(self) -> None:
        shapes = {np.shape(a) for a in (self.flows_to_owners_usd, self.ownership, self.cash_usd,
                                        self.run_rate_usd_per_month, self.alive)}
        if self.market_value_usd is not None:
            shapes.add(np.shape(self.market_value_usd))
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"OwnerPath: every array must have the same shape (T,), got {sorted(shapes)}")
        own = np.asarray(self.ownership, float)
        if np.any((own < 0) | (own > 1)):
            raise ValueError("OwnerPath.ownership: must be in [0, 1]")


def owners_value_of_path(path: OwnerPath, rate_monthly: float, growth_monthly: float = 0.0) -> float:
    """Present value ($, as of month 0) to the original owners of a recorded path.

    = Σ_{t ≤ exit} flows_t (1 + r)^−t + [alive at T] · ownership_T · TV_T (1 + r)^−T, with TV_T the floored Gordon
    value of cash and run rate (``terminal_value``) or the market value when the path has one. Flows after an
    exit month are ignored (a dead firm pays nothing); the owners' part of exit proceeds is a flow of that month.
    """
    alive = np.asarray(path.alive, bool)
    flows = np.asarray(path.flows_to_owners_usd, float)
    t_end = flows.size
    dead = np.flatnonzero(~alive)
    if dead.size:
        flows = flows[: dead[0] + 1]
    value = present_value(flows, rate_monthly)
    if not dead.size and t_end:
        if path.market_value_usd is not None:
            tv = max(0.0, float(path.market_value_usd[-1]))
        else:
            tv = terminal_value(float(path.cash_usd[-1]), float(path.run_rate_usd_per_month[-1]), rate_monthly,
                                growth_monthly)
        value += float(path.ownership[-1]) * tv * (1.0 + rate_monthly) ** -t_end
    return value


def owners_values(paths: Mapping[str, OwnerPath], rates_monthly: Mapping[str, float]) -> dict[str, float]:
    """``owners_value_of_path`` for every firm: {name: $} (outcomes.json ``owners_value_usd``).

    Raises:
        KeyError: a firm without a rate.
    """
    return {name: owners_value_of_path(p, rates_monthly[name]) for name, p in paths.items()}


class RoundPricing(Protocol):
    """The capital market's pricing rule as a firm forecasts it (``market.capital.RoundPricer`` implements it).
    History arrays are $ per month, oldest first, the last entry being the month of the round."""

    def pre_money_usd(self, revenue_usd: np.ndarray, gross_profit_usd: np.ndarray, fixed_costs_usd: np.ndarray,
                      cash_usd: float, amount_usd: float) -> float:
        """Pre-money valuation ($) of a round of ``amount_usd``; ≤ 0 when nobody would fund it."""
        ...

    def market_value_usd(self, revenue_usd: np.ndarray, gross_profit_usd: np.ndarray, fixed_costs_usd: np.ndarray,
                         cash_usd: float) -> float:
        """Value ($) at which the owners could sell the equity."""
        ...


@dataclass(frozen=True)
class FundingRound:
    """A forecast round: month (1-based), amount ($), pre-money valuation ($)."""

    month: int
    amount_usd: float
    pre_money_usd: float


@dataclass(frozen=True)
class FundedForecast:
    """A forecast path with the funding it needs.

    Fields:
        owners_value_usd: present value to the current owners ($).
        ownership: (T,) their share at the end of each month (after rounds; the last share before an exit).
        cash_usd: (T,) the firm's cash at the end of each month (nan after an exit).
        rounds: the rounds raised.
        exit_month: month (1-based) in which the firm ran out of cash unfunded, or None.
        terminal_value_usd: value of the whole equity at T used (0 after an exit).
    """

    owners_value_usd: float
    ownership: np.ndarray
    cash_usd: np.ndarray
    rounds: tuple[FundingRound, ...]
    exit_month: int | None
    terminal_value_usd: float


def forecast_owners_value(revenue_usd, gross_profit_usd, fixed_costs_usd, cash_usd: float, rate_monthly: float,
                          pricing: RoundPricing, *, runway_trigger_months: float = 6.0,
                          raise_months_of_burn: float = 18.0, max_raise_usd: float = math.inf,
                          history: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                          flows_to_owners_usd=None, terminal: str = "market") -> FundedForecast:
    """Owners' value of a forecast path, raising the money it needs on the capital market's terms.

    Month by month: cash += gross profit − fixed costs. When the month burns cash and cash is below
    ``runway_trigger_months`` months of that burn, the firm asks for ``raise_months_of_burn`` months of burn plus
    any negative cash (capped at ``max_raise_usd``) and ``pricing`` prices the round on the history so far; a
    round at pre-money P for amount I multiplies the owners' share by P / (P + I). A firm whose cash is negative
    after that exits: its owners get nothing more. At the horizon the owners hold their share of the equity's
    value — ``terminal="market"``: what the capital market would pay for it (``pricing.market_value_usd``, the
    price at which the owners could sell), ``"fundamental"``: the floored Gordon value of cash and run rate.

    This is how "buying revenue below cost to raise at a higher valuation" can pay: with investors who pay a
    revenue multiple, more revenue raises both the price of the rounds (less dilution) and the terminal value;
    with investors who price cash flows it does neither.

    Args:
        revenue_usd, gross_profit_usd, fixed_costs_usd: (T,) forecast, $ per month.
        cash_usd: cash now, $. rate_monthly: the owners' cost of capital per month.
        history: optional (revenue, gross profit, fixed costs) arrays of past months, oldest first, so that the
            pricing rule sees trailing growth from the start.
        flows_to_owners_usd: optional (T,) cash the owners get or put in each month (default zeros).

    Raises:
        ValueError: unequal shapes, or ``terminal`` not "market" or "fundamental".
    """
    rev, gp, fc = (np.asarray(a, float) for a in (revenue_usd, gross_profit_usd, fixed_costs_usd))
    if not rev.shape == gp.shape == fc.shape or rev.ndim != 1:
        raise ValueError(f"forecast arrays must share one shape (T,): {rev.shape}, {gp.shape}, {fc.shape}")
    if terminal not in ("market", "fundamental"):
        raise ValueError(f"terminal={terminal!r}: allowed: market, fundamental")
    n = rev.size
    past = history if history is not None else (np.empty(0), np.empty(0), np.empty(0))
    all_rev = np.concatenate([np.asarray(past[0], float), rev])
    all_gp = np.concatenate([np.asarray(past[1], float), gp])
    all_fc = np.concatenate([np.asarray(past[2], float), fc])
    offset = all_rev.size - n
    owners = np.zeros(n) if flows_to_owners_usd is None else np.asarray(flows_to_owners_usd, float)
    share, cash = 1.0, float(cash_usd)
    ownership, cash_path = np.full(n, np.nan), np.full(n, np.nan)
    rounds: list[FundingRound] = []
    exit_month = None
    for t in range(n):
        flow = float(gp[t] - fc[t])
        cash += flow
        burn = max(0.0, -flow)
        if burn > 0 and cash < runway_trigger_months * burn:
            amount = float(min(max_raise_usd, burn * raise_months_of_burn + max(0.0, -cash)))
            upto = offset + t + 1
            pre = pricing.pre_money_usd(all_rev[:upto], all_gp[:upto], all_fc[:upto], cash, amount) if amount > 0 else 0.0
            if pre > 0:
                share *= pre / (pre + amount)
                cash += amount
                rounds.append(FundingRound(t + 1, amount, pre))
        ownership[t] = share
        if cash < 0:
            exit_month = t + 1
            break
        cash_path[t] = cash
    value = present_value(owners[: exit_month if exit_month is not None else n], rate_monthly)
    tv = 0.0
    if exit_month is None and n:
        if terminal == "market":
            tv = max(0.0, pricing.market_value_usd(all_rev, all_gp, all_fc, cash))
        else:
            tv = terminal_value(cash, float(gp[-1] - fc[-1]), rate_monthly)
        value += share * tv * (1.0 + rate_monthly) ** -n
    return FundedForecast(value, ownership, cash_path, tuple(rounds), exit_month, tv)
