"""Logit choice, inclusive value, rationing: known values."""

import numpy as np
import pytest

from market import demand


def offers(q, pm, pt=None, cap=None, api=None, alive=None, pool=None, fit=None):
    j = len(q)
    return demand.Offers(
        fit=np.ones((1, j)) if fit is None else np.asarray(fit, float), quality=np.asarray(q, float),
        price_month=np.asarray(pm, float), price_mtok=np.zeros(j) if pt is None else np.asarray(pt, float),
        cap_mtok=np.full(j, np.inf) if cap is None else np.asarray(cap, float),
        api=np.zeros(j, bool) if api is None else np.asarray(api), alive=np.ones(j, bool) if alive is None else np.asarray(alive),
        pool=np.arange(j) if pool is None else np.asarray(pool))


def test_utility_hand_calculation():
    # wtp 10 $/month, quality 1, gamma 1, price 4 $/month, mu 2 $/month: V = (10 - 4) / 2 = 3
    o = offers([1.0], [4.0])
    v = demand.utilities(o, np.array([0]), np.array([10.0]), np.array([1.0]), np.array([0.0]), np.array([-1]),
                         mu=2.0, gamma=1.0, api_capable=False)
    assert v[0, 0] == pytest.approx(3.0)


def test_switching_cost_and_capped_free_tier():
    # Customer on offer 0 with switching cost 2 $: offer 1 loses 2/mu. Free tier with cap 0.5 Mtok for a
    # 2 Mtok user delivers a quarter of the value: 10 * 0.25 = 2.5 $/month.
    o = offers([1.0, 1.0], [0.0, 0.0], cap=[np.inf, 0.5])
    v = demand.utilities(o, np.array([0]), np.array([10.0]), np.array([2.0]), np.array([2.0]), np.array([0]),
                         mu=1.0, gamma=1.0, api_capable=False)
    assert v[0, 0] == pytest.approx(10.0)
    assert v[0, 1] == pytest.approx(2.5 - 2.0)


def test_api_cost_scales_with_usage_and_needs_capability():
    o = offers([1.0], [0.0], pt=[3.0], api=[True])
    v = demand.utilities(o, np.array([0]), np.array([10.0]), np.array([2.0]), np.array([0.0]), np.array([-1]),
                         mu=1.0, gamma=1.0, api_capable=True)
    assert v[0, 0] == pytest.approx(10.0 - 6.0)
    v2 = demand.utilities(o, np.array([0]), np.array([10.0]), np.array([2.0]), np.array([0.0]), np.array([-1]),
                          mu=1.0, gamma=1.0, api_capable=False)
    assert np.isneginf(v2[0, 0])


def test_logit_choice_frequencies_match_probabilities():
    rng = np.random.default_rng(0)
    v = np.tile(np.array([[1.0, 0.0, -1.0]]), (200_000, 1))
    choice = demand.logit_choice(v, rng)
    p = demand.choice_probabilities(v[:1])[0]          # e^1, e^0, e^-1, e^0 (outside) over their sum
    expected = np.exp([1, 0, -1, 0]) / np.exp([1, 0, -1, 0]).sum()
    assert p == pytest.approx(expected)
    freq = [np.mean(choice == k) for k in (0, 1, 2)] + [np.mean(choice == -1)]
    assert freq == pytest.approx(expected, abs=0.005)


def test_inclusive_value_closed_form():
    v = np.array([[0.0, np.log(2.0)], [-np.inf, -np.inf]])
    iv = demand.inclusive_value(v)
    assert iv[0] == pytest.approx(np.log(1 + 1 + 2))
    assert iv[1] == pytest.approx(0.0)


def test_full_pools_admit_until_full():
    # Pool 0: 100 customers of 1 Mtok, capacity 40 → 40 admitted, 60 turned away. Pool 1: 10 customers of
    # 3 Mtok, capacity 10.5 → the fourth crosses the capacity and still gets in (its excess is throttled).
    rng = np.random.default_rng(1)
    pools = np.array([0] * 100 + [1] * 10)
    tokens = np.r_[np.ones(100), np.full(10, 3.0)]
    away = demand.turned_away(pools, tokens, np.array([40.0, 10.5]), rng)
    assert away[:100].sum() == 60          # 100 want, 40 fit
    assert away[100:].sum() == 6
    served = demand.pool_loads(np.where(away, -1, pools), tokens, 2)
    assert served == pytest.approx([40.0, 12.0])


def test_served_fraction():
    f = demand.served_fraction(np.array([10.0, 5.0, 0.0]), np.array([5.0, 10.0, 0.0]))
    assert f == pytest.approx([0.5, 1.0, 1.0])
