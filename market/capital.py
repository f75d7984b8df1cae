"""The capital market (DESIGN.md Q6, §5; issue 13 item 5): investors who value firms and price rounds, cap tables
with dilution, investors who can lose money, and parents with budgets and hurdle rates. Pure functions and
frozen records; the model keeps the state.

Valuation. An investor values a firm from its figures (run-rate revenue, trailing growth, gross margin, fixed
costs, cash) in two ways and weights them by its appetite α ∈ [0, 1]:

    V = α · V_multiple + (1 − α) · V_DCF

* V_multiple: a growth-adjusted revenue multiple, 12 · revenue · (m₀ + m₁ · annual growth⁺) + net cash — what
  growth money pays, expecting to sell on at the same multiple (``capital.base_multiple`` m₀,
  ``capital.growth_multiple`` m₁).
* V_DCF: the present value, at the investor's required return, of its own forecast of the firm's cash flows
  (``forecast_cash_flows``: revenue growth decays toward a long-run rate with a half-life, gross margin stays where
  it is, fixed costs grow at a fraction of revenue growth — operating leverage), plus a floored Gordon terminal
  value and net cash. A firm losing money now whose unit economics are sound gets a positive DCF; one that
  sells below variable cost does not, however fast it grows.

Rounds. A firm asks for an amount; each investor would pay up to its valuation V_i as the pre-money price (at
that price its stake is worth, on its own valuation, exactly what it pays: its expected return equals its
required return). The round is priced at a uniform pre-money: the highest price at which the investors willing
to pay it can fill the round (``price_round``). Nobody funds a firm it values at ≤ 0. So disciplined money
(α = 0) funds losses with positive expected value, and growth money (α = 1) may pay more than the cash flows
are worth — and lose it. The new investors get amount / (pre + amount) of the firm; everyone else is diluted by
pre / (pre + amount) (``CapTable.after_round``). Holdings record what each investor paid in and got out; a firm
that exits pays its equity holders pro rata from what is left after creditors (``market.exit``), often nothing.

Parents. A parent has a monthly budget and a hurdle rate; it covers a unit's loss when the unit's value to it
(DCF at the hurdle) is positive, up to the budget (``parent_transfer``). Funding types: ``investor`` raises from
investors; ``self_funded`` has a parent at ``finance.cost_of_capital_self_funded``; ``efficient`` (the frugal
lab) has a small parent too — a quant fund with ``parent_budget_usd_per_month`` (1e8 $/month by default, a
hundredth of the giant's) at ``finance.cost_of_capital_efficient`` (``parent_of``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from market.checks import check
from market.objective import discount_factors, monthly_rate


# ------------------------------------------------------------------------------------------ figures and forecasts

@dataclass(frozen=True)
class FirmFigures:
    """What investors and parents see of a firm.

    Fields:
        revenue_usd_per_month: run-rate revenue, ≥ 0.
        revenue_growth_per_month: trailing monthly growth (fraction, > −1).
        gross_margin: (revenue − variable costs) / revenue; may be negative (selling below variable cost).
        fixed_costs_usd_per_month: costs that do not scale with volume (staff, training, reserved capacity), ≥ 0.
        cash_usd: cash (may be negative: debt). debt_usd: other debt, ≥ 0.
    """

    revenue_usd_per_month: float
    revenue_growth_per_month: float
    gross_margin: float
    fixed_costs_usd_per_month: float
    cash_usd: float = 0.0
    debt_usd: float = 0.0

    def __post_init__(self) -> None:
        check("revenue_usd_per_month", self.revenue_usd_per_month)
        check("revenue_growth_per_month", self.revenue_growth_per_month, lo=-1.0, strict=True)
        check("gross_margin", self.gross_margin, lo=None)
        check("fixed_costs_usd_per_month", self.fixed_costs_usd_per_month)
        check("cash_usd", self.cash_usd, lo=None)
        check("debt_usd", self.debt_usd)

    @property
    def net_cash_usd(self) -> float:
        """Cash less debt, $."""
        return self.cash_usd - self.debt_usd

    @property
    def operating_cash_flow_usd(self) -> float:
        """gross margin × revenue − fixed costs, $/month."""
        return self.gross_margin * self.revenue_usd_per_month - self.fixed_costs_usd_per_month


def figures_from_history(revenue_usd, gross_profit_usd, fixed_costs_usd, cash_usd: float, debt_usd: float = 0.0,
                         growth_window_months: int = 6) -> FirmFigures:
    """Figures from monthly history arrays (oldest first, the last entry is this month), $ per month each.

    Growth is the geometric mean over the last ``growth_window_months`` (or the history there is):
    (R_now / R_then)^(1/months) − 1; a firm with no revenue then but some now counts as growing 100 % a month
    over the window (assumption: traction is judged as very fast growth), none now — or so little that the
    monthly rate rounds to −100 % in double precision — as 0 growth. Gross margin is
    gross profit / revenue this month (−1 when there is no revenue but variable cost).

    Raises:
        ValueError: empty or unequal arrays, negative revenue.
    """
    r, gp, fc = (np.asarray(a, float) for a in (revenue_usd, gross_profit_usd, fixed_costs_usd))
    if r.size == 0 or r.shape != gp.shape or r.shape != fc.shape:
        raise ValueError(f"history arrays must be equal-length and non-empty: {r.shape}, {gp.shape}, {fc.shape}")
    if np.any(r < 0):
        raise ValueError("revenue_usd: must be >= 0")
    k = min(growth_window_months, r.size - 1)
    now, then = r[-1], r[-1 - k]
    if k == 0 or now == 0:
        growth = 0.0
    elif then > 0:
        growth = (now / then) ** (1.0 / k) - 1.0
        if growth <= -1.0:  # (now / then)^(1/k) below 1e-16: no revenue now to speak of
            growth = 0.0
    else:
        growth = 1.0
    margin = gp[-1] / now if now > 0 else (-1.0 if gp[-1] < 0 else 0.0)
    return FirmFigures(float(now), float(growth), float(margin), float(max(0.0, fc[-1])), cash_usd, debt_usd)


@dataclass(frozen=True)
class ForecastParams:
    """How an investor extrapolates a firm (assumptions, config ``capital.*``).

    Fields:
        horizon_months: months forecast explicitly before the terminal value (≥ 1).
        growth_half_life_months: months over which excess growth over the long-run rate halves (> 0).
        long_run_growth_per_year: growth the firm settles to (fraction/year, also the terminal growth).
        fixed_cost_growth_share: fixed costs grow at this fraction of revenue growth (operating leverage), [0, 1].
        max_growth_per_month: trailing growth above this is capped before extrapolating (> 0).
    """

    horizon_months: int = 60
    growth_half_life_months: float = 18.0
    long_run_growth_per_year: float = 0.03
    fixed_cost_growth_share: float = 0.5
    max_growth_per_month: float = 0.2

    def __post_init__(self) -> None:
        if self.horizon_months < 1:
            raise ValueError(f"horizon_months={self.horizon_months!r}: must be >= 1")
        check("growth_half_life_months", self.growth_half_life_months, strict=True)
        check("long_run_growth_per_year", self.long_run_growth_per_year, lo=-1.0, strict=True)
        if not 0.0 <= self.fixed_cost_growth_share <= 1.0:
            raise ValueError(f"fixed_cost_growth_share={self.fixed_cost_growth_share!r}: must be in [0, 1]")
        check("max_growth_per_month", self.max_growth_per_month, strict=True)


def forecast_cash_flows(fig: FirmFigures, params: ForecastParams) -> tuple[np.ndarray, np.ndarray]:
    """(revenue, operating cash flow), each (T,) $ per month for months 1 … T = ``params.horizon_months``.

    g_t = g_∞ + (g₀ − g_∞) · 2^(−t/h), R_t = R_{t−1}(1 + g_t), F_t = F_{t−1}(1 + s · max(g_t, 0)),
    CF_t = m · R_t − F_t, with g₀ the trailing growth capped at ``max_growth_per_month``, g_∞ the long-run monthly
    growth, h the half-life, s the fixed-cost share and m the gross margin (held constant: assumption, an investor
    does not bet on prices rising later).
    """
    t = np.arange(1, params.horizon_months + 1, dtype=float)
    g_inf = (1.0 + params.long_run_growth_per_year) ** (1.0 / 12.0) - 1.0
    g0 = min(fig.revenue_growth_per_month, params.max_growth_per_month)
    g = g_inf + (g0 - g_inf) * 0.5 ** (t / params.growth_half_life_months)
    revenue = fig.revenue_usd_per_month * np.cumprod(1.0 + g)
    fixed = fig.fixed_costs_usd_per_month * np.cumprod(1.0 + params.fixed_cost_growth_share * np.maximum(g, 0.0))
    return revenue, fig.gross_margin * revenue - fixed


def dcf_value(fig: FirmFigures, required_return_per_year: float, params: ForecastParams) -> float:
    """Discounted cash flow value of the equity ($): PV of the forecast cash flows at the required return, plus
    the PV of a Gordon terminal value on the last month's flow growing at the long-run rate (floored at 0: a
    firm still losing money at the horizon is worth no more than its exit), plus net cash.

    Raises:
        ValueError: a required return not above the long-run growth.
    """
    r = monthly_rate(required_return_per_year)
    g_inf = (1.0 + params.long_run_growth_per_year) ** (1.0 / 12.0) - 1.0
    if r <= g_inf:
        raise ValueError(f"required_return_per_year={required_return_per_year!r} must exceed long_run_growth_per_year")
    _, cf = forecast_cash_flows(fig, params)
    disc = discount_factors(cf.size, r)
    terminal = max(0.0, cf[-1] * (1.0 + g_inf) / (r - g_inf))
    return float(cf @ disc + terminal * disc[-1] + fig.net_cash_usd)


@dataclass(frozen=True)
class MultipleParams:
    """Growth-adjusted revenue multiple: EV = 12 · revenue · (base_multiple + growth_multiple · annual growth⁺)."""

    base_multiple: float = 5.0
    growth_multiple: float = 4.0

    def __post_init__(self) -> None:
        check("base_multiple", self.base_multiple)
        check("growth_multiple", self.growth_multiple)


def multiple_value(fig: FirmFigures, params: MultipleParams) -> float:
    """Equity value ($) at a growth-adjusted revenue multiple: 12 R (m₀ + m₁ · max(0, (1 + g)^12 − 1)) + net
    cash, with g the trailing monthly growth capped at 20 % a month (a 7.9× year)."""
    annual = (1.0 + min(fig.revenue_growth_per_month, 0.2)) ** 12 - 1.0
    multiple = params.base_multiple + params.growth_multiple * max(0.0, annual)
    return 12.0 * fig.revenue_usd_per_month * multiple + fig.net_cash_usd


# ------------------------------------------------------------------------------------------ investors and rounds

@dataclass(frozen=True)
class Investor:
    """An investor: ``appetite`` α ∈ [0, 1] (weight on the revenue-multiple valuation), its required return
    (fraction per year, its cost of capital), and the capital it can put into one round ($)."""

    name: str
    appetite: float
    required_return_per_year: float
    capital_usd: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.appetite <= 1.0:
            raise ValueError(f"appetite={self.appetite!r} out of range: must be in [0, 1]")
        check("required_return_per_year", self.required_return_per_year, strict=True)
        check("capital_usd", self.capital_usd)


def investor_valuation(fig: FirmFigures, investor: Investor, forecast: ForecastParams, multiples: MultipleParams) -> float:
    """α · V_multiple + (1 − α) · V_DCF at the investor's required return ($, equity, may be negative)."""
    a = investor.appetite
    mult = multiple_value(fig, multiples) if a > 0 else 0.0
    dcf = dcf_value(fig, investor.required_return_per_year, forecast) if a < 1 else 0.0
    return a * mult + (1.0 - a) * dcf


@dataclass(frozen=True)
class RoundTerms:
    """A priced round: pre-money valuation ($), amount raised ($), post-money ($), the new investors' share of
    the firm, and who put in how much (names (k,), contributions (k,) $)."""

    pre_money_usd: float
    amount_usd: float
    post_money_usd: float
    new_share: float
    investors: tuple[str, ...]
    contributions_usd: tuple[float, ...]


def round_terms(pre_money_usd: float, contributions: Sequence[tuple[str, float]]) -> RoundTerms:
    """Terms of a round at ``pre_money_usd`` (> 0) with (investor, $) contributions (> 0 in total).

    Raises:
        ValueError: non-positive pre-money or amount.
    """
    pre = check("pre_money_usd", pre_money_usd, strict=True)
    amounts = tuple(check("contribution", c) for _, c in contributions)
    amount = check("amount_usd", sum(amounts), strict=True)
    return RoundTerms(pre, amount, pre + amount, amount / (pre + amount), tuple(n for n, _ in contributions), amounts)


def price_round(fig: FirmFigures, amount_usd: float, investors: Sequence[Investor], forecast: ForecastParams,
                multiples: MultipleParams) -> RoundTerms | None:
    """Price a round of ``amount_usd`` among ``investors`` (uniform pre-money price).

    Investors are ranked by valuation V_i; the price is V_k for the first k whose investors (those valuing the firm
    at ≥ V_k) have the capital to fill the round, each putting in up to its capital, the highest valuations
    first. If all investors with V_i > 0 together cannot fill it, the round raises what they have at the lowest
    positive valuation. None when no investor values the firm above 0 or has capital.

    Raises:
        ValueError: non-positive amount.
    """
    want = check("amount_usd", amount_usd, strict=True)
    ranked = sorted(((investor_valuation(fig, i, forecast, multiples), i) for i in investors),
                    key=lambda x: (-x[0], x[1].name))
    ranked = [(v, i) for v, i in ranked if v > 0 and i.capital_usd > 0]
    if not ranked:
        return None
    filled, price, k = 0.0, ranked[-1][0], len(ranked)
    for j, (v, inv) in enumerate(ranked):
        filled += inv.capital_usd
        if filled >= want:
            price, k = v, j + 1
            break
    left, contributions = want, []
    for v, inv in ranked[:k]:
        put = min(inv.capital_usd, left)
        if put > 0:
            contributions.append((inv.name, put))
            left -= put
    return round_terms(price, contributions)


@dataclass(frozen=True)
class RoundPricer:
    """The capital market's pricing rule as a firm forecasts it (``market.objective.RoundPricing``): given a
    firm's monthly history, the pre-money valuation ($) a round of ``amount_usd`` would get (0: no round)."""

    investors: tuple[Investor, ...]
    forecast: ForecastParams = ForecastParams()
    multiples: MultipleParams = MultipleParams()

    def pre_money_usd(self, revenue_usd, gross_profit_usd, fixed_costs_usd, cash_usd: float,
                      amount_usd: float) -> float:
        """Pre-money valuation of a round of ``amount_usd`` on this history (arrays oldest first), 0 if none."""
        fig = figures_from_history(revenue_usd, gross_profit_usd, fixed_costs_usd, cash_usd)
        terms = price_round(fig, amount_usd, self.investors, self.forecast, self.multiples) if amount_usd > 0 else None
        return terms.pre_money_usd if terms is not None else 0.0

    def market_value_usd(self, revenue_usd, gross_profit_usd, fixed_costs_usd, cash_usd: float) -> float:
        """The highest investor valuation of the equity ($, floored at 0): what the owners could sell at."""
        fig = figures_from_history(revenue_usd, gross_profit_usd, fixed_costs_usd, cash_usd)
        return max(0.0, max((investor_valuation(fig, i, self.forecast, self.multiples) for i in self.investors),
                            default=0.0))


def round_size_usd(burn_usd_per_month: float, cash_usd: float, months_of_burn: float, max_raise_usd: float) -> float:
    """What a firm asks for: ``months_of_burn`` months of its burn plus any negative cash, capped (all $)."""
    need = check("burn_usd_per_month", burn_usd_per_month) * check("months_of_burn", months_of_burn) + max(0.0, -cash_usd)
    return min(need, check("max_raise_usd", max_raise_usd))


# ------------------------------------------------------------------------------------------ cap tables

@dataclass(frozen=True)
class CapTable:
    """Who owns a firm: holders (index 0: the original owners), their shares (sum 1), and what each paid in and
    received, $. Frozen; every operation returns a new table.

    Raises:
        ValueError: unequal lengths, negative shares, or shares not summing to 1 (while the firm is alive).
    """

    holders: tuple[str, ...] = ("owners",)
    shares: tuple[float, ...] = (1.0,)
    paid_in_usd: tuple[float, ...] = (0.0,)
    received_usd: tuple[float, ...] = (0.0,)

    def __post_init__(self) -> None:
        n = len(self.holders)
        if not (len(self.shares) == len(self.paid_in_usd) == len(self.received_usd) == n) or n == 0:
            raise ValueError("CapTable: holders, shares, paid_in_usd and received_usd must have equal, non-zero length")
        if len(set(self.holders)) != n:
            raise ValueError(f"CapTable: holders must be unique, got {self.holders}")
        s = np.asarray(self.shares, float)
        if np.any(s < 0) or not (math.isclose(s.sum(), 1.0, abs_tol=1e-9) or s.sum() == 0.0):
            raise ValueError(f"CapTable: shares must be >= 0 and sum to 1 (or all 0 after exit), got {self.shares}")

    @property
    def owners_share(self) -> float:
        """Share of the original owners (holder 0)."""
        return self.shares[0]

    def share_of(self, holder: str) -> float:
        """Share of ``holder`` (0 if not a holder)."""
        return self.shares[self.holders.index(holder)] if holder in self.holders else 0.0

    def after_round(self, terms: RoundTerms) -> CapTable:
        """Dilute everyone by pre / post and give each new investor contribution / post; record what they paid."""
        keep = terms.pre_money_usd / terms.post_money_usd
        holders, shares = list(self.holders), [s * keep for s in self.shares]
        paid, received = list(self.paid_in_usd), list(self.received_usd)
        for name, put in zip(terms.investors, terms.contributions_usd):
            if name not in holders:
                holders.append(name)
                shares.append(0.0)
                paid.append(0.0)
                received.append(0.0)
            i = holders.index(name)
            shares[i] += put / terms.post_money_usd
            paid[i] += put
        return CapTable(tuple(holders), tuple(shares), tuple(paid), tuple(received))

    def distribute(self, amount_usd: float, final: bool = False) -> tuple[CapTable, np.ndarray]:
        """Pay ``amount_usd`` (≥ 0) to holders pro rata (a dividend, or exit proceeds when ``final``, after which
        every share is 0). Returns (new table, (k,) payouts $)."""
        pay = np.asarray(self.shares, float) * check("amount_usd", amount_usd)
        received = tuple(r + p for r, p in zip(self.received_usd, pay))
        shares = tuple(0.0 for _ in self.shares) if final else self.shares
        return replace(self, shares=shares, received_usd=received), pay

    def gains_usd(self) -> np.ndarray:
        """(k,) realised gain of each holder: received − paid in, $ (an investor wiped out by an exit shows
        minus what it paid)."""
        return np.asarray(self.received_usd, float) - np.asarray(self.paid_in_usd, float)

    def marks_usd(self, equity_value_usd: float) -> np.ndarray:
        """(k,) each holder's stake valued at ``equity_value_usd`` (e.g. the last post-money), $."""
        return np.asarray(self.shares, float) * equity_value_usd


# ------------------------------------------------------------------------------------------ parents

@dataclass(frozen=True)
class Parent:
    """A parent: the most it transfers a month ($, ≥ 0) and its hurdle rate (fraction per year, > 0)."""

    budget_usd_per_month: float
    hurdle_per_year: float

    def __post_init__(self) -> None:
        check("budget_usd_per_month", self.budget_usd_per_month)
        check("hurdle_per_year", self.hurdle_per_year, strict=True)


def parent_of(funding: str, parent_budget_usd_per_month: float, cost_of_capital_self_funded: float,
              cost_of_capital_efficient: float) -> Parent | None:
    """The parent behind a funding type: ``self_funded`` → its budget at the self-funded hurdle; ``efficient`` →
    a small parent (a quant fund) with its budget at the efficient lab's cost of capital; ``investor`` → None
    (it raises rounds instead).

    Raises:
        ValueError: an unknown funding type.
    """
    if funding == "investor":
        return None
    if funding == "self_funded":
        return Parent(parent_budget_usd_per_month, cost_of_capital_self_funded)
    if funding == "efficient":
        return Parent(parent_budget_usd_per_month, cost_of_capital_efficient)
    raise ValueError(f"funding={funding!r}: allowed: investor, self_funded, efficient")


def value_to_parent(fig: FirmFigures, parent: Parent, forecast: ForecastParams, strategic_value_usd: float = 0.0) -> float:
    """The unit's value to its parent ($): DCF of its forecast at the parent's hurdle plus any strategic value
    the parent puts on it (its other businesses' gain, supplied by the model; 0 by default)."""
    return dcf_value(fig, parent.hurdle_per_year, forecast) + strategic_value_usd


def parent_transfer(burn_usd_per_month: float, value_usd: float, parent: Parent, spent_usd: float = 0.0) -> float:
    """Transfer ($) the parent makes this month: the burn, up to what is left of its budget (``spent_usd``
    already used), if the unit is worth more than 0 to it; else nothing."""
    burn = check("burn_usd_per_month", burn_usd_per_month)
    if value_usd <= 0 or burn == 0:
        return 0.0
    return min(burn, max(0.0, parent.budget_usd_per_month - check("spent_usd", spent_usd)))


def forecast_params_from_config(capital_cfg) -> ForecastParams:
    """Investors' forecast rule from a ``CapitalConfig``."""
    return ForecastParams(capital_cfg.forecast_months, capital_cfg.growth_half_life_months,
                          capital_cfg.long_run_growth_per_year, capital_cfg.fixed_cost_growth_share)


def pricer_from_config(capital_cfg, finance_cfg) -> RoundPricer:
    """One investor per appetite of ``capital.appetites``, each requiring ``finance.cost_of_capital_investor``
    and holding ``capital.investor_capital_usd`` a round; their forecast and multiple rules from the config."""
    investors = tuple(Investor(f"investor_{i + 1}", a, finance_cfg.cost_of_capital_investor,
                               capital_cfg.investor_capital_usd) for i, a in enumerate(capital_cfg.appetites))
    return RoundPricer(investors, forecast_params_from_config(capital_cfg),
                       MultipleParams(capital_cfg.base_multiple, capital_cfg.growth_multiple))
