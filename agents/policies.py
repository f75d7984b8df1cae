"""Pricing rules: small objects with one ``decide`` method that maps a :class:`~agents.types.PriceObservation`
to a :class:`~agents.types.PriceDecision` in the observation's unit ($/Mtok for APIs, $/subscriber-month for plans).

:class:`BestResponse` is how every shipped scenario prices (docs/design.md, "Prices"): it evaluates the seller's
own profit on the model's demand at candidate prices and moves toward the best. The others are rules for special
cases and tests (cost-plus, undercutting, a bandit learner, a held price); no shipped scenario uses them as a
default. Rules hold no reference to the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agents.types import PriceDecision, PriceObservation

MIN_PRICE = 1e-6  # $ per unit: prices stay positive so quality-adjusted comparisons stay defined


class PricingPolicy(Protocol):
    """Anything with ``decide(obs) -> PriceDecision``."""

    def decide(self, obs: PriceObservation) -> PriceDecision: ...


def candidate_prices(own_price: float, marginal_cost: float, step_factor: float, points: int) -> np.ndarray:
    """Sorted candidate prices ($ per unit): ``points`` prices from own_price / step_factor to own_price ×
    step_factor, spaced quadratically in log price — finely near the posted price, where a seller close to its best
    response must resolve small moves, coarsely toward what a month can reach — plus the marginal cost × (1.02,
    1.25, 2) where they fall inside that range.

    The range is all a seller can reach this month (prices move at most ``step_factor`` up or down), so a best
    response outside it shows as the grid's end point and the seller moves there.
    """
    half = max(1, (points - 1) // 2)
    offsets = math.log(step_factor) * (np.arange(1, half + 1) / half) ** 2
    grid = own_price * np.exp(np.concatenate([-offsets[::-1], [0.0], offsets]))
    lo, hi = own_price / step_factor, own_price * step_factor
    if marginal_cost > 0 and math.isfinite(marginal_cost):
        extra = marginal_cost * np.array([1.02, 1.25, 2.0])
        grid = np.concatenate([grid, extra[(extra > lo) & (extra < hi)]])
    return np.unique(np.maximum(grid, MIN_PRICE))


def parabolic_peak(x: np.ndarray, y: np.ndarray, i: int) -> float:
    """Refine the maximiser of samples ``y`` at sorted ``x`` around index ``i`` by the vertex of the parabola
    through (log x, y) at i − 1, i, i + 1; returns x[i] at an end point or when the three points are not concave."""
    if i <= 0 or i >= len(x) - 1:
        return float(x[i])
    u = np.log(x[i - 1:i + 2])
    v = y[i - 1:i + 2]
    den = (u[0] - u[1]) * (u[0] - u[2]) * (u[1] - u[2])
    if not (den != 0 and np.isfinite(v).all()):  # candidates equal in log price, or a profit not defined
        return float(x[i])
    a = (u[2] * (v[1] - v[0]) + u[1] * (v[0] - v[2]) + u[0] * (v[2] - v[1])) / den
    b = (u[2] ** 2 * (v[0] - v[1]) + u[1] ** 2 * (v[2] - v[0]) + u[0] ** 2 * (v[1] - v[2])) / den
    if not a < 0:
        return float(x[i])
    return float(np.exp(np.clip(-b / (2 * a), u[0], u[2])))


@dataclass(frozen=True)
class BestResponse:
    """Price at the best response on the demand the seller faces, moving at most ``step_factor`` a month.

    The market evaluates the seller's firm-level profit at the :meth:`candidates` this rule asks for (all its
    other prices and every rival's held) on the model's own demand system: a sample of customers with their
    current holdings and switching costs, the nested logit, token use, wrappers' sourcing and the seller's
    capacity (market/oracle.py). The rule takes the best candidate, refines it by a parabola in log price between
    its neighbours, and moves ``adjustment`` of the way there in log price, at most ``step_factor`` up or down. The
    candidates span the reachable range, so a best response beyond it shows as the end point. Played by every
    seller each month, this is simultaneous partial best-response dynamics on last month's evaluation; against a
    logit demand with fixed rivals it converges to the closed-form best response (tests/test_market/test_oracle.py).
    """

    step_factor: float = 1.5
    points: int = 9
    adjustment: float = 0.5

    def candidates(self, own_price: float, marginal_cost: float) -> np.ndarray:
        """Candidate prices ($ per unit) around ``own_price`` (see :func:`candidate_prices`)."""
        return candidate_prices(own_price, marginal_cost, self.step_factor, self.points)

    def decide(self, obs: PriceObservation) -> PriceDecision:
        grid, profits = obs.candidate_prices, obs.candidate_profits_usd
        if grid is None or profits is None or not np.isfinite(profits).any():
            return PriceDecision(obs.own_price, obs.own_price)
        grid, profits = np.asarray(grid, dtype=float), np.asarray(profits, dtype=float)
        here = int(np.argmin(np.abs(np.log(grid / obs.own_price))))
        current = float(profits[here])
        i = int(np.nanargmax(profits))
        # The parabola through the best candidate and its neighbours places the best response between grid points
        # (also when the best candidate is the posted price itself).
        target = parabolic_peak(grid, profits, i)
        goal = target * obs.target_factor  # a lab's campaign prices at a multiple of the static best response
        step = obs.own_price * (goal / obs.own_price) ** self.adjustment  # a partial step in log price
        lo, hi = obs.own_price / self.step_factor, obs.own_price * self.step_factor
        return PriceDecision(max(MIN_PRICE, min(hi, max(lo, step))), target, current, float(profits[i]))


@dataclass(frozen=True)
class CostPlus:
    """Price = cost basis × (1 + markup) (a rule for special cases, not a default)."""

    markup: float = 0.5

    def decide(self, obs: PriceObservation) -> PriceDecision:
        price = max(MIN_PRICE, obs.cost_basis() * (1.0 + self.markup))
        return PriceDecision(price, price)


@dataclass(frozen=True)
class Competitive:
    """Undercut the best quality-adjusted rival by ``step``, never below cost basis × (1 + floor_markup).

    A rival's quality-adjusted price is the price this seller would need to match it in value per dollar:
    ``rival_price × own_quality / rival_quality``. When the seller is already the cheapest, it edges its price
    up by ``step`` but stays below the best rival. With identical rivals and constant costs this is Bertrand
    undercutting: prices fall to the floor and stop within one step of it. A rule for special cases.
    """

    step: float = 0.05
    floor_markup: float = 0.0

    def decide(self, obs: PriceObservation) -> PriceDecision:
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
        price = max(MIN_PRICE, floor, target)
        return PriceDecision(price, price)


@dataclass(frozen=True)
class Fixed:
    """Hold the posted price: the seller keeps the price it starts with (its configured initial price).

    A control, not conduct: an experiment that must hold some sellers' prices while others best-respond (the clone
    test holds every upstream and lab price, so that only wrappers' prices move: benchmarks/clone_margins.py)
    plays it for those sellers. No shipped scenario uses it."""

    def decide(self, obs: PriceObservation) -> PriceDecision:
        return PriceDecision(obs.own_price, obs.own_price)


class EpsilonGreedyMarkup:
    """Adaptive learner: an ε-greedy bandit over markup levels on the cost basis (Sutton & Barto 2018, §2.2).

    Each round it credits last round's gross profit ($/month) to the arm it played (incremental mean), then
    plays the best arm, or a random one with probability ``epsilon``. Draws come from the model's Generator.
    A rule for special cases.
    """

    def __init__(self, rng, levels: tuple[float, ...] = (-0.2, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0),
                 epsilon: float = 0.1) -> None:
        self.rng, self.levels, self.epsilon = rng, tuple(levels), float(epsilon)
        self.values = np.zeros(len(self.levels))
        self.counts = np.zeros(len(self.levels))
        self.arm: int | None = None

    def decide(self, obs: PriceObservation) -> PriceDecision:
        if self.arm is not None:
            self.counts[self.arm] += 1
            self.values[self.arm] += (obs.last_profit_usd - self.values[self.arm]) / self.counts[self.arm]
        untried = np.flatnonzero(self.counts == 0)
        if untried.size:
            self.arm = int(untried[0])
        elif self.rng.random() < self.epsilon:
            self.arm = int(self.rng.integers(len(self.levels)))
        else:
            self.arm = int(np.argmax(self.values))
        price = max(MIN_PRICE, obs.cost_basis() * (1.0 + self.levels[self.arm]))
        return PriceDecision(price, price)


POLICIES = ("best_response", "cost_plus", "competitive", "bandit", "fixed")


def make_policy(name: str, *, rng=None, markup: float = 0.5, step: float = 0.05, floor_markup: float = 0.0,
                epsilon: float = 0.1, levels: tuple[float, ...] = (-0.2, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0),
                step_factor: float = 1.5, points: int = 9, adjustment: float = 0.5) -> PricingPolicy:
    """Build a rule by name (one of ``POLICIES``). ``rng`` (the model's Generator) is needed by ``bandit``;
    ``step_factor``, ``points`` and ``adjustment`` configure ``best_response`` (config ``pricing``).

    Raises:
        ValueError: unknown name, or ``bandit`` without ``rng``.
    """
    if name == "best_response":
        return BestResponse(step_factor=step_factor, points=points, adjustment=adjustment)
    if name == "cost_plus":
        return CostPlus(markup=markup)
    if name == "competitive":
        return Competitive(step=step, floor_markup=floor_markup)
    if name == "fixed":
        return Fixed()
    if name == "bandit":
        if rng is None:
            raise ValueError("policy bandit: needs the model's rng")
        return EpsilonGreedyMarkup(rng, levels=levels, epsilon=epsilon)
    raise ValueError(f"policy name: unknown {name!r}; allowed: {', '.join(POLICIES)}")
