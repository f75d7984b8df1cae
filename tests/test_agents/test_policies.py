"""Pricing policies: known values and the Bertrand and logit-Nash benchmarks."""

import numpy as np
import pytest

from agents.policies import Competitive, CostPlus, LogitBestResponse, make_policy
from agents.types import PriceObservation
from market import theory


def obs(price, cost=1.0, rivals=(), rq=(), q=1.0, volume=1.0, share=0.0, mu=float("nan")):
    return PriceObservation(own_price=price, unit_cost=cost, standard_cost=cost, marginal_cost=cost, quality=q,
                            rival_prices=np.array(rivals, float), rival_qualities=np.array(rq, float),
                            volume=volume, share=share, price_scale=mu)


def test_cost_plus_known_value():
    assert CostPlus(markup=2.53).decide(obs(10.0, cost=1.17)) == pytest.approx(1.17 * 3.53)


def test_competitive_undercuts_quality_adjusted_rival():
    # Rival at 4 with quality 2, own quality 1: quality-adjusted rival price 2; undercut by 5 % -> 1.9.
    assert Competitive(step=0.05).decide(obs(3.0, cost=0.5, rivals=[4.0], rq=[2.0])) == pytest.approx(1.9)


def test_competitive_stops_at_floor():
    assert Competitive(step=0.05, floor_markup=0.1).decide(obs(1.05, cost=1.0, rivals=[1.0], rq=[1.0])) == pytest.approx(1.1)


def test_two_identical_competitive_sellers_converge_to_unit_cost_within_one_step():
    # Homogeneous Bertrand: identical cost, quality, no capacity limit; simultaneous moves.
    policy, cost = Competitive(step=0.05), 1.0
    prices = np.array([4.0, 5.0])
    for _ in range(200):
        prices = np.array([policy.decide(obs(prices[i], cost, [prices[1 - i]], [1.0])) for i in range(2)])
    assert np.all(prices >= cost)
    assert np.all(prices <= cost * 1.05 + 1e-12)


def test_logit_best_response_play_reaches_logit_nash():
    # Two sellers, logit demand a=2, a0=0, mu=0.25, c=1 (Calvano et al. 2020): iterate best responses.
    mu, c, q = 0.25, np.array([1.0, 1.0]), np.array([2.0, 2.0])
    policy = LogitBestResponse(step=0.5)
    p = np.array([1.8, 1.2])
    for _ in range(300):
        s = theory.logit_shares(p, q, mu)
        p = np.array([policy.decide(obs(p[i], cost=1.0, share=float(s[i]), mu=mu)) for i in range(2)])
    assert p == pytest.approx(theory.logit_nash_prices(c, q, mu), abs=1e-4)
    assert p[0] == pytest.approx(1.4729, abs=1e-3)


def test_make_policy_rejects_unknown():
    with pytest.raises(ValueError, match="unknown 'magic'"):
        make_policy("magic")


def test_lambert_w_known_values():
    from agents.policies import lambert_w

    assert lambert_w(0.0) == pytest.approx(0.0)
    assert lambert_w(np.e) == pytest.approx(1.0)          # 1·e^1 = e
    assert lambert_w(1.0) == pytest.approx(0.5671432904)  # the omega constant


def test_logit_best_response_is_a_best_response():
    # Against a fixed rival, the chosen price maximises own logit profit on a fine grid.
    mu, a, rival = 0.25, 2.0, 1.6
    p0 = 1.3
    s0 = float(theory.logit_shares(np.array([p0, rival]), np.array([a, a]), mu)[0])
    p = LogitBestResponse(step=10.0).decide(obs(p0, cost=1.0, share=s0, mu=mu))
    grid = np.linspace(1.0, 3.0, 20001)
    profit = [(g - 1.0) * theory.logit_shares(np.array([g, rival]), np.array([a, a]), mu)[0] for g in grid]
    assert p == pytest.approx(grid[int(np.argmax(profit))], abs=2e-4)


def ll_obs(price, share, spent=0.0, runway=float("inf"), cost=1.0):
    return PriceObservation(own_price=price, unit_cost=cost, standard_cost=cost, marginal_cost=cost, quality=1.0,
                            volume=1.0, share=share, subsidy_spent_usd=spent, runway_months=runway)


def test_loss_leader_campaign_cut_hold_harvest():
    from agents.policies import ShareTargetLossLeader

    p = ShareTargetLossLeader(target_share=0.5, subsidy_budget_usd=100.0, floor_frac=0.3, recoup_markup=1.0, step=0.1)
    assert p.decide(ll_obs(1.0, share=0.1)) == pytest.approx(0.9)            # below 0.8 × target: cut 10 %
    assert p.decide(ll_obs(0.31, share=0.1)) == pytest.approx(0.3)           # floor: 30 % of cost
    assert p.decide(ll_obs(0.5, share=0.45)) == pytest.approx(0.5)           # in the band: hold
    assert p.decide(ll_obs(0.5, share=0.5)) == pytest.approx(0.55)           # target reached: harvest, +10 %
    assert p.harvesting
    assert p.decide(ll_obs(0.55, share=0.1)) == pytest.approx(0.605)         # no second campaign
    assert p.decide(ll_obs(1.95, share=0.1)) == pytest.approx(2.0)           # up to cost × (1 + 1.0)


def test_loss_leader_stops_when_budget_or_runway_is_spent():
    from agents.policies import ShareTargetLossLeader

    assert ShareTargetLossLeader(subsidy_budget_usd=100.0).decide(ll_obs(0.5, 0.1, spent=100.0)) == pytest.approx(0.55)
    assert ShareTargetLossLeader().decide(ll_obs(0.5, 0.1, runway=3.0)) == pytest.approx(0.55)


def test_bandit_learns_the_most_profitable_markup():
    from agents.policies import EpsilonGreedyMarkup

    levels = (0.0, 0.5, 1.0, 2.0)
    bandit = EpsilonGreedyMarkup(np.random.default_rng(0), levels=levels, epsilon=0.1)
    profit = {0.0: 0.0, 0.5: 30.0, 1.0: 50.0, 2.0: 20.0}   # a known single-peaked profit curve
    last = 0.0
    plays = []
    for _ in range(400):
        price = bandit.decide(PriceObservation(own_price=1.0, unit_cost=1.0, standard_cost=1.0, marginal_cost=1.0,
                                               quality=1.0, volume=1.0, last_profit_usd=last))
        markup = round(price - 1.0, 6)
        last = profit[markup]
        plays.append(markup)
    assert levels[int(np.argmax(bandit.values))] == 1.0
    assert bandit.values == pytest.approx([0.0, 30.0, 50.0, 20.0])
    assert np.mean(np.array(plays[-200:]) == 1.0) > 0.85    # exploits ≈ (1 − ε) + ε/4 of the time
