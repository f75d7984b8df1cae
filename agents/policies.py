"""Pricing policies: small objects with one ``decide`` method, chosen per seller in the scenario file.

Each maps a :class:`~agents.types.PriceObservation` to a new price in the observation's unit ($/Mtok for APIs,
$/subscriber-month for apps). Policies hold no reference to the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agents.types import PriceObservation

MIN_PRICE = 1e-6  # $ per unit: prices stay positive so quality-adjusted comparisons stay defined


class PricingPolicy(Protocol):
    """Anything with ``decide(obs) -> price``."""

    def decide(self, obs: PriceObservation) -> float: ...


@dataclass(frozen=True)
class CostPlus:
    """Price = cost basis × (1 + markup).

    The basis is the standard cost (unit cost at normal utilisation) — standard costing, so a slow month does
    not push the price up and demand further down (assumption: how cost-plus is practised).
    """

    markup: float = 0.5

    def decide(self, obs: PriceObservation) -> float:
        return max(MIN_PRICE, obs.standard_cost * (1.0 + self.markup))


@dataclass(frozen=True)
class Competitive:
    """Undercut the best quality-adjusted rival by ``step``, never below unit cost × (1 + floor_markup).

    A rival's quality-adjusted price is the price this seller would need to match it in value per dollar:
    ``rival_price × own_quality / rival_quality``. When the seller is already the cheapest, it edges its price
    up by ``step`` but stays below the best rival. With identical rivals and constant costs this is Bertrand
    undercutting: prices fall to the floor and stop within one step of it.
    """

    step: float = 0.05
    floor_markup: float = 0.0

    def decide(self, obs: PriceObservation) -> float:
        floor = obs.cost_basis() * (1.0 + self.floor_markup)
        if obs.rival_prices.size == 0:
            target = obs.own_price * (1.0 + self.step)
        else:
            adjusted = obs.rival_prices * obs.quality / np.maximum(obs.rival_qualities, 1e-12)
            best = float(adjusted.min())
            if obs.own_price < best:
                target = min(obs.own_price * (1.0 + self.step), best * (1.0 - self.step))
            else:
                target = best * (1.0 - self.step)
        return max(MIN_PRICE, floor, target)


def lambert_w(k: float) -> float:
    """Principal branch of Lambert's W for k ≥ 0 (solves w·e^w = k) by Newton's method from log1p(k)."""
    w = float(np.log1p(k))
    for _ in range(50):
        ew = np.exp(w)
        step = (w * ew - k) / (ew * (w + 1.0))
        w -= step
        if abs(step) < 1e-13 * max(1.0, abs(w)):
            break
    return w


@dataclass(frozen=True)
class LogitBestResponse:
    """Price at the single-product logit best response to rivals' current prices.

    Under logit demand with scale μ, a seller with share s0 at its price p0 has odds s/(1 − s) that fall by
    e^{−Δp/μ} when it raises its price by Δp, rivals fixed. Its profit-maximising price solves
    p = c + μ / (1 − s(p)) (Anderson, de Palma & Thisse 1992, ch. 7), whose closed form is
    p = c + μ·(1 + W(K)), K = s0/(1 − s0)·e^{(p0 − c)/μ − 1}, with W Lambert's function. Played by everyone it
    converges to the logit Bertrand–Nash equilibrium of ``market.theory.logit_nash_prices``. The markup comes
    from customers' taste dispersion μ (willingness to pay), not from token cost. Moves at most ``step`` per
    round (assumption: list prices change gradually). Keeps ``own_price`` when μ is unknown.
    """

    step: float = 0.1

    def decide(self, obs: PriceObservation) -> float:
        mu = obs.price_scale
        if not np.isfinite(mu) or mu <= 0:
            return obs.own_price
        c = obs.cost_basis()
        s0 = min(max(obs.share, 0.0), 0.999)
        k = s0 / (1.0 - s0) * np.exp(min(700.0, (obs.own_price - c) / mu - 1.0))
        target = c + mu * (1.0 + lambert_w(k))
        lo, hi = obs.own_price * (1.0 - self.step), obs.own_price * (1.0 + self.step)
        return max(MIN_PRICE, min(hi, max(lo, target)))


POLICIES = ("cost_plus", "competitive", "logit_best_response")


def make_policy(name: str, *, markup: float = 0.5, step: float = 0.05, floor_markup: float = 0.0) -> PricingPolicy:
    """Build a policy by name (one of ``POLICIES``). Raises ValueError for an unknown name."""
    if name == "cost_plus":
        return CostPlus(markup=markup)
    if name == "competitive":
        return Competitive(step=step, floor_markup=floor_markup)
    if name == "logit_best_response":
        return LogitBestResponse(step=step)
    raise ValueError(f"policy name: unknown {name!r}; allowed: {', '.join(POLICIES)}")
