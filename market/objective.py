"""The firm's one objective, in numbers: the present value, at its own cost of capital, of the cash its current
owners will get (docs/design.md, "One objective").

Pure functions on cash-flow arrays. Rates are per year in config (``finance.cost_of_capital_*``) and converted
here to per month, compounding monthly: (1 + r_month)^12 = 1 + r_year. Flows are $ per month, dated at the end
of their month: the flow of month t (t = 1, 2, …) is discounted by (1 + r_month)^−t.

Terminal value: a firm still alive at the horizon is worth its cash plus its run-rate operating cash flow as a
perpetuity with growth g (Gordon 1959), never less than zero (owners have limited liability: a firm whose
run rate is negative can exit and hand its debts to creditors).
"""

from __future__ import annotations

import math

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
