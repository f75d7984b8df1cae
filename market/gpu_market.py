"""The GPU market (DESIGN.md §4 steps 1 and 5; issue 13 item 1): a stock of accelerators that grows with
deliveries along a calibrated supply path, owners' orders placed with a lead time, owned vs rented cost, and a
rental price that clears renters' demand schedules against the rentable stock.

Units: GPUs are H100-equivalents; flows of GPUs are GPUs per month; prices are $ per GPU-hour; a month is
``costs.HOURS_PER_MONTH`` hours; rounds are months with round 0 = July 2024 (``market.calendar``).

Supply path. NVIDIA's data-centre revenue (the ``nvidia_dc_revenue_*`` rows, $ per fiscal quarter) is turned into
H100-equivalents shipped per month world-wide:

    deliveries (GPUs/month) = revenue ($/quarter) / 3 / price per GPU ($, `h100_msrp_usd`),

dated at the middle of the fiscal quarter (its end date minus 1.5 months) and interpolated log-linearly between
points. For example `nvidia_dc_revenue_fy25_q3` (30.8 $B, quarter ending 2024-10-27): 30.8e9 / 3 / 30,000 =
342,222 H100-equivalents a month around mid-September 2024. Assumptions: all of the revenue buys accelerators at
the H100's price (networking sold with them counts as part of the price, so the count is a little high; newer,
dearer chips count as several H100s, i.e. price per unit of compute is held constant across generations);
accelerators shipped before the first point (A100 and older) are left out. Only a share of the world's supply
serves the market the model simulates (``gpu_market.supply_share``); the rest serves other AI work.

Stock. Every month a fraction 1 / life of the stock retires (geometric retirement, the model's four-year life);
owners' orders are claims on the deliveries of the month they arrive in (order round + lead time); whatever
owners do not claim goes to clouds and joins the rentable stock, as do the GPUs that exiting firms sell.

Rental price. Renters (labs topping up, hosts, the rest of the market as an isoelastic outside demand) submit
demand schedules: GPUs wanted as a function of the rent. The rentable stock is fixed within the month
(inelastic supply), so the rent is the price at which demand equals it; it cannot fall below the holders'
running cost (they would rather idle the GPU) nor rise above the ceiling (hyperscalers' on-demand list price),
where demand is rationed pro rata. Owned GPUs cost their capital recovery over their life at the owner's cost of
capital plus running cost, and commit the owner for that life; rented GPUs cost the rent and can be dropped
each month.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from market import calibration as cal
from market import path_targets
from market.calendar import round_of
from market.checks import check
from market.costs import HOURS_PER_MONTH
from market.objective import annuity_factor

# The NVIDIA data-centre revenue rows of the dated paths (market/data/path_targets.csv; USD billion per fiscal
# quarter), oldest first: the supply path is an input read from them, so they are no calibration target.
NVIDIA_DC_REVENUE_KEYS: tuple[str, ...] = (
    "nvidia_dc_revenue_fy24_q1_derived", "nvidia_dc_revenue_fy24_q2", "nvidia_dc_revenue_fy25_q3",
    "nvidia_dc_revenue_fy26_q1", "nvidia_dc_revenue_fy26_q4", "nvidia_dc_revenue_fy27_q1")
MONTHS_PER_QUARTER = 3.0
_BISECTION_STEPS = 200


# ------------------------------------------------------------------------------------------ supply path

@dataclass(frozen=True)
class SupplyPath:
    """Accelerator deliveries to the simulated market, GPUs per month, at dated points.

    Fields:
        rounds: (k,) strictly increasing rounds of the points (months since July 2024; may be negative).
        gpus_per_month: (k,) deliveries at those rounds, > 0 (already multiplied by the market's supply share).
        growth_after_per_year: growth of deliveries after the last point, fraction per year (> −1); 0 holds the
            last point flat (no forecast beyond the data).

    Between points deliveries are interpolated log-linearly (constant growth); before the first point they
    continue the first segment's growth backward (used only to build the initial stock).

    Raises:
        ValueError: empty or unequal arrays, rounds not increasing, non-positive deliveries, growth ≤ −1.
    """

    rounds: tuple[float, ...]
    gpus_per_month: tuple[float, ...]
    growth_after_per_year: float = 0.0

    def __post_init__(self) -> None:
        r, g = np.asarray(self.rounds, float), np.asarray(self.gpus_per_month, float)
        if r.ndim != 1 or r.size == 0 or r.shape != g.shape:
            raise ValueError(f"rounds and gpus_per_month must be equal-length, non-empty: {r.shape} vs {g.shape}")
        if np.any(np.diff(r) <= 0) or not np.all(np.isfinite(r)):
            raise ValueError(f"rounds={self.rounds!r}: must be finite and strictly increasing")
        if np.any(~np.isfinite(g) | (g <= 0)):
            raise ValueError(f"gpus_per_month={self.gpus_per_month!r}: must be finite and > 0")
        check("growth_after_per_year", self.growth_after_per_year, lo=-1.0, strict=True)

    def deliveries(self, round_: float | np.ndarray) -> float | np.ndarray:
        """GPUs delivered per month at ``round_`` (scalar or array of rounds)."""
        r = np.asarray(self.rounds, float)
        lg = np.log(np.asarray(self.gpus_per_month, float))
        x = np.asarray(round_, float)
        inside = np.interp(x, r, lg)
        if r.size > 1:
            first_slope = (lg[1] - lg[0]) / (r[1] - r[0])
            inside = np.where(x < r[0], lg[0] + first_slope * (x - r[0]), inside)
        after = lg[-1] + np.log1p(self.growth_after_per_year) / 12.0 * (x - r[-1])
        out = np.exp(np.where(x > r[-1], after, inside))
        return float(out) if out.ndim == 0 else out


def quarter_mid_round(quarter_end: str) -> float:
    """Round of the middle of a fiscal quarter that ends on ``quarter_end`` (``YYYY-MM-DD``): its end minus 1.5
    months. Raises ``market.calendar.DateError`` for a bad date."""
    return round_of(quarter_end) - MONTHS_PER_QUARTER / 2.0


def supply_path_from_revenue(points: Sequence[tuple[str, float]], usd_per_gpu: float, supply_share: float = 1.0,
                             growth_after_per_year: float = 0.0) -> SupplyPath:
    """Deliveries implied by accelerator revenue: ``revenue / 3 / usd_per_gpu × supply_share`` GPUs per month.

    Args:
        points: (quarter end date ``YYYY-MM-DD``, revenue in $ per quarter) pairs, in date order.
        usd_per_gpu: price of one H100-equivalent, $ (> 0; `h100_msrp_usd`).
        supply_share: share of world deliveries reaching the simulated market, in (0, 1].
        growth_after_per_year: see :class:`SupplyPath`.

    Raises:
        ValueError: non-positive price or revenue, share outside (0, 1], dates out of order.
    """
    check("usd_per_gpu", usd_per_gpu, strict=True)
    if not 0.0 < supply_share <= 1.0:
        raise ValueError(f"supply_share={supply_share!r} out of range: must be in (0, 1]")
    rounds = tuple(quarter_mid_round(d) for d, _ in points)
    gpus = tuple(check("revenue", usd, strict=True) / MONTHS_PER_QUARTER / usd_per_gpu * supply_share
                 for _, usd in points)
    return SupplyPath(rounds, gpus, growth_after_per_year)


def nvidia_supply_path(supply_share: float, usd_per_gpu: float | None = None,
                       growth_after_per_year: float = 0.0) -> SupplyPath:
    """:func:`supply_path_from_revenue` on the ``NVIDIA_DC_REVENUE_KEYS`` rows of the dated paths (USD billion per
    quarter, dated by their ``as_of`` quarter end) at ``usd_per_gpu`` (default `h100_msrp_usd`)."""
    price = cal.value("h100_msrp_usd") if usd_per_gpu is None else usd_per_gpu
    points = [(path_targets.row(k)["as_of"], path_targets.value(k) * 1e9) for k in NVIDIA_DC_REVENUE_KEYS]
    return supply_path_from_revenue(points, price, supply_share, growth_after_per_year)


def stock_at(path: SupplyPath, round_: int, life_months: float, start_round: float | None = None) -> float:
    """GPUs in service at the start of ``round_``: deliveries of every month from ``start_round`` (default: the
    path's first point, rounded down) to ``round_ − 1``, each vintage shrinking by 1 / ``life_months`` a month.

    S(t + 1) = S(t) (1 − 1/L) + D(t), S(start) = 0, so S(T) = Σ_k D(k) (1 − 1/L)^(T − 1 − k).

    Raises:
        ValueError: ``life_months`` ≤ 1.
    """
    life = check("life_months", life_months, lo=1.0, strict=True)
    start = math.floor(path.rounds[0] if start_round is None else start_round)
    months = np.arange(start, round_, dtype=float)
    if months.size == 0:
        return 0.0
    keep = (1.0 - 1.0 / life) ** (round_ - 1 - months)
    return float(np.sum(np.asarray(path.deliveries(months)) * keep))


def retire(gpus: float, life_months: float) -> float:
    """GPUs left after one month of retirement (a fraction 1 / ``life_months`` retires). Raises ValueError for
    negative GPUs or a life ≤ 1."""
    return check("gpus", gpus) * (1.0 - 1.0 / check("life_months", life_months, lo=1.0, strict=True))


# ------------------------------------------------------------------------------------------ orders

@dataclass(frozen=True)
class OrderBook:
    """Owners' claims on future deliveries: ``claimed[i]`` GPUs of round ``first_round + i``'s deliveries."""

    first_round: int = 0
    claimed: tuple[float, ...] = ()

    def claimed_at(self, round_: int) -> float:
        """GPUs of round ``round_``'s deliveries already claimed by owners."""
        i = round_ - self.first_round
        return self.claimed[i] if 0 <= i < len(self.claimed) else 0.0

    def due(self, round_: int) -> float:
        """Owners' GPUs arriving in ``round_`` (the claims on that round's deliveries)."""
        return self.claimed_at(round_)

    def after(self, round_: int) -> OrderBook:
        """The book without the claims of rounds ≤ ``round_`` (already delivered)."""
        drop = max(0, round_ + 1 - self.first_round)
        return OrderBook(self.first_round + drop, self.claimed[drop:])


@dataclass(frozen=True)
class OrderFill:
    """Result of one round's orders: ``granted`` (n,) GPUs each owner will receive at ``delivery_round``, the
    updated book, and the fill ratio (granted / requested, 1 when nothing was rationed)."""

    granted: np.ndarray
    delivery_round: int
    book: OrderBook
    fill_ratio: float


def place_orders(book: OrderBook, path: SupplyPath, now: int, lead_months: int, requests_gpus) -> OrderFill:
    """Owners order GPUs at round ``now`` for delivery at ``now + lead_months``.

    Orders claim that round's deliveries not yet claimed; when requests exceed what is left every owner gets the
    same fraction of its request (pro-rata rationing, assumption: the vendor allocates scarce supply in
    proportion to orders). What owners leave unclaimed goes to clouds, i.e. to the rentable stock, on delivery.

    Args:
        requests_gpus: (n,) GPUs each owner asks for, ≥ 0.

    Raises:
        ValueError: negative requests or lead time.
    """
    req = np.asarray(requests_gpus, float)
    if np.any(~np.isfinite(req) | (req < 0)):
        raise ValueError(f"requests_gpus={requests_gpus!r}: must be finite and >= 0")
    if lead_months < 0:
        raise ValueError(f"lead_months={lead_months!r}: must be >= 0")
    d = now + lead_months
    left = max(0.0, float(path.deliveries(d)) - book.claimed_at(d))
    total = float(req.sum())
    ratio = 1.0 if total <= left else left / total
    granted = req * ratio
    first = min(book.first_round, d) if book.claimed else d
    last = max(book.first_round + len(book.claimed) - 1, d) if book.claimed else d
    claims = [book.claimed_at(r) for r in range(first, last + 1)]
    claims[d - first] += float(granted.sum())
    return OrderFill(granted, d, OrderBook(first, tuple(claims)), ratio)


def advance_rentable(rentable_gpus: float, deliveries_gpus: float, owners_received_gpus: float,
                     released_gpus: float, life_months: float) -> float:
    """Rentable stock next month: this month's survivors plus unclaimed deliveries plus GPUs released by exits.

    R' = R (1 − 1/L) + (D − owners' deliveries) + released. Raises ValueError for negative inputs or when owners
    received more than was delivered.
    """
    for name, v in (("rentable_gpus", rentable_gpus), ("deliveries_gpus", deliveries_gpus),
                    ("owners_received_gpus", owners_received_gpus), ("released_gpus", released_gpus)):
        check(name, v)
    if owners_received_gpus > deliveries_gpus * (1 + 1e-12):
        raise ValueError(f"owners_received_gpus={owners_received_gpus!r} exceeds deliveries_gpus={deliveries_gpus!r}")
    return retire(rentable_gpus, life_months) + max(0.0, deliveries_gpus - owners_received_gpus) + released_gpus


# ------------------------------------------------------------------------------------------ owned vs rented

def owned_cost_usd_per_gpu_hour(capex_usd: float, life_months: float, opex_usd_per_gpu_hour: float,
                                rate_monthly: float = 0.0) -> float:
    """Cost of an owned GPU per hour: capital recovery over its life plus running cost.

    capex / annuity_factor(life, r) / HOURS_PER_MONTH + opex: the level monthly payment whose present value at
    the owner's cost of capital r (per month) repays the purchase, per hour. With r = 0, a 36-month life,
    `h100_allin_cluster_capex_per_gpu_usd` and 20 % running cost on top it gives 2.28 $/h, the estimate
    `h100_atcost_usd_per_gpu_hour_estimate` (2.3) is built the same way.

    Raises:
        ValueError: negative capex or opex, life ≤ 0, rate ≤ −1.
    """
    check("capex_usd", capex_usd)
    check("life_months", life_months, strict=True)
    check("opex_usd_per_gpu_hour", opex_usd_per_gpu_hour)
    return capex_usd / annuity_factor(life_months, rate_monthly) / HOURS_PER_MONTH + opex_usd_per_gpu_hour


def value_of_buying(rent_path_usd_per_hour, capex_usd: float, opex_usd_per_gpu_hour: float,
                    rate_monthly: float, utilisation: float = 1.0) -> float:
    """Net present value ($) of buying one GPU instead of renting one for the months of ``rent_path``.

    NPV = Σ_t (u · rent_t − opex) · HOURS_PER_MONTH / (1 + r)^t − capex: an owned GPU saves the rent of the hours
    it is used (u, utilisation) and costs its running cost every hour of its life; a rented one can be dropped.
    Buy when positive. ``rent_path`` (T,) is the buyer's forecast of the rent over the GPU's life.

    Raises:
        ValueError: negative rents, capex or opex; utilisation outside [0, 1].
    """
    rent = np.asarray(rent_path_usd_per_hour, float)
    if np.any(~np.isfinite(rent) | (rent < 0)):
        raise ValueError(f"rent_path_usd_per_hour={rent_path_usd_per_hour!r}: must be finite and >= 0")
    if not 0.0 <= utilisation <= 1.0:
        raise ValueError(f"utilisation={utilisation!r} out of range: must be in [0, 1]")
    check("capex_usd", capex_usd)
    check("opex_usd_per_gpu_hour", opex_usd_per_gpu_hour)
    disc = (1.0 + rate_monthly) ** -np.arange(1, rent.size + 1, dtype=float)
    return float(((utilisation * rent - opex_usd_per_gpu_hour) * HOURS_PER_MONTH) @ disc - capex_usd)


def used_gpu_value_usd(rent_usd_per_hour: float, opex_usd_per_gpu_hour: float, remaining_months: float,
                       rate_monthly: float) -> float:
    """What a cloud pays for a used GPU ($): the present value of renting it out at today's rent for its
    remaining life, net of running cost, floored at 0 (a GPU that cannot cover its running cost is scrap).

    = max(0, rent − opex) · HOURS_PER_MONTH · annuity_factor(remaining, r). Assumption: the buyer expects
    today's rent to last.
    """
    check("remaining_months", remaining_months)
    margin = max(0.0, check("rent_usd_per_hour", rent_usd_per_hour) - check("opex_usd_per_gpu_hour", opex_usd_per_gpu_hour))
    return margin * HOURS_PER_MONTH * annuity_factor(remaining_months, rate_monthly)


# ------------------------------------------------------------------------------------------ rental demand

@dataclass(frozen=True)
class DemandSchedule:
    """A renter's demand schedule: GPUs wanted at each rent ($/GPU-hour), piecewise linear through points.

    Fields:
        prices_usd_per_hour: (k,) non-decreasing rents (two equal rents make a vertical step).
        gpus: (k,) non-increasing GPUs wanted at those rents, ≥ 0. Below the first rent the first quantity holds,
            above the last rent the last quantity holds.

    Raises:
        ValueError: shapes differ or are empty, prices decrease, quantities increase or are negative.
    """

    prices_usd_per_hour: tuple[float, ...]
    gpus: tuple[float, ...]

    def __post_init__(self) -> None:
        p, q = np.asarray(self.prices_usd_per_hour, float), np.asarray(self.gpus, float)
        if p.ndim != 1 or p.size == 0 or p.shape != q.shape:
            raise ValueError(f"prices_usd_per_hour and gpus must be equal-length, non-empty: {p.shape} vs {q.shape}")
        if np.any(~np.isfinite(p)) or np.any(np.diff(p) < 0):
            raise ValueError(f"prices_usd_per_hour={self.prices_usd_per_hour!r}: must be finite and non-decreasing")
        if np.any(~np.isfinite(q) | (q < 0)) or np.any(np.diff(q) > 0):
            raise ValueError(f"gpus={self.gpus!r}: must be finite, >= 0 and non-increasing")

    def gpus_at(self, rent: float, side: str = "above") -> float:
        """GPUs wanted at ``rent``: just above it (``side="above"``, the smaller quantity on a vertical step) or
        just below it (``"below"``, the larger)."""
        p, q = self.prices_usd_per_hour, self.gpus
        i = bisect_right(p, rent) if side == "above" else bisect_left(p, rent)
        if i == 0:
            return q[0]
        if i == len(p):
            return q[-1]
        x0, x1, y0, y1 = p[i - 1], p[i], q[i - 1], q[i]
        return y0 + (y1 - y0) * (rent - x0) / (x1 - x0) if x1 > x0 else (y0 if side == "above" else y1)


def linear_schedule(intercept_gpus: float, slope_gpus_per_usd: float) -> DemandSchedule:
    """q(p) = max(0, a − b·p): ``intercept_gpus`` a ≥ 0 at rent 0, falling by ``slope_gpus_per_usd`` b > 0 per
    $/GPU-hour. Raises ValueError for a < 0 or b ≤ 0."""
    a = check("intercept_gpus", intercept_gpus)
    b = check("slope_gpus_per_usd", slope_gpus_per_usd, strict=True)
    return DemandSchedule((0.0, a / b), (a, 0.0))


def step_schedule(gpus: float, reservation_usd_per_hour: float) -> DemandSchedule:
    """``gpus`` wanted at any rent below ``reservation_usd_per_hour``, none above (a vertical step there)."""
    g, r = check("gpus", gpus), check("reservation_usd_per_hour", reservation_usd_per_hour)
    return DemandSchedule((r, r), (g, 0.0))


@dataclass(frozen=True)
class OutsideDemand:
    """The rest of the market's rental demand: q(p) = scale_gpus · (p / reference_rent)^(−elasticity).

    Fields: ``scale_gpus`` (≥ 0, GPUs wanted at the reference rent), ``reference_rent_usd_per_hour`` (> 0),
    ``elasticity`` (≥ 0; 0 is a fixed quantity).
    """

    scale_gpus: float
    reference_rent_usd_per_hour: float
    elasticity: float

    def __post_init__(self) -> None:
        check("scale_gpus", self.scale_gpus)
        check("reference_rent_usd_per_hour", self.reference_rent_usd_per_hour, strict=True)
        check("elasticity", self.elasticity)

    def gpus_at(self, rent: float) -> float:
        """GPUs wanted at ``rent`` ($/GPU-hour, > 0)."""
        return self.scale_gpus * (rent / self.reference_rent_usd_per_hour) ** -self.elasticity

    def scaled(self, factor: float) -> OutsideDemand:
        """The same schedule with ``scale_gpus`` multiplied by ``factor`` (≥ 0), e.g. growing with the stock."""
        return OutsideDemand(self.scale_gpus * check("factor", factor), self.reference_rent_usd_per_hour,
                             self.elasticity)


def calibrate_outside_demand(rentable_gpus: float, schedules: Sequence[DemandSchedule], reference_rent: float,
                             elasticity: float) -> OutsideDemand:
    """Outside demand that makes the market clear at ``reference_rent`` given the modelled renters' schedules:
    scale = rentable − Σ modelled demand at the reference rent, floored at 0 (when the modelled renters alone
    want more than the stock, the rent will clear above the reference)."""
    inside = sum(s.gpus_at(reference_rent, "above") for s in schedules)
    return OutsideDemand(max(0.0, check("rentable_gpus", rentable_gpus) - inside), reference_rent, elasticity)


@dataclass(frozen=True)
class RentClearing:
    """The rental market's outcome this month.

    Fields:
        rent_usd_per_gpu_hour: the clearing rent.
        supply_gpus: rentable stock offered.
        rented_gpus: (n,) GPUs each modelled renter gets.
        outside_gpus: GPUs the outside demand gets.
        idle_gpus: rentable GPUs nobody rents (> 0 only at the floor).
        unmet_gpus: demand left unserved (> 0 only at the ceiling, where demand is rationed pro rata).
    """

    rent_usd_per_gpu_hour: float
    supply_gpus: float
    rented_gpus: np.ndarray
    outside_gpus: float
    idle_gpus: float
    unmet_gpus: float


def clear_rent(schedules: Sequence[DemandSchedule], supply_gpus: float, floor_usd_per_hour: float,
               ceiling_usd_per_hour: float, outside: OutsideDemand | None = None) -> RentClearing:
    """Clear the rental market: the rent p at which total demand (modelled renters + outside) equals supply.

    Demand is non-increasing in the rent, so p is found by bisection (halving [floor, ceiling] until the bracket is 1e-14 of the rent) on
    the sign of excess demand. Where demand jumps across supply at p (a vertical step) the renters on the step
    share what is left in proportion to their step. Corners: demand at the floor ≤ supply → rent = floor, every
    renter gets its demand there and the rest idles; demand at the ceiling > supply → rent = ceiling and every
    renter gets the same fraction of its demand.

    Args:
        schedules: the modelled renters' demand schedules (n may be 0).
        supply_gpus: rentable stock, ≥ 0 (inelastic within the month).
        floor_usd_per_hour: holders' running cost (> 0): they idle a GPU rather than rent it for less.
        ceiling_usd_per_hour: highest rent (> floor): the on-demand list price.
        outside: the rest of the market's demand, or None.

    Raises:
        ValueError: negative supply, floor ≤ 0 or ceiling ≤ floor.
    """
    s = check("supply_gpus", supply_gpus)
    lo = check("floor_usd_per_hour", floor_usd_per_hour, strict=True)
    hi = float(ceiling_usd_per_hour)
    if not hi > lo:
        raise ValueError(f"ceiling_usd_per_hour={ceiling_usd_per_hour!r} must exceed floor_usd_per_hour={lo!r}")

    def demand(p: float, side: str) -> np.ndarray:
        inside = [sch.gpus_at(p, side) for sch in schedules]
        return np.array([*inside, outside.gpus_at(p) if outside is not None else 0.0])

    at_floor = demand(lo, "below")
    if at_floor.sum() <= s:
        return RentClearing(lo, s, at_floor[:-1], float(at_floor[-1]), s - float(at_floor.sum()), 0.0)
    at_ceiling = demand(hi, "above")
    if at_ceiling.sum() > s:
        got = at_ceiling * (s / at_ceiling.sum())
        return RentClearing(hi, s, got[:-1], float(got[-1]), 0.0, float(at_ceiling.sum()) - s)
    # Invariant: demand just above a > s ≥ demand just above b.
    a, b = lo, hi
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (a + b)
        if b - a <= 1e-14 * b or mid <= a or mid >= b:
            break
        total = sum(sch.gpus_at(mid, "above") for sch in schedules)
        if total + (outside.gpus_at(mid) if outside is not None else 0.0) > s:
            a = mid
        else:
            b = mid
    high, low = demand(a, "above"), demand(b, "above")
    gap = high.sum() - low.sum()
    theta = 0.0 if gap <= 0 else (s - low.sum()) / gap
    got = low + theta * (high - low)
    return RentClearing(0.5 * (a + b), s, got[:-1], float(got[-1]), 0.0, 0.0)


@dataclass(frozen=True)
class GpuMarketState:
    """The GPU market between rounds: the rentable stock (GPUs), owners' order book, the last clearing rent
    ($/GPU-hour) and the outside demand. Kept by the model; every function here returns a new one."""

    round: int
    rentable_gpus: float
    rent_usd_per_gpu_hour: float
    book: OrderBook = field(default_factory=OrderBook)
    outside: OutsideDemand | None = None


def deliver(state: GpuMarketState, path: SupplyPath, life_months: float, released_gpus: float = 0.0,
            outside_tracks_supply: bool = True) -> tuple[GpuMarketState, float]:
    """World moves of one month (DESIGN.md §4 step 1): round ``state.round + 1``'s deliveries arrive.

    Owners' claims on them are handed back (the second return value, GPUs the model adds to owners' fleets in
    proportion to their orders); the rest joins the rentable stock with ``released_gpus`` (sold by exiting firms)
    and the survivors of last month. With ``outside_tracks_supply`` the outside demand grows with the path's
    stock (assumption: the rest of the market's demand keeps pace with supply, so the rent moves only through
    the modelled firms and their exits).

    Returns:
        (new state, GPUs delivered to owners this round).
    """
    now = state.round + 1
    delivered = float(path.deliveries(now))
    owners = min(delivered, state.book.due(now))
    rentable = advance_rentable(state.rentable_gpus, delivered, owners, released_gpus, life_months)
    outside = state.outside
    if outside is not None and outside_tracks_supply:
        before = stock_at(path, state.round, life_months)
        outside = outside.scaled(stock_at(path, now, life_months) / before if before > 0 else 1.0)
    return GpuMarketState(now, rentable, state.rent_usd_per_gpu_hour, state.book.after(now), outside), owners


def clear(state: GpuMarketState, schedules: Sequence[DemandSchedule], floor_usd_per_hour: float,
          ceiling_usd_per_hour: float) -> tuple[GpuMarketState, RentClearing]:
    """Clear this month's rental market (DESIGN.md §4 step 5) on the state's rentable stock and outside demand;
    the state keeps the new rent. See :func:`clear_rent`."""
    result = clear_rent(schedules, state.rentable_gpus, floor_usd_per_hour, ceiling_usd_per_hour, state.outside)
    return GpuMarketState(state.round, state.rentable_gpus, result.rent_usd_per_gpu_hour, state.book,
                          state.outside), result


def supply_path_from_config(cfg) -> SupplyPath:
    """The NVIDIA supply path of a ``GpuMarketConfig`` (supply share, price per GPU, growth after the path)."""
    return nvidia_supply_path(cfg.supply_share, cfg.usd_per_gpu, cfg.growth_after_path_per_year)


def initial_state(path: SupplyPath, life_months: float, owned_gpus: float, schedules: Sequence[DemandSchedule],
                  reference_rent_usd_per_hour: float, elasticity: float, round_: int = 0) -> GpuMarketState:
    """The market at the start: the rentable stock is the path's stock at ``round_`` less the owners' fleets
    (floored at 0), and the outside demand is calibrated so that the rent clears at the reference rent given the
    modelled renters' ``schedules`` (``calibrate_outside_demand``).

    Raises:
        ValueError: negative owned GPUs.
    """
    rentable = max(0.0, stock_at(path, round_, life_months) - check("owned_gpus", owned_gpus))
    outside = calibrate_outside_demand(rentable, schedules, reference_rent_usd_per_hour, elasticity)
    return GpuMarketState(round_, rentable, reference_rent_usd_per_hour, OrderBook(round_ + 1), outside)
