"""The fused choice kernel (market/choice.py) against the general nested-logit path of market/demand.py."""

import dataclasses

import numpy as np
import pytest

from market import choice, demand

LAM = np.array([0.5, 0.7, 0.6])


def market(rng: np.random.Generator, j: int = 14) -> demand.Offers:
    """Offers of every kind: free tiers and capped plans (chat), uncapped apps, plans with overage, per-token APIs
    (API nest), with owners shared across nests and brands on some."""
    kind = np.arange(j) % 5  # 0 free, 1 plan, 2 uncapped app, 3 overage plan, 4 API
    nest = np.where(kind == 4, 2, np.where(kind == 2, 1, 0))
    return demand.Offers(
        fit=np.vstack([np.ones(j), np.where(rng.random(j) < 0.3, 0.0, rng.uniform(0.8, 1.2, j))]),
        quality=rng.uniform(0.6, 1.6, j),
        price_month=np.select([kind == 0, kind == 4], [0.0, 0.0], rng.uniform(5, 60, j)),
        price_mtok=np.where(kind == 4, rng.uniform(0.5, 15, j), 0.0),
        cap_mtok=np.select([kind == 0, kind == 1, kind == 3], [0.3, 3.0, 1.0], np.inf),
        overage_usd_per_mtok=np.where(kind == 3, 4.0, np.inf),
        api=kind == 4, alive=rng.random(j) > 0.1, pool=np.arange(j), owner=rng.integers(0, 5, j), nest=nest,
        size=np.ones(j), brand=np.where(kind < 2, rng.integers(-1, 3, j), demand.NO_BRAND))


def customers(rng: np.random.Generator, n: int, offers: demand.Offers):
    wtp = rng.lognormal(np.log(20), 1.0, n)
    need = rng.lognormal(np.log(2), 1.2, n)
    sw = rng.uniform(0, 5, n)
    current = rng.integers(-1, offers.n, n)
    owners = demand.current_owners(offers, current)
    aware = rng.integers(0, 16, n) | demand.AI_AWARE
    return wtp, need, sw, current, owners, aware


def general_probabilities(m, wtp, need, sw, owners, aware):
    v = demand.menu_utilities(m, wtp, need, sw, owners, aware)
    return demand.nested_probabilities(v, m.nest_rows, m.lam)


def kernel_probabilities(kern, e):
    """P (K, n) and log D implied by the kernel's weights."""
    n = e.shape[1]
    terms = []
    for g, lo, hi, lam, c in kern.nests:
        with np.errstate(divide="ignore"):
            terms.append(lam * (np.log(e[lo:hi].sum(axis=0)) + c))
    log_d = choice._log_one_plus_sum_exp(terms, n)
    p = np.zeros_like(e)
    for (g, lo, hi, lam, c), t in zip(kern.nests, terms):
        total = e[lo:hi].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            p[lo:hi] = np.where(total > 0, e[lo:hi] / total * np.exp(t - log_d), 0.0)
    return p, log_d


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("vertical", [0, 1])
def test_kernel_probabilities_equal_the_general_path(seed, vertical):
    rng = np.random.default_rng(seed)
    o = market(rng)
    m = demand.menu(o, vertical, True, 4.0, 1.5, LAM, wtp_median=20.0)
    kern = choice.kernel(m)
    assert kern.exact
    wtp, need, sw, _, owners, aware = customers(rng, 3000, o)
    order = np.argsort(owners, kind="stable")
    wtp, need, sw, owners, aware = wtp[order], need[order], sw[order], owners[order], aware[order]
    p_general, log_d_general = general_probabilities(kern.menu, wtp, need, sw, owners, aware)
    p, log_d = kernel_probabilities(kern, choice.weights(kern, wtp, need, sw, owners, aware))
    assert np.max(np.abs(p - p_general)) < 1e-12
    assert log_d == pytest.approx(log_d_general, rel=1e-12, abs=1e-12)
    assert choice.inclusive_values(kern, wtp, need, aware) == pytest.approx(
        demand.inclusive_value(demand.menu_utilities(kern.menu, wtp, need, aware=aware), kern.menu.nest_rows, LAM),
        rel=1e-12, abs=1e-12)


def test_unknown_brands_and_own_firm_rows_are_exact():
    # One customer of firm 7 knows lab 0 but not lab 1: the lab-1 app has probability 0, firm 7's other offer
    # carries no switching cost. Plain logit (λ = 1): P_k = exp(V_k) / (1 + Σ exp V).
    o = demand.Offers(fit=np.ones((1, 3)), quality=np.ones(3), price_month=np.array([10.0, 10.0, 10.0]),
                      price_mtok=np.zeros(3), cap_mtok=np.full(3, np.inf), overage_usd_per_mtok=np.full(3, np.inf),
                      api=np.zeros(3, bool), alive=np.ones(3, bool), pool=np.arange(3), owner=np.array([7, 8, 9]),
                      nest=np.zeros(3, np.int64), size=np.ones(3), brand=np.array([0, 1, -1]))
    m = demand.menu(o, 0, False, 5.0, 1.0, np.ones(3), wtp_median=20.0)
    kern = choice.kernel(m)
    aware = np.array([demand.AI_AWARE | 0b10])  # bit 1: lab 0 known; bit 2 (lab 1) not
    e = choice.weights(kern, np.array([20.0]), np.array([1.0]), np.array([3.0]), np.array([7]), aware)
    p, _ = kernel_probabilities(kern, e)
    by_offer = dict(zip(kern.cols.tolist(), p[:, 0]))
    v0, v2 = (20 - 10) / 5.0, (20 - 10 - 3) / 5.0  # own firm's offer: no switching; offer 2: switching 3 $/month
    d = 1 + np.exp(v0) + np.exp(v2)
    assert by_offer[1] == 0.0
    assert by_offer[0] == pytest.approx(np.exp(v0) / d, rel=1e-12)
    assert by_offer[2] == pytest.approx(np.exp(v2) / d, rel=1e-12)


def test_two_stage_draw_maps_each_uniform_as_the_single_stage_draw():
    # The kernel's draw (nest, then offer) and the general inverse CDF over the rows in kernel order pick the same
    # offer for every uniform: the same probabilities, the same order.
    rng = np.random.default_rng(3)
    o = market(rng)
    kern = choice.kernel(demand.menu(o, 0, True, 4.0, 1.5, LAM, wtp_median=20.0))
    n = 20_000
    wtp, need, sw, current, _, aware = customers(rng, n, o)
    vertical = np.zeros(n, np.int8)
    fast = choice.choose(o, vertical, wtp, need, sw, current, aware, 4.0, 1.5, LAM, True, np.random.default_rng(9),
                         kernels=[kern, kern])
    slow = choice.choose(o, vertical, wtp, need, sw, current, aware, 4.0, 1.5, LAM, True, np.random.default_rng(9),
                         kernels=[dataclasses.replace(kern, exact=False)] * 2)
    assert np.array_equal(fast, slow)
    assert np.all(np.isin(fast[fast >= 0], kern.cols))


def test_menus_whose_values_could_overflow_take_the_general_path():
    # W_med/μ = 2,000 with quality 1 and λ = 0.5 puts the shift C at 4,000: past the guard, so the kernel is not
    # exact and choose falls back to the general path (which shifts by each customer's own maximum).
    rng = np.random.default_rng(0)
    o = market(rng)
    kern = choice.kernel(demand.menu(o, 0, True, 0.01, 1.0, LAM, wtp_median=20.0))
    assert not kern.exact
    n = 5000
    wtp, need, sw, current, _, aware = customers(rng, n, o)
    pick = choice.choose(o, np.zeros(n, np.int8), wtp, need, sw, current, aware, 0.01, 1.0, LAM, True,
                         np.random.default_rng(1), kernels=[kern, kern])
    assert np.all(np.isin(pick, np.append(kern.cols, demand.OUTSIDE)))


def test_weights_refuse_customers_not_grouped_by_firm():
    rng = np.random.default_rng(0)
    o = market(rng)
    kern = choice.kernel(demand.menu(o, 0, True, 4.0, 1.5, LAM, wtp_median=20.0))
    with pytest.raises(ValueError, match="ascending"):
        choice.weights(kern, np.ones(2), np.ones(2), np.zeros(2), np.array([3, 1]), np.ones(2, np.int64))
