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


@dataclass
class ShareTargetLossLeader:
    """Price below unit cost to buy share, within a subsidy budget, then recoup.

    While cumulative subsidy < ``subsidy_budget_usd`` and runway ≥ ``min_runway_months``, it cuts the price by
    ``step`` a round (down to ``floor_frac`` × cost basis) whenever its share is below ``hysteresis`` × target.
    Once it holds ``target_share`` — or the budget or runway is spent — the campaign is over for good: it moves
    toward standard cost × (1 + ``recoup_markup``), by ``step`` a round; in between it holds. Whether that recoups is not up to the
    policy: it depends on who funded the subsidy, whether rivals left and how the lab's model kept up
    (DESIGN.md Q4). Assumption: the playbook of subsidised market entry (ride-hailing, cloud storage), in a few
    parameters; the hysteresis band (assumption: 0.8) keeps it from flipping every month.
    """

    target_share: float = 0.5
    subsidy_budget_usd: float = 5e9
    floor_frac: float = 0.3
    recoup_markup: float = 1.0
    step: float = 0.1
    min_runway_months: float = 6.0
    hysteresis: float = 0.8
    harvesting: bool = False  # state: the campaign is over (target reached, budget or runway spent)

    def decide(self, obs: PriceObservation) -> float:
        cost = obs.cost_basis()
        subsidising = obs.subsidy_spent_usd < self.subsidy_budget_usd and obs.runway_months >= self.min_runway_months
        self.harvesting = self.harvesting or not subsidising or obs.share >= self.target_share
        if not self.harvesting and obs.share < self.hysteresis * self.target_share:
            return max(MIN_PRICE, self.floor_frac * cost, obs.own_price * (1.0 - self.step))
        if not self.harvesting:
            return obs.own_price
        recoup = obs.standard_cost * (1.0 + self.recoup_markup)
        if obs.own_price < recoup:
            return min(recoup, obs.own_price * (1.0 + self.step))
        return max(recoup, obs.own_price * (1.0 - self.step))


class EpsilonGreedyMarkup:
    """Adaptive learner: an ε-greedy bandit over markup levels on the cost basis (Sutton & Barto 2018, §2.2).

    Each round it credits last round's gross profit ($/month) to the arm it played (incremental mean), then
    plays the best arm, or a random one with probability ``epsilon``. Draws come from the model's Generator.
    """

    def __init__(self, rng, levels: tuple[float, ...] = (-0.2, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0),
                 epsilon: float = 0.1) -> None:
        self.rng, self.levels, self.epsilon = rng, tuple(levels), float(epsilon)
        self.values = np.zeros(len(self.levels))
        self.counts = np.zeros(len(self.levels))
        self.arm: int | None = None

    def decide(self, obs: PriceObservation) -> float:
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
        return max(MIN_PRICE, obs.cost_basis() * (1.0 + self.levels[self.arm]))


POLICIES = ("cost_plus", "competitive", "value", "logit_best_response", "loss_leader", "bandit")


def make_policy(name: str, *, rng=None, markup: float = 0.5, step: float = 0.05, floor_markup: float = 0.0,
                target_share: float = 0.5, subsidy_budget_usd: float = 5e9, floor_frac: float = 0.3,
                recoup_markup: float = 1.0, epsilon: float = 0.1,
                levels: tuple[float, ...] = (-0.2, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0)) -> PricingPolicy:
    """Build a policy by name (one of ``POLICIES``; ``value`` is the logit best response, i.e. value pricing
    from customers' willingness to pay). ``rng`` (the model's Generator) is needed by ``bandit``.

    Raises:
        ValueError: unknown name, or ``bandit`` without ``rng``.
    """
    if name == "cost_plus":
        return CostPlus(markup=markup)
    if name == "competitive":
        return Competitive(step=step, floor_markup=floor_markup)
    if name in ("logit_best_response", "value"):
        return LogitBestResponse(step=step)
    if name == "loss_leader":
        return ShareTargetLossLeader(target_share=target_share, subsidy_budget_usd=subsidy_budget_usd,
                                     floor_frac=floor_frac, recoup_markup=recoup_markup, step=step)
    if name == "bandit":
        if rng is None:
            raise ValueError("policy bandit: needs the model's rng")
        return EpsilonGreedyMarkup(rng, levels=levels, epsilon=epsilon)
    raise ValueError(f"policy name: unknown {name!r}; allowed: {', '.join(POLICIES)}")
