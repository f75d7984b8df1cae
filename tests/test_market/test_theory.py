"""market.theory: Calvano et al. (2020) logit benchmarks, FOC residuals, Bertrand, profit-gain index."""

import numpy as np
import pytest

from market import theory as th

CALVANO = dict(costs=[1.0, 1.0], qualities=[2.0, 2.0], mu=0.25, a0=0.0)


def _grad(f, p, h=1e-6):
    p = np.asarray(p, dtype=float)
    return np.array([(f(p + h * e) - f(p - h * e)) / (2 * h) for e in np.eye(p.size)])


def test_calvano_baseline_prices():
    nash = th.logit_nash_prices(**CALVANO)
    mono = th.logit_monopoly_prices(**CALVANO)
    np.testing.assert_allclose(nash, 1.4729, atol=1e-4)
    np.testing.assert_allclose(mono, 1.9250, atol=1e-4)


def test_shares_sum_below_one_and_stable():
    s = th.logit_shares([1.0, 2.0], [2.0, 2.0], 0.25)
    assert s[0] > s[1] and 0 < s.sum() < 1
    big = th.logit_shares([0.0, 0.0], [1e4, 1e4], 0.01)  # would overflow without the max shift
    np.testing.assert_allclose(big, [0.5, 0.5])


@pytest.mark.parametrize("costs,qualities,mu,a0", [
    ([1.0, 1.0], [2.0, 2.0], 0.25, 0.0),
    ([1.0, 1.2, 0.8], [2.0, 2.5, 1.7], 0.3, 0.5),
    ([0.2], [3.0], 0.1, 0.0),
])
def test_nash_foc_residual_zero(costs, qualities, mu, a0):
    p = th.logit_nash_prices(costs, qualities, mu, a0)
    for i in range(len(p)):
        def own(x, i=i):
            q = p.copy()
            q[i] = x[0]
            return th.logit_profits(q, costs, qualities, mu, a0)[i]
        assert abs(_grad(own, [p[i]])[0]) < 1e-6


@pytest.mark.parametrize("costs,qualities,mu,a0", [
    ([1.0, 1.0], [2.0, 2.0], 0.25, 0.0),
    ([1.0, 1.2, 0.8], [2.0, 2.5, 1.7], 0.3, 0.5),
])
def test_monopoly_joint_foc_residual_zero_and_beats_nash(costs, qualities, mu, a0):
    pm = th.logit_monopoly_prices(costs, qualities, mu, a0)
    joint = lambda p: th.logit_profits(p, costs, qualities, mu, a0).sum()
    assert np.max(np.abs(_grad(joint, pm))) < 1e-6
    pn = th.logit_nash_prices(costs, qualities, mu, a0)
    assert joint(pm) > joint(pn)
    assert np.all(pm > pn)


def test_higher_quality_higher_nash_price():
    p = th.logit_nash_prices([1.0, 1.0], [2.0, 2.5], 0.25)
    assert p[1] > p[0]
    p_cost = th.logit_nash_prices([1.0, 1.3], [2.0, 2.0], 0.25)
    assert p_cost[1] > p_cost[0] and p_cost[1] - p_cost[0] < 0.3  # partial pass-through


def test_nash_tends_to_cost_as_mu_vanishes():
    p = th.logit_nash_prices([1.0, 1.0], [2.0, 2.0], 1e-3)
    np.testing.assert_allclose(p, 1.0, atol=5e-3)


def test_profit_gain_index():
    pn = th.logit_profits(th.logit_nash_prices(**CALVANO), **{k: CALVANO[k] for k in ("costs", "qualities", "mu")})
    pm = th.logit_profits(th.logit_monopoly_prices(**CALVANO), **{k: CALVANO[k] for k in ("costs", "qualities", "mu")})
    assert th.profit_gain_index(pn[0], pn[0], pm[0]) == 0.0
    assert th.profit_gain_index(pm[0], pn[0], pm[0]) == pytest.approx(1.0)
    np.testing.assert_allclose(th.profit_gain_index(np.array([1.0, 2.0]), 0.0, 2.0), [0.5, 1.0])
    with pytest.raises(ValueError, match="monopoly_profit"):
        th.profit_gain_index(1.0, 2.0, 2.0)


def test_bertrand_price():
    assert th.bertrand_price([3.0, 1.0, 2.0]) == 2.0
    assert th.bertrand_price([1.5, 1.5]) == 1.5
    with pytest.raises(ValueError, match="costs"):
        th.bertrand_price([1.0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="mu"):
        th.logit_shares([1.0], [2.0], 0.0)
    with pytest.raises(ValueError, match="shape"):
        th.logit_nash_prices([1.0, 1.0], [2.0], 0.25)
    with pytest.raises(ValueError, match="prices"):
        th.logit_shares([np.nan], [2.0], 0.25)
