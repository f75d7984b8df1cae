"""How a lab splits its GPUs among uses by marginal value (DESIGN.md Q1; issue 13 item 2). Pure: floats in, frozen
dataclasses out; no market imports.

Each use u (paid serving, free tier, training, inference R&D) has a marginal value v_u(g) of its g-th GPU, in $
per GPU-hour, non-increasing in g. The fleet F is split so that every use with GPUs has the same marginal value λ
(the shadow price of a GPU-hour) and every use without GPUs is worth less than λ at its first GPU:

    g_u(λ) = GPUs at which v_u falls to λ,   Σ_u g_u(λ) = F   (water-filling on λ).

If the uses together want fewer GPUs than the fleet even at λ = 0 (every use capped), the rest idles and λ = 0.
The same g_u(λ), read as a function of λ = the rent, is the lab's demand schedule for GPUs (``gpus_wanted``).

Two shapes cover the uses:
* :class:`ConcaveUse`: v(g) = a / (r + g) + c on [0, cap]: the derivative of a logarithmic value a·ln(1 + g/r)
  plus a constant c. Training, the free tier's data and inference R&D have this form because the model's
  quality and skill gains are logarithmic in compute, data and research (``training_use``, ``free_tier_use``,
  ``inference_rd_use``).
* :class:`PiecewiseUse`: v(g) through points, flat segments allowed; paid serving (``paid_serving_use``) is
  worth its margin per GPU-hour while it serves average demand, then less (GPUs that serve only the peak hours),
  and nothing once the peak is covered.

Marginal values per GPU-hour come from monthly flows: a GPU used for a month is HOURS_PER_MONTH GPU-hours.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HOURS_PER_MONTH = 730.0  # same month as market.costs.HOURS_PER_MONTH (agents may not import market)
_STEPS = 200
_REL_TOL = 1e-14  # bisection stops when the bracket on λ is this small relative to λ


def _finite(name: str, value: float, lo: float | None = 0.0, strict: bool = False) -> float:
    # Infinity is allowed (an uncapped use); NaN never is.
    v = float(value)
    if math.isnan(v) or (lo is not None and (v <= lo if strict else v < lo)):
        bound = "" if lo is None else f" and {'>' if strict else '>='} {lo}"
        raise ValueError(f"{name}={value!r} out of range: must be a number{bound}")
    return v


@dataclass(frozen=True)
class ConcaveUse:
    """A use with marginal value v(g) = a / (r + g) + c ($/GPU-hour) for 0 ≤ g < cap, nothing beyond the cap.

    Fields:
        name: label of the use.
        scale_usd_per_hour: a ≥ 0, $/GPU-hour × GPUs (the value of a·ln(1 + g/r) per GPU-hour).
        ref_gpus: r > 0, GPUs at which the logarithmic part's marginal value has halved.
        floor_usd_per_hour: c, a value per GPU-hour that does not diminish (may be negative).
        cap_gpus: GPUs beyond which the use is worth nothing (≥ 0, may be ``inf``; must be finite when c > 0,
            else the use would take any number of GPUs at a shadow price below c). A cap of 0 is a use with no
            demand.

    Raises:
        ValueError: a < 0, r ≤ 0, cap < 0, or c > 0 with an infinite cap.
    """

    name: str
    scale_usd_per_hour: float
    ref_gpus: float
    floor_usd_per_hour: float = 0.0
    cap_gpus: float = math.inf

    def __post_init__(self) -> None:
        _finite("scale_usd_per_hour", self.scale_usd_per_hour)
        _finite("ref_gpus", self.ref_gpus, strict=True)
        _finite("floor_usd_per_hour", self.floor_usd_per_hour, lo=None)
        _finite("cap_gpus", self.cap_gpus)
        if self.floor_usd_per_hour > 0 and math.isinf(self.cap_gpus):
            raise ValueError(f"{self.name}: floor_usd_per_hour={self.floor_usd_per_hour!r} > 0 needs a finite cap_gpus")

    def value_at(self, gpus: float) -> float:
        """Marginal value ($/GPU-hour) of the last GPU when the use has ``gpus`` (0 beyond the cap)."""
        if gpus > self.cap_gpus or self.cap_gpus == 0:
            return 0.0
        return self.scale_usd_per_hour / (self.ref_gpus + gpus) + self.floor_usd_per_hour

    def gpus_above(self, price: float) -> float:
        """GPUs whose marginal value exceeds ``price`` ($/GPU-hour): a/(price − c) − r, clipped to [0, cap]."""
        a, c = self.scale_usd_per_hour, self.floor_usd_per_hour
        if a == 0:
            return self.cap_gpus if c > price else 0.0
        if price <= c:  # v(g) > c ≥ price for every g below the cap
            return self.cap_gpus
        return min(self.cap_gpus, max(0.0, a / (price - c) - self.ref_gpus))


@dataclass(frozen=True)
class PiecewiseUse:
    """A use whose marginal value ($/GPU-hour) is piecewise linear through points, zero beyond the last.

    Fields:
        name: label.
        gpus: (k,) non-decreasing, starting at 0 (equal values make a vertical drop).
        values_usd_per_hour: (k,) non-increasing marginal values at those GPUs.

    Raises:
        ValueError: shapes differ, gpus not starting at 0 or decreasing, values increasing.
    """

    name: str
    gpus: tuple[float, ...]
    values_usd_per_hour: tuple[float, ...]

    def __post_init__(self) -> None:
        g, v = np.asarray(self.gpus, float), np.asarray(self.values_usd_per_hour, float)
        if g.ndim != 1 or g.size == 0 or g.shape != v.shape:
            raise ValueError(f"{self.name}: gpus and values_usd_per_hour must be equal-length, non-empty")
        if g[0] != 0 or np.any(np.diff(g) < 0) or not np.all(np.isfinite(g)):
            raise ValueError(f"{self.name}: gpus={self.gpus!r} must start at 0 and be finite and non-decreasing")
        if np.any(np.diff(v) > 0) or not np.all(np.isfinite(v)):
            raise ValueError(f"{self.name}: values_usd_per_hour={self.values_usd_per_hour!r} must be non-increasing")

    @property
    def cap_gpus(self) -> float:
        """GPUs beyond which the use is worth nothing (the last point)."""
        return self.gpus[-1]

    def value_at(self, gpus: float) -> float:
        """Marginal value ($/GPU-hour) of the last GPU when the use has ``gpus`` (the value just below ``gpus``
        on a vertical drop; 0 beyond the last point)."""
        g, v = self.gpus, self.values_usd_per_hour
        if gpus > g[-1] or g[-1] == 0:
            return 0.0
        i = bisect_left(g, gpus)
        if i == 0:
            return v[0]
        x0, x1 = g[i - 1], g[i]
        return v[i - 1] + (v[i] - v[i - 1]) * (gpus - x0) / (x1 - x0)

    def gpus_above(self, price: float) -> float:
        """GPUs whose marginal value exceeds ``price``: the last g with v(g) > price (0 if none)."""
        g, v = self.gpus, self.values_usd_per_hour
        if v[0] <= price:
            return 0.0
        if v[-1] > price:
            return g[-1]
        i = next(j for j, y in enumerate(v) if y <= price)  # first point worth no more than the price
        x0, x1, y0, y1 = g[i - 1], g[i], v[i - 1], v[i]
        return x1 if y1 == y0 else x0 + (x1 - x0) * (y0 - price) / (y0 - y1)


@dataclass(frozen=True)
class EnvelopeUse:
    """A use worth, at each GPU count, the most any of its ``parts`` is worth there: v(g) = max_i v_i(g).

    Each part is non-increasing, so the GPUs worth more than a price are those of the part that wants most
    (``gpus_above`` is the max of the parts'). Paid serving is one: its recent customers at their margin, and the
    capacity the demand oracle's curves say would pay (``lab_uses``).

    Raises:
        ValueError: no parts.
    """

    name: str
    parts: tuple[ConcaveUse | PiecewiseUse, ...]

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError(f"{self.name}: an envelope needs at least one part")

    @property
    def cap_gpus(self) -> float:
        """GPUs beyond which no part is worth anything."""
        return max(p.cap_gpus for p in self.parts)

    def value_at(self, gpus: float) -> float:
        """Marginal value ($/GPU-hour) of the last GPU at ``gpus``: the largest part's."""
        return max(p.value_at(gpus) for p in self.parts)

    def gpus_above(self, price: float) -> float:
        """GPUs whose marginal value exceeds ``price``: the most any part wants."""
        return max(p.gpus_above(price) for p in self.parts)


Use = ConcaveUse | PiecewiseUse | EnvelopeUse


@dataclass(frozen=True)
class ComputeSplit:
    """A fleet split by marginal value.

    Fields:
        names: (k,) the uses' names, in the order given.
        gpus: (k,) GPUs per use; they sum to the fleet less ``idle_gpus``.
        marginal_value_usd_per_gpu_hour: (k,) each use's marginal value at its allocation (its shadow value):
            λ for a use between 0 and its cap, ≤ λ for a use with no GPUs, ≥ λ for a use at its cap.
        shadow_price_usd_per_gpu_hour: λ, the value of one more GPU-hour to the lab (0 when GPUs idle).
        idle_gpus: GPUs no use wants (> 0 only when λ = 0).
    """

    names: tuple[str, ...]
    gpus: np.ndarray
    marginal_value_usd_per_gpu_hour: np.ndarray
    shadow_price_usd_per_gpu_hour: float
    idle_gpus: float

    def of(self, name: str) -> float:
        """GPUs of the use called ``name``. Raises KeyError for an unknown name."""
        try:
            return float(self.gpus[self.names.index(name)])
        except ValueError:
            raise KeyError(f"no use {name!r}; uses: {', '.join(self.names)}") from None


def gpus_wanted(uses: Sequence[Use], price_usd_per_gpu_hour: float) -> float:
    """GPUs the uses together want at a GPU-hour price: Σ_u GPUs whose marginal value exceeds the price.

    Read against the rent, this is the lab's demand schedule for GPUs (renting tops up an owned fleet:
    rental demand = max(0, gpus_wanted(rent) − owned)). May be ``inf`` at a price of 0 with uncapped uses.
    """
    return float(sum(u.gpus_above(price_usd_per_gpu_hour) for u in uses))


def rental_demand_points(uses: Sequence[Use], owned_gpus: float, rents_usd_per_hour) -> np.ndarray:
    """(m,) GPUs a lab would rent at each rent of ``rents_usd_per_hour`` (m,), > 0: max(0, wanted − owned).

    Non-increasing in the rent, so the points make a demand schedule for the GPU market. Raises ValueError for
    non-positive rents or negative owned GPUs.
    """
    rents = np.asarray(rents_usd_per_hour, float)
    if np.any(~np.isfinite(rents) | (rents <= 0)):
        raise ValueError(f"rents_usd_per_hour={rents_usd_per_hour!r}: must be finite and > 0")
    owned = _finite("owned_gpus", owned_gpus)
    return np.array([max(0.0, gpus_wanted(uses, r) - owned) for r in rents])


def split_compute(fleet_gpus: float, uses: Sequence[Use]) -> ComputeSplit:
    """Split ``fleet_gpus`` among ``uses`` so that marginal values are equal across the uses that get GPUs.

    Water-filling: λ* is the lowest price at which the uses want no more than the fleet, found by bisection on
    [0, max_u v_u(0)]. Uses whose marginal value is flat at λ* (a vertical step in g_u(λ)) share what is left in
    proportion to their flat segment, so the allocation sums to the fleet exactly.

    Args:
        fleet_gpus: GPUs to split, ≥ 0.
        uses: the uses (names must be unique).

    Returns:
        :class:`ComputeSplit`.

    Raises:
        ValueError: negative fleet, no uses, duplicate names.
    """
    fleet = _finite("fleet_gpus", fleet_gpus)
    names = tuple(u.name for u in uses)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"uses: need at least one use and unique names, got {names}")

    def wanted(price: float) -> np.ndarray:
        return np.array([u.gpus_above(price) for u in uses])

    at_zero = wanted(0.0)
    if np.all(np.isfinite(at_zero)) and at_zero.sum() <= fleet:
        values = np.array([u.value_at(g) for u, g in zip(uses, at_zero)])
        return ComputeSplit(names, at_zero, values, 0.0, fleet - float(at_zero.sum()))
    # Invariant: the uses want more than the fleet just above lo and no more than it just above hi.
    lo, hi = 0.0, max(u.value_at(0.0) for u in uses)
    for _ in range(_STEPS):
        mid = 0.5 * (lo + hi)
        if hi - lo <= _REL_TOL * hi or mid <= lo or mid >= hi:
            break
        if sum(u.gpus_above(mid) for u in uses) > fleet:
            lo = mid
        else:
            hi = mid
    low, high = wanted(hi), wanted(lo)
    if not np.all(np.isfinite(high)):  # λ* is below the resolution of doubles: give the rest to the unbounded uses
        high = np.where(np.isfinite(high), high, low + (fleet - low.sum()) / np.sum(~np.isfinite(high)))
    gap = high.sum() - low.sum()
    theta = 0.0 if gap <= 0 else (fleet - low.sum()) / gap
    gpus = low + theta * (high - low)
    lam = 0.5 * (lo + hi)
    values = np.array([u.value_at(g) for u, g in zip(uses, gpus)])
    # A use on a flat segment at λ*, or strictly inside its range, is worth exactly λ*.
    interior = (gpus > 0) & (gpus < np.array([u.cap_gpus for u in uses]))
    values = np.where(interior, lam, values)
    return ComputeSplit(names, gpus, values, lam, 0.0)


# ------------------------------------------------------------------------------------------ the four uses

def paid_serving_use(price_usd_per_mtok: float, other_cost_usd_per_mtok: float, mtok_per_gpu_hour: float,
                     average_gpus: float, peak_gpus: float, extra_value_usd_per_mtok: float = 0.0,
                     name: str = "paid") -> PiecewiseUse:
    """Paid serving: worth its margin per GPU-hour up to the GPUs that serve average demand, then falling
    linearly to 0 at the GPUs that cover the peak (extra GPUs serve only the busiest hours), nothing beyond.

    Margin per GPU-hour m = (price + extra value − other marginal cost) × Mtok per GPU-hour. The GPU's own cost
    is not subtracted: it is the shadow price λ the split compares m with. ``extra_value_usd_per_mtok`` is the
    forecast dynamic value of serving a paid Mtok (customers kept, learning by doing, valuation), supplied by
    the firm's objective; 0 for a myopic lab. A margin ≤ 0 gives a use worth nothing.

    Args:
        price_usd_per_mtok, other_cost_usd_per_mtok, extra_value_usd_per_mtok: $/Mtok.
        mtok_per_gpu_hour: Mtok one GPU-hour serves at full batching (> 0).
        average_gpus, peak_gpus: GPUs for average demand and for the peak (0 ≤ average ≤ peak).

    Raises:
        ValueError: negative quantities, peak below average, non-positive throughput.
    """
    _finite("mtok_per_gpu_hour", mtok_per_gpu_hour, strict=True)
    avg, peak = _finite("average_gpus", average_gpus), _finite("peak_gpus", peak_gpus)
    if peak < avg:
        raise ValueError(f"peak_gpus={peak_gpus!r} must be >= average_gpus={average_gpus!r}")
    margin = (price_usd_per_mtok + extra_value_usd_per_mtok - other_cost_usd_per_mtok) * mtok_per_gpu_hour
    m = max(0.0, margin)
    return PiecewiseUse(name, (0.0, avg, peak), (m, m, 0.0))


def paid_capacity_use(gross_usd, load_mtok, gpus, capacity_mtok, name: str = "paid") -> PiecewiseUse:
    """Paid serving valued by the capacity shadow price the demand oracle's curves imply.

    For each of K priced products and G candidate prices, ``gross_usd`` (K, G) is the lab's monthly revenue less
    non-GPU marginal cost (plus any dynamic value of the volume) and ``load_mtok`` (K, G) the load on its paid
    pool (reference-model Mtok/month) before any capacity limit, every other price held. With capacity c a full
    pool serves a share c / load, so the best it can earn is Π*(c) = max over products and candidates of
    gross · min(1, c / load) (one price re-optimised at a time: a lower bound on re-optimising them all). On the
    GPU grid ``gpus`` (J,) with capacities ``capacity_mtok`` (J,), the g-th GPU of segment j is worth
    (Π*(c_{j+1}) − Π*(c_j)) / ((g_{j+1} − g_j) · HOURS_PER_MONTH) per hour — a step, made non-increasing — and
    nothing beyond the last point. The GPU's own cost is not subtracted (it is the shadow price λ).

    Raises:
        ValueError: shapes differ, the grid does not start at 0 or is not increasing, negative loads.
    """
    gross, load = np.atleast_2d(np.asarray(gross_usd, float)), np.atleast_2d(np.asarray(load_mtok, float))
    g, c = np.asarray(gpus, float), np.asarray(capacity_mtok, float)
    if gross.shape != load.shape or g.shape != c.shape or g.ndim != 1 or g.size < 2:
        raise ValueError(f"gross_usd {gross.shape} and load_mtok {load.shape} must match; gpus {g.shape} and "
                         f"capacity_mtok {c.shape} must match with at least 2 points")
    if g[0] != 0 or np.any(np.diff(g) <= 0) or np.any(load < 0) or np.any(np.diff(c) < 0):
        raise ValueError("gpus must start at 0 and increase, capacity_mtok must not decrease, loads must be >= 0")
    flat_gross, flat_load = gross.ravel(), load.ravel()
    with np.errstate(over="ignore"):  # a load of a few 1e-300 Mtok: c / load overflows to inf, and the share is 1
        share = np.where(flat_load[None, :] > 0, np.minimum(1.0, c[:, None] / np.maximum(flat_load[None, :], 1e-300)), 1.0)
    best = np.maximum(0.0, (flat_gross[None, :] * share).max(axis=1))
    best = np.maximum.accumulate(best)  # more capacity never forces a seller to earn less
    values = np.minimum.accumulate(np.diff(best) / (np.diff(g) * HOURS_PER_MONTH))
    xs = [0.0]
    ys = [float(values[0])]
    for j in range(values.size):
        xs += [float(g[j + 1]), float(g[j + 1])]
        ys += [float(values[j]), float(values[j + 1]) if j + 1 < values.size else 0.0]
    return PiecewiseUse(name, tuple(xs), tuple(ys))


def training_use(pv_per_quality_point_usd: float, training_gain: float, training_ref_gpus: float,
                 efficiency: float = 1.0, cap_gpus: float = math.inf, name: str = "training") -> ConcaveUse:
    """Training: marginal value = d(quality)/d(GPU) × d(PV of profit)/d(quality), per GPU-hour.

    With the model's monthly gain Δq = training_gain · ln(1 + e·g / ref) (``market.quality.quality_gain``; e the
    effective-compute multiplier), dΔq/dg = training_gain · e / (ref + e·g), so

        v(g) = PVq · training_gain / HOURS_PER_MONTH / (ref/e + g),

    a :class:`ConcaveUse` with a = PVq · training_gain / 730 and r = ref / e. ``pv_per_quality_point_usd`` (PVq,
    $ per quality-index point, permanent) is the forecast the firm's demand oracle supplies.

    Raises:
        ValueError: negative PVq or gain, non-positive ref or efficiency.
    """
    _finite("pv_per_quality_point_usd", pv_per_quality_point_usd)
    _finite("training_gain", training_gain)
    eff = _finite("efficiency", efficiency, strict=True)
    return ConcaveUse(name, pv_per_quality_point_usd * training_gain / HOURS_PER_MONTH,
                      _finite("training_ref_gpus", training_ref_gpus, strict=True) / eff, 0.0, cap_gpus)


def free_tier_use(pv_per_quality_point_usd: float, data_gain: float, data_ref_mtok: float,
                  conversion_value_usd_per_mtok: float, mtok_per_gpu_hour: float, demand_gpus: float,
                  name: str = "free") -> ConcaveUse:
    """Free tier: data value + conversion value, per GPU-hour, up to the GPUs its demand needs.

    Data: free tokens D = g · k Mtok a month (k = Mtok per GPU-month) add data_gain · ln(1 + D / ref) quality a
    month (``market.quality.quality_gain``), so the data value of the g-th GPU is
    PVq · data_gain / 730 / (ref/k + g). Conversion: each free Mtok is worth ``conversion_value_usd_per_mtok``
    (the PV of the paid plans it leads to, per Mtok; forecast by the firm) → c = conversion × Mtok per GPU-hour.

    Raises:
        ValueError: negative inputs, non-positive ref or throughput.
    """
    _finite("pv_per_quality_point_usd", pv_per_quality_point_usd)
    _finite("data_gain", data_gain)
    per_month = _finite("mtok_per_gpu_hour", mtok_per_gpu_hour, strict=True) * HOURS_PER_MONTH
    ref = _finite("data_ref_mtok", data_ref_mtok, strict=True) / per_month
    floor = _finite("conversion_value_usd_per_mtok", conversion_value_usd_per_mtok) * mtok_per_gpu_hour
    return ConcaveUse(name, pv_per_quality_point_usd * data_gain / HOURS_PER_MONTH, ref, floor,
                      _finite("demand_gpus", demand_gpus))


def inference_rd_use(pv_serving_cost_usd: float, rd_elasticity: float, rd_half_gpu_months: float,
                     rd_stock_gpu_months: float, cap_gpus: float = math.inf, name: str = "inference_rd") -> ConcaveUse:
    """Inference R&D: the present value of the serving cost it saves, per GPU-hour.

    Skill from research is (1 + K/H)^ρ in the R&D stock K (GPU-months; ``market.learning.rd_multiplier``), so g
    GPUs this month raise ln(skill) by ρ·ln(1 + (K + g)/H) − ρ·ln(1 + K/H), at the margin ρ / (H + K + g). Serving
    cost is proportional to 1/skill, so it falls by the same proportion: the g-th GPU is worth
    PV(serving cost) · ρ / 730 / (H + K + g) per hour, a :class:`ConcaveUse` with r = H + K.

    Args:
        pv_serving_cost_usd: present value of the lab's forecast serving GPU bill, $ (≥ 0).
        rd_elasticity: ρ ≥ 0. rd_half_gpu_months: H > 0. rd_stock_gpu_months: K ≥ 0.

    Raises:
        ValueError: negative inputs or non-positive H.
    """
    _finite("pv_serving_cost_usd", pv_serving_cost_usd)
    _finite("rd_elasticity", rd_elasticity)
    ref = _finite("rd_half_gpu_months", rd_half_gpu_months, strict=True) + _finite("rd_stock_gpu_months", rd_stock_gpu_months)
    return ConcaveUse(name, pv_serving_cost_usd * rd_elasticity / HOURS_PER_MONTH, ref, 0.0, cap_gpus)


# ------------------------------------------------------------------------------------------ a lab's decision

@dataclass(frozen=True)
class ComputeObservation:
    """What a lab sees when it splits its fleet and orders GPUs (the market computes the numbers; the lab decides).

    Fields (all ≥ 0 unless stated):
        pv_per_quality_point_usd: PVq, $ per quality-index point: the present value of the profit a point of
            quality brings at current prices, its worth eroding as rivals train and open weights catch up
            (``market.compute_split.pv_quality_point``, over the lab's horizon at its cost of capital).
        training_gain, training_ref_gpus: the quality curve of ``market.quality.quality_gain``.
        training_multiplier: effective training compute per GPU (efficiency gains × the lab's training
            efficiency), > 0.
        data_gain, data_ref_mtok: the data term of the same curve (data_gain 0: no data flywheel).
        paid_margin_usd_per_mtok: what a paid reference-model Mtok earns above its non-GPU marginal cost, plus its
            dynamic value (learning by doing), $/Mtok.
        paid_mtok_per_gpu_hour: reference-model Mtok a GPU-hour serves at full batching, > 0.
        paid_average_gpus, paid_peak_gpus: GPUs for the paid pool's average demand and for its peak (≥ average).
        free_mtok_per_gpu_hour: free-tier Mtok (real tokens) a GPU-hour serves, > 0.
        free_demand_gpus: GPUs the free tier's demand needs at its peak (0: no free tier).
        conversion_value_usd_per_mtok: PV of paid plans a free Mtok leads to, $/Mtok.
        pv_serving_cost_usd: PV of the serving GPU bill over the lab's horizon, $ (prices inference R&D).
        rd_elasticity, rd_half_gpu_months, rd_stock_gpu_months: the R&D curve of ``market.learning``.
        rd_cap_gpus: the most GPUs R&D can use this month (inf: no limit).
        owned_gpus: GPUs it owns now. arriving_gpus: GPUs ordered and due within the lead time.
        survival_over_lead: share of today's owned GPUs still in service when an order placed now arrives, (0, 1].
        budget_gpus: the largest fleet the lab can fund (the capital market's quote, its cash, its parent).
        rent_usd_per_hour: the rental price now (its forecast of the rent: the rent persists).
        owned_cost_usd_per_hour: what an owned GPU costs it per hour at its cost of capital (capital recovery
            plus running cost).
        growth_over_lead: expected growth factor of serving demand by the time an order arrives, ≥ 1.
        paid_use: paid serving valued from the demand oracle's curves (``paid_capacity_use``), or None. Paid
            serving is worth, at each GPU count, the larger of this and ``paid_margin_usd_per_mtok`` up to the
            GPUs its recent demand needs (``paid_serving_use``): a lab serves the customers it has, and adds the
            capacity its curves say would pay.
    """

    pv_per_quality_point_usd: float
    training_gain: float
    training_ref_gpus: float
    training_multiplier: float
    data_gain: float
    data_ref_mtok: float
    paid_margin_usd_per_mtok: float
    paid_mtok_per_gpu_hour: float
    paid_average_gpus: float
    paid_peak_gpus: float
    free_mtok_per_gpu_hour: float
    free_demand_gpus: float
    conversion_value_usd_per_mtok: float
    pv_serving_cost_usd: float
    rd_elasticity: float
    rd_half_gpu_months: float
    rd_stock_gpu_months: float
    owned_gpus: float
    arriving_gpus: float
    survival_over_lead: float
    budget_gpus: float
    rent_usd_per_hour: float
    owned_cost_usd_per_hour: float
    growth_over_lead: float = 1.0
    rd_cap_gpus: float = math.inf
    paid_use: PiecewiseUse | None = None


USE_NAMES = ("paid", "free", "training", "inference_rd")


def lab_uses(obs: ComputeObservation, demand_factor: float = 1.0) -> tuple[Use, ...]:
    """The lab's four uses (paid serving, free tier, training, inference R&D; ``USE_NAMES``) with serving demand
    scaled by ``demand_factor`` (≥ 0; e.g. its growth over an order's lead time). See the use constructors."""
    k = _finite("demand_factor", demand_factor)
    paid = paid_serving_use(obs.paid_margin_usd_per_mtok, 0.0, obs.paid_mtok_per_gpu_hour,
                            obs.paid_average_gpus * k, obs.paid_peak_gpus * k)
    if obs.paid_use is not None:
        paid = EnvelopeUse("paid", (paid, scaled_use(obs.paid_use, k)))
    free = free_tier_use(obs.pv_per_quality_point_usd, obs.data_gain, obs.data_ref_mtok,
                         obs.conversion_value_usd_per_mtok, obs.free_mtok_per_gpu_hour, obs.free_demand_gpus * k)
    training = training_use(obs.pv_per_quality_point_usd, obs.training_gain, obs.training_ref_gpus,
                            obs.training_multiplier)
    rd = inference_rd_use(obs.pv_serving_cost_usd, obs.rd_elasticity, obs.rd_half_gpu_months,
                          obs.rd_stock_gpu_months, obs.rd_cap_gpus)
    return paid, free, training, rd


def scaled_use(use: PiecewiseUse, factor: float) -> PiecewiseUse:
    """``use`` with its GPUs scaled by ``factor`` (≥ 0): the same marginal values for a demand ``factor`` times
    larger."""
    if factor == 1.0:
        return use
    return PiecewiseUse(use.name, tuple(x * factor for x in use.gpus), use.values_usd_per_hour)


def rental_schedule(uses: Sequence[Use], owned_gpus: float, budget_gpus: float,
                    rents_usd_per_hour) -> tuple[np.ndarray, np.ndarray]:
    """(rents (m,), GPUs (m,)): what the lab would rent at each rent ($/GPU-hour, > 0, increasing): the GPUs its
    uses want at that rent beyond what it owns (``rental_demand_points``), never beyond what it can fund
    (``budget_gpus`` less what it owns). Non-increasing in the rent: a demand schedule for the GPU market."""
    rents = np.asarray(rents_usd_per_hour, float)
    cap = max(0.0, _finite("budget_gpus", budget_gpus) - _finite("owned_gpus", owned_gpus))
    return rents, np.minimum(rental_demand_points(uses, owned_gpus, rents), cap)


def gpus_to_order(obs: ComputeObservation) -> float:
    """GPUs to order now for delivery after the lead time (≥ 0).

    Owning beats renting when the rent, expected to persist, exceeds what an owned GPU costs at the lab's cost
    of capital (then ``market.gpu_market.value_of_buying`` is positive over the GPU's life). The lab then aims to
    own, when the order arrives, the GPUs its lasting uses (``lasting_uses``) want at the owned cost with serving
    demand grown over the lead time — never more than it can fund — and orders the gap left by its surviving
    fleet and what is already on its way. When renting is cheaper it orders nothing and lets its owned fleet shrink (an owned GPU commits its
    owner for its life; a rented one can be dropped each month).
    """
    if obs.rent_usd_per_hour < obs.owned_cost_usd_per_hour:
        return 0.0
    want = gpus_wanted(lasting_uses(lab_uses(obs, obs.growth_over_lead)), obs.owned_cost_usd_per_hour)
    target = min(want, obs.budget_gpus)
    return max(0.0, target - obs.owned_gpus * obs.survival_over_lead - obs.arriving_gpus)


def lasting_uses(uses: Sequence[Use]) -> tuple[Use, ...]:
    """The uses a lab owns GPUs for: all but inference R&D. R&D's value falls as its stock grows (a burst until
    the stock is large, then little), so an owned GPU — committed for its life — would idle after it; the lab
    rents for it instead (assumption)."""
    return tuple(u for u in uses if u.name != "inference_rd")


def fleet_budget_gpus(revenue_usd: float, other_costs_usd: float, cash_usd: float, fundable_usd: float,
                      parent_budget_usd: float, budget_months: float, gpu_month_usd: float) -> float:
    """The largest fleet (GPUs) a lab can fund: revenue plus its parent's budget plus (cash + what the capital
    market would fund it now) spread over ``budget_months``, less its other monthly costs, at ``gpu_month_usd``
    per GPU-month (all $ or $/month; cash may be negative). Raises ValueError for a non-positive GPU-month price
    or horizon."""
    price = _finite("gpu_month_usd", gpu_month_usd, strict=True)
    months = _finite("budget_months", budget_months, strict=True)
    money = (max(0.0, revenue_usd) + max(0.0, parent_budget_usd) + (max(0.0, cash_usd) + max(0.0, fundable_usd)) / months
             - max(0.0, other_costs_usd))
    return max(0.0, money / price)


@dataclass(frozen=True)
class ComputeDecision:
    """A lab's compute decision of the month: its uses (split once the rent is known), its rental demand schedule
    (rents (m,) $/GPU-hour, GPUs (m,)) and the GPUs it orders for delivery after its lead time."""

    uses: tuple[Use, ...]
    rents_usd_per_hour: np.ndarray
    rental_gpus: np.ndarray
    order_gpus: float


def decide_compute(obs: ComputeObservation, rents_usd_per_hour) -> ComputeDecision:
    """The lab's uses (``lab_uses``), what it would rent at each of ``rents_usd_per_hour`` (``rental_schedule``)
    and what it orders (``gpus_to_order``)."""
    uses = lab_uses(obs)
    rents, gpus = rental_schedule(uses, obs.owned_gpus, obs.budget_gpus, rents_usd_per_hour)
    return ComputeDecision(uses, rents, gpus, gpus_to_order(obs))
