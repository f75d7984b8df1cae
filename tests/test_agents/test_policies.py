"""Pricing rules on hand-made observations: the best response on a known profit curve, and the rules kept for
special cases (cost-plus, undercutting, bandit, a held price)."""

import math

import numpy as np
import pytest

from agents.policies import (BestResponse, Competitive, CostPlus, EpsilonGreedyMarkup, Fixed, candidate_prices,
                             make_policy, parabolic_peak)
from agents.types import PriceObservation, Product

API = Product("api", tier=0)


def obs(price, cost=1.0, rivals=(), rq=(), q=1.0, volume=1.0, grid=None, profits=None, last_profit=0.0):
    return PriceObservation(product=API, own_price=price, marginal_cost=cost, unit_cost=cost, quality=q,
                            rival_prices=np.array(rivals, float), rival_qualities=np.array(rq, float), volume=volume,
                            last_profit_usd=last_profit, candidate_prices=grid, candidate_profits_usd=profits)


def test_candidates_span_a_month_and_are_fine_near_the_posted_price():
    grid = candidate_prices(10.0, 4.0, 1.5, 13)
    assert grid.min() == pytest.approx(10 / 1.5) and grid.max() == pytest.approx(15.0)
    assert 10.0 in grid and 8.0 in grid  # 2 × marginal cost falls inside the range
    assert 4.0 * 1.02 not in grid and 4.0 * 1.25 not in grid  # cost points outside the range left out
    gaps = np.diff(np.log(candidate_prices(10.0, 0.0, 1.5, 13)))
    assert gaps[len(gaps) // 2] < gaps[0] / 5  # quadratic spacing: fine in the middle


def test_parabolic_peak_finds_the_vertex_of_a_parabola_in_log_price():
    x = np.exp(np.array([-0.2, 0.0, 0.2]))
    y = -(np.log(x) - 0.05) ** 2
    assert math.log(parabolic_peak(x, y, 1)) == pytest.approx(0.05)
    assert parabolic_peak(x, np.array([1.0, 0.0, 1.0]), 1) == pytest.approx(x[1])  # convex: no vertex


def test_best_response_moves_part_of_the_way_toward_the_best_candidate():
    # Profit peaks at 12 (a parabola in log price); from 10 with adjustment 0.5 the seller moves to √(10·12).
    rule = BestResponse(step_factor=1.5, points=13, adjustment=0.5)
    grid = rule.candidates(10.0, 2.0)
    profits = 100 - (np.log(grid) - math.log(12.0)) ** 2 * 1000
    d = rule.decide(obs(10.0, grid=grid, profits=profits))
    assert d.target == pytest.approx(12.0, rel=1e-6)
    assert d.price == pytest.approx(math.sqrt(120.0), rel=1e-6)
    assert d.profit_at_target_usd >= d.profit_at_current_usd


def test_best_response_beyond_reach_moves_by_the_step_limit():
    rule = BestResponse(step_factor=1.5, points=13, adjustment=1.0)
    grid = rule.candidates(10.0, 2.0)
    d = rule.decide(obs(10.0, grid=grid, profits=-grid))  # cheaper is always better: the lowest candidate
    assert d.price == pytest.approx(10 / 1.5)


def test_best_response_holds_without_a_curve():
    d = BestResponse().decide(obs(7.0))
    assert (d.price, d.target) == (7.0, 7.0)


def test_cost_plus_known_value():
    assert CostPlus(markup=2.53).decide(obs(10.0, cost=1.17)).price == pytest.approx(1.17 * 3.53)


def test_competitive_undercuts_quality_adjusted_rival():
    # Rival at 4 with quality 2, own quality 1: quality-adjusted rival price 2; undercut by 5 % -> 1.9.
    assert Competitive(step=0.05).decide(obs(3.0, cost=0.5, rivals=[4.0], rq=[2.0])).price == pytest.approx(1.9)


def test_competitive_stops_at_floor():
    d = Competitive(step=0.05, floor_markup=0.1).decide(obs(1.05, cost=1.0, rivals=[1.0], rq=[1.0]))
    assert d.price == pytest.approx(1.1)


def test_two_identical_competitive_sellers_converge_to_unit_cost_within_one_step():
    # Homogeneous Bertrand: identical cost, quality, no capacity limit; simultaneous moves.
    policy, cost = Competitive(step=0.05), 1.0
    prices = np.array([4.0, 5.0])
    for _ in range(200):
        prices = np.array([policy.decide(obs(prices[i], cost, [prices[1 - i]], [1.0])).price for i in range(2)])
    assert np.all(prices >= cost)
    assert np.all(prices <= cost * 1.05 + 1e-12)


def test_bandit_plays_every_arm_then_exploits_the_best():
    rule = EpsilonGreedyMarkup(np.random.default_rng(0), levels=(0.0, 1.0), epsilon=0.0)
    assert rule.decide(obs(1.0, cost=1.0)).price == pytest.approx(1.0)      # arm 0 first
    assert rule.decide(obs(1.0, cost=1.0, last_profit=5.0)).price == pytest.approx(2.0)  # then arm 1
    assert rule.decide(obs(2.0, cost=1.0, last_profit=9.0)).price == pytest.approx(2.0)  # arm 1 paid more


def test_make_policy_rejects_unknown_and_builds_the_best_response():
    with pytest.raises(ValueError, match="unknown 'magic'"):
        make_policy("magic")
    rule = make_policy("best_response", step_factor=1.25, points=9, adjustment=0.3)
    assert isinstance(rule, BestResponse) and (rule.step_factor, rule.points, rule.adjustment) == (1.25, 9, 0.3)


def test_fixed_holds_the_posted_price_whatever_the_curve_says():
    # The profit curve peaks at 12; the held price stays at 10 (the control experiments use to hold some sellers).
    grid = np.array([8.0, 10.0, 12.0, 14.0])
    rule = make_policy("fixed")
    assert isinstance(rule, Fixed)
    decision = rule.decide(obs(10.0, grid=grid, profits=np.array([1.0, 2.0, 5.0, 3.0])))
    assert decision.price == 10.0 and decision.target == 10.0
