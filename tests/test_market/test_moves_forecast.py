"""The strategic forecast's machinery against known answers: the holdings chain against the closed-form two-state
chain, choice probabilities by state against the nested logit computed directly, cash-flow paths on a hand-made
market, the Nash bargaining price, and the forecast's terms against the demand oracle's."""

import numpy as np
import pytest

from market import demand
from market.moves.chain import holding_path, transition, two_state_share
from market.moves.forecast import Phase, Terms, flows
from market.moves.sample import SampleBase, pick_offers, terms_on_sample
from market.moves.value import nash_price

LAM1 = np.ones(3)  # plain logit in every nest


def test_holding_path_matches_the_closed_form_two_state_chain():
    rho, stay, join, months = 0.1, 0.8, 0.05, 60
    q = np.array([[[stay], [1 - stay]], [[join], [1 - join]]])  # (S, S, M = 1)
    for s0 in (0.0, 0.3, 1.0):
        pi0 = np.array([[s0], [1 - s0]])
        path = holding_path(pi0, [(q, np.full((2, 1), rho))] * months)
        np.testing.assert_allclose(path[:, 0, 0], two_state_share(s0, rho, stay, join, months), rtol=1e-12)
    # The steady state join / (1 − stay + join) = 0.2 is reached from both sides.
    assert two_state_share(1.0, rho, stay, join, 2000)[-1] == pytest.approx(0.2, rel=1e-9)
    assert two_state_share(0.0, rho, stay, join, 2000)[-1] == pytest.approx(0.2, rel=1e-9)


def _direct(v0, nest, lam, member, n_groups, penalty, inside):
    """Choice probabilities by state from explicit utilities and demand.nested_probabilities (no shortcuts)."""
    n_states, m = n_groups + 1, v0.shape[1]
    q = np.zeros((n_states, n_states, m))
    mix = np.zeros_like(v0)
    rows = tuple((g, np.flatnonzero(nest == g)) for g in range(3) if (nest == g).any())
    for s in range(n_states):
        pays = (member != s)[:, None] * penalty[None, :]
        if s == n_groups:
            pays = (member < n_groups)[:, None] * (penalty * inside)[None, :]
        p, _ = demand.nested_probabilities(v0 - pays, rows, lam)
        for r in range(n_groups):
            q[s, r] = p[member == r].sum(axis=0)
        q[s, n_groups] = 1.0 - q[s, :n_groups].sum(axis=0)  # rest holds other sellers' offers and the outside option
        own = member == s
        with np.errstate(invalid="ignore", divide="ignore"):
            mix[own] = np.where(q[s, s] > 0, p[own] / q[s, s][None, :], 0.0)
    return q, mix


def test_transition_matches_the_nested_logit_computed_directly():
    rng = np.random.default_rng(3)
    j, m = 9, 40
    v0 = rng.normal(0.0, 2.0, (j, m))
    v0[rng.random((j, m)) < 0.15] = -np.inf  # offers closed to some customers
    nest = np.array([0, 0, 1, 1, 1, 2, 2, 0, 2])
    lam = np.array([0.6, 0.5, 0.8])
    member = np.array([0, 0, 1, 2, 2, 2, 0, 2, 1])  # two tracked groups and rest
    penalty = rng.uniform(0.0, 3.0, m)
    inside = rng.random(m) < 0.7
    tr = transition(v0, nest, lam, member, 2, penalty, inside)
    q, mix = _direct(v0, nest, lam, member, 2, penalty, inside)
    np.testing.assert_allclose(tr.q, q, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tr.mix, mix, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tr.q.sum(axis=1), 1.0, rtol=1e-12)


def _market(price: np.ndarray, holding: np.ndarray, rho: float, pen: float, rival=1.0, value=3.0):
    """A lab's one API offer (row 0) at ``price`` ($/month, one customer a month each) and a rival's (row 1) at 1,
    plain logit with μ = 1 for m identical customers."""
    m = holding.size
    v0 = np.vstack([np.full(m, value - price), np.full(m, value - rival)])
    base = SampleBase(v0=v0, x=np.ones((2, m)), pay=np.vstack([np.full(m, price), np.full(m, rival)]),
                      penalty=np.full(m, pen), inside=holding >= 0, holding=holding, rho=np.full(m, rho),
                      rho_news=np.full(m, rho), w=np.full(m, 10.0), cells=(), vertical=np.zeros(m, int),
                      offers=None, lam=LAM1, positions=np.arange(m), oracle=None)
    terms = Terms(v0, base.x, base.pay, {"rev": (np.array([0]), base.pay[[0]])})
    return base, terms


def test_revenue_path_is_the_two_state_chain_times_the_price():
    price, rho, pen, months = 2.0, 0.2, 0.7, 36
    holding = np.array([0, 0, 1, 1, 1])  # two hold the lab's offer, three the rival's
    base, terms = _market(price, holding, rho, pen)
    got, level = flows(base, (np.array([0]),), np.array([2, 2]), terms, [Phase(1, terms)], months)
    e_lab, e_rival = np.exp(3.0 - price), np.exp(3.0 - 1.0)
    stay = e_lab / (1 + e_lab + e_rival * np.exp(-pen))
    join = e_lab * np.exp(-pen) / (1 + e_lab * np.exp(-pen) + e_rival)
    expected = 10.0 * price * (2 * two_state_share(1.0, rho, stay, join, months)
                               + 3 * two_state_share(0.0, rho, stay, join, months))
    np.testing.assert_allclose(got["rev"], expected, rtol=1e-10)
    assert level["rev"] == pytest.approx(10.0 * price * 2)


def test_locked_in_holders_pay_a_premium_when_nobody_reconsiders():
    holding = np.array([0, 0, 0, 1])
    low, t_low = _market(1.0, holding, rho=0.0, pen=1.0)
    high, t_high = _market(3.0, holding, rho=0.0, pen=1.0)
    g = (np.array([0]),)
    rev_low, _ = flows(low, g, np.array([2, 2]), None, [Phase(1, t_low)], 12)
    rev_high, _ = flows(high, g, np.array([2, 2]), None, [Phase(1, t_high)], 12)
    np.testing.assert_allclose(rev_high["rev"] / rev_low["rev"], 3.0)  # same holders, three times the price


def test_without_switching_costs_and_with_everyone_reconsidering_the_static_best_response_wins_every_month():
    # Monopoly logit against the outside option (no rival): profit (p − c) e^(a−p) / (1 + e^(a−p)) peaks where
    # p − c = 1 / (1 − s) (μ = 1); every month is that static problem when all choose anew without switching costs.
    a, c = 3.0, 0.5
    holding = np.array([-1, -1, 0])

    def month_profit(p):
        base, terms = _market(p, holding, rho=1.0, pen=0.0, rival=1e9, value=a)
        terms = Terms(terms.v0, terms.x, terms.pay, {"gp": (np.array([0]), terms.pay[[0]] - c)})
        got, _ = flows(base, (np.array([0]),), np.array([2, 2]), None, [Phase(1, terms)], 6)
        return got["gp"]

    lo, hi = c, 20.0  # bisection on the first-order condition (p − c)(1 − s(p)) = 1, increasing in p
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (mid - c) * (1 - np.exp(a - mid) / (1 + np.exp(a - mid))) < 1.0 else (lo, mid)
    best = (lo + hi) / 2
    at_best = month_profit(best)
    for other in (best * 0.8, best * 1.2):
        assert np.all(month_profit(other) < at_best)


def test_nash_price_splits_the_surplus_by_the_bargaining_weight():
    assert nash_price(10e9, 4e9, 0.5) == pytest.approx(7e9)   # 4 + (1 − 0.5)(10 − 4)
    assert nash_price(10e9, 4e9, 1.0) == pytest.approx(4e9)   # all power to the buyer: the seller's value
    assert nash_price(10e9, 4e9, 0.0) == pytest.approx(10e9)  # all power to the seller: the buyer's value
    assert np.isnan(nash_price(3e9, 4e9, 0.5))                # no surplus, no deal
    with pytest.raises(ValueError, match="buyer_weight"):
        nash_price(1.0, 0.0, 1.5)


def test_forecast_terms_reproduce_the_demand_oracle(small):
    from market.model import TokenMarket
    from market.moves.context import lab_context

    model = TokenMarket(small(**{"world.rounds": 3, "labs.0.review_months": 12}), rng=4)
    for _ in range(3):
        model.step()
    base = lab_context(model, model.labs[0]).base
    rows = np.arange(base.offers.n)
    v0, x, pay = terms_on_sample(base, pick_offers(base.offers, rows))
    open_ = np.isfinite(base.v0)
    assert (np.isfinite(v0) == open_).all()
    np.testing.assert_allclose(v0[open_], base.v0[open_], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(x[open_], base.x[open_], rtol=1e-9)
    np.testing.assert_allclose(pay[open_], base.pay[open_], rtol=1e-9)
