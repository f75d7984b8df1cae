"""Demand: value of tokens, usage, nested logit, rationing — against hand calculations and closed forms."""

import numpy as np
import pytest

from market import choice, demand

LAM1 = np.ones(3)


def offers(q, pm, pt=None, cap=None, over=None, api=None, alive=None, pool=None, fit=None, nest=None, owner=None,
           brand=None):
    j = len(q)
    arr = lambda x, fill, dt=float: np.full(j, fill, dtype=dt) if x is None else np.asarray(x, dtype=dt)  # noqa: E731
    return demand.Offers(
        fit=np.ones((1, j)) if fit is None else np.asarray(fit, float), quality=np.asarray(q, float),
        price_month=np.asarray(pm, float), price_mtok=arr(pt, 0.0), cap_mtok=arr(cap, np.inf),
        overage_usd_per_mtok=arr(over, np.inf), api=arr(api, False, bool), alive=arr(alive, True, bool),
        pool=np.arange(j) if pool is None else np.asarray(pool), owner=np.arange(j) if owner is None else np.asarray(owner),
        nest=arr(nest, 0, np.int64), size=np.ones(j), brand=arr(brand, demand.NO_BRAND, np.int64))


def utilities(o, wtp, need, mu=1.0, gamma=1.0, lam=LAM1, switching=None, current=None, aware=None, api_capable=False,
              wtp_median=None):
    m = demand.menu(o, 0, api_capable, mu, gamma, lam, wtp_median=wtp if wtp_median is None else wtp_median)
    n = 1
    cur = np.full(n, -1) if current is None else np.asarray([current])
    owners = demand.current_owners(o, cur)
    v = demand.menu_utilities(m, np.array([wtp], float), np.array([need], float),
                              None if switching is None else np.array([switching], float), owners,
                              None if aware is None else np.array([aware], np.int64))
    out = np.full(o.n, -np.inf)
    out[m.cols] = v[:, 0]
    return out


def test_flat_plan_utility_is_value_minus_price_over_mu():
    # W 10 $/month, quality 1, γ 1, price 4 $/month, uncapped, μ 2 $/month at this W: V = (10 − 4) / 2 = 3.
    v = utilities(offers([1.0], [4.0]), wtp=10.0, need=1.0, mu=2.0)
    assert v[0] == pytest.approx(3.0)


def test_logit_scale_grows_with_willingness_to_pay():
    # μ_i = μ · W_i / W_median: a customer worth twice the median has twice the taste dispersion.
    v = utilities(offers([1.0], [4.0]), wtp=20.0, need=1.0, mu=2.0, wtp_median=10.0)
    assert v[0] == pytest.approx((20 - 4) / 4.0)


def test_capped_free_tier_and_switching_spread_over_tenure():
    # Need 2 Mtok, free cap 0.5: z = 0.25, φ = 0.25 · 1.75 = 0.4375, value 10 · 0.4375 = 4.375 $/month. A customer on
    # offer 0 pays a switching cost of 2 $/month (24 $ over 12 months) to move to offer 1, nothing to stay.
    o = offers([1.0, 1.0], [0.0, 0.0], cap=[np.inf, 0.5])
    v = utilities(o, wtp=10.0, need=2.0, switching=2.0, current=0)
    assert v[0] == pytest.approx(10.0)
    assert v[1] == pytest.approx(4.375 - 2.0)


def test_api_usage_responds_to_price():
    # B = 10, a = 2 Mtok, p = 1.5 $/Mtok: z = 1 − 1.5 · 2 / 20 = 0.85, x = 1.7 Mtok, surplus 10 · 0.85² = 7.225,
    # payment 2.55 $/month. At p ≥ 2B/a = 10 the customer uses nothing.
    s, x, pay = demand.outcome(np.array(2.0), np.array(10.0), 0.0, np.array([1.5, 10.0]), np.inf, np.inf)
    assert x == pytest.approx([1.7, 0.0]) and s == pytest.approx([7.225, 0.0]) and pay == pytest.approx([2.55, 0.0])
    # The surplus is the value of the tokens used less what they cost: B·φ(x/a) − p·x.
    assert 10 * demand.phi(0.85) - 1.5 * 1.7 == pytest.approx(7.225)
    o = offers([1.0], [0.0], pt=[1.5], api=[True])
    assert utilities(o, wtp=10.0, need=2.0, api_capable=True)[0] == pytest.approx(7.225)
    assert np.isneginf(utilities(o, wtp=10.0, need=2.0, api_capable=False)[0])


def test_overage_price_beyond_the_cap():
    # Cap 1 Mtok, overage 2 $/Mtok, need 3, B 30, flat 5 $/month: beyond the cap the interior use at the overage
    # price is 3 (1 − 2 · 3 / 60) = 2.7 Mtok; value 30 φ(0.9) = 29.7, payment 5 + 2 · 1.7 = 8.4.
    s, x, pay = demand.outcome(np.array(3.0), np.array(30.0), 5.0, 0.0, 1.0, 2.0)
    assert (float(x), float(pay), float(s)) == pytest.approx((2.7, 8.4, 29.7 - 8.4))
    # A hard cap stops at the cap: x = 1, value 30 φ(1/3) = 30 · 5/9.
    s, x, pay = demand.outcome(np.array(3.0), np.array(30.0), 5.0, 0.0, 1.0, np.inf)
    assert (float(x), float(s)) == pytest.approx((1.0, 30 * 5 / 9 - 5))


def test_heavy_users_prefer_flat_plans_to_per_token_prices():
    # Same value B = 100, plan 20 $/month uncapped against an API at 5 $/Mtok: a light user (1 Mtok) pays less on
    # the API, a heavy one (20 Mtok) gets more from the plan (the API's price cuts its use to z = 0.5).
    for need, prefers_plan in ((1.0, False), (20.0, True)):
        plan = 100 - 20
        api = float(demand.outcome(np.array(need), np.array(100.0), 0.0, 5.0, np.inf, np.inf)[0])
        assert (plan > api) is prefers_plan


def test_nested_probabilities_closed_form():
    # Nest 0 (λ 0.5): V = 0 and ln 2 → S = 1 + 4 = 5; nest 2 (λ 1): V = 1 → S = e. D = 1 + √5 + e.
    v = np.array([[0.0], [np.log(2.0)], [1.0]])
    rows = ((0, np.array([0, 1])), (2, np.array([2])))
    p, log_d = demand.nested_probabilities(v.copy(), rows, np.array([0.5, 1.0, 1.0]))
    d = 1 + np.sqrt(5) + np.e
    assert p[:, 0] == pytest.approx([5 ** -0.5 / d, 4 * 5 ** -0.5 / d, np.e / d])
    assert float(log_d[0]) == pytest.approx(np.log(d))


def test_nested_logit_with_lambda_one_is_plain_logit():
    v = np.array([[1.0, -2.0], [0.0, 0.5], [-1.0, np.log(3.0)]])
    rows = ((0, np.array([0, 1])), (1, np.array([2])))
    p, _ = demand.nested_probabilities(v.copy(), rows, LAM1)
    plain = np.exp(v) / (1 + np.exp(v).sum(axis=0))
    assert p == pytest.approx(plain)


def test_closed_nest_and_unknown_brand_get_no_probability():
    o = offers([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], nest=[0, 0, 1], brand=[-1, 0, -1])
    v = utilities(o, wtp=10.0, need=1.0, aware=demand.AI_AWARE)  # aware of AI, not of lab 0's apps
    assert np.isneginf(v[1]) and np.isfinite(v[0])
    p, _ = demand.nested_probabilities(np.array([[v[0]], [v[1]], [-np.inf]]),
                                       ((0, np.array([0, 1])), (1, np.array([2]))), np.array([0.5, 0.5, 1.0]))
    assert p[1, 0] == 0.0 and p[2, 0] == 0.0 and p[0, 0] == pytest.approx(np.exp(v[0]) / (1 + np.exp(v[0])))


def test_more_clones_in_a_tight_nest_barely_grow_the_nest():
    # N identical offers of V = 0 in a nest: its share is N^λ / (1 + N^λ). With λ = 0.2, ten clones take 61 % against
    # one's 50 %; with plain logit (λ = 1) they take 91 %.
    for lam, expected in ((0.2, 10 ** 0.2 / (1 + 10 ** 0.2)), (1.0, 10 / 11)):
        p, _ = demand.nested_probabilities(np.zeros((10, 1)), ((0, np.arange(10)),), np.array([lam, 1.0, 1.0]))
        assert float(p.sum()) == pytest.approx(expected)


def test_choice_frequencies_match_nested_probabilities():
    rng = np.random.default_rng(0)
    n = 200_000
    o = offers([1.0, 1.0, 1.0], [2.0, 3.0, 1.0], nest=[0, 0, 1])
    lam = np.array([0.4, 1.0, 1.0])
    pick = choice.choose(o, np.zeros(n, np.int8), np.full(n, 4.0), np.ones(n), np.zeros(n), np.full(n, -1),
                         np.full(n, demand.AI_AWARE, np.int64), mu=1.0, gamma=1.0, lam=lam, api_capable=False,
                         rng=rng, wtp_median=4.0)
    m = demand.menu(o, 0, False, 1.0, 1.0, lam, wtp_median=4.0)
    v = demand.menu_utilities(m, np.array([4.0]), np.array([1.0]))
    p, _ = demand.nested_probabilities(v, m.nest_rows, lam)
    expected = np.r_[p[:, 0], 1 - p[:, 0].sum()]
    freq = [np.mean(pick == k) for k in (0, 1, 2)] + [np.mean(pick == -1)]
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(np.array(freq) - expected) < 4.5 * se)


def test_inclusive_value_closed_form():
    v = np.array([[0.0, -np.inf], [np.log(2.0), -np.inf]])
    iv = demand.inclusive_value(v, ((0, np.array([0, 1])),), LAM1)
    assert iv[0] == pytest.approx(np.log(1 + 1 + 2))
    assert iv[1] == pytest.approx(0.0)


def test_full_pools_admit_their_capacity_in_expectation():
    # Pool 0: 100,000 members asking 1 Mtok each, capacity 40,000: each gets in with probability 0.4. Pool 1 fits.
    rng = np.random.default_rng(1)
    pools = np.array([0] * 100_000 + [1] * 10)
    away = demand.turned_away(pools, np.array([100_000.0, 30.0]), np.array([40_000.0, 30.0]), rng)
    admitted = 100_000 - away[:100_000].sum()
    assert abs(admitted - 40_000) < 4.5 * np.sqrt(100_000 * 0.4 * 0.6)
    assert not away[100_000:].any()


def test_served_fraction():
    f = demand.served_fraction(np.array([10.0, 5.0, 0.0]), np.array([5.0, 10.0, 0.0]))
    assert f == pytest.approx([0.5, 1.0, 1.0])


def test_bernoulli_positions_have_the_binomial_mean():
    rng = np.random.default_rng(3)
    counts = [demand.bernoulli_positions(rng, 10_000, 0.1).size for _ in range(200)]
    assert np.mean(counts) == pytest.approx(1000, abs=4.5 * np.sqrt(10_000 * 0.09 / 200))
