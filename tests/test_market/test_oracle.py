"""The demand oracle and best-response pricing against closed forms: exact curves, logit Bertrand–Nash prices, a
full pool pricing up to where it clears, a monopolist's screening menu, and clones competing rents away."""

import numpy as np
import pytest

from agents.policies import BestResponse
from agents.types import PriceObservation, Product
from market import demand, pricing, theory
from market.config import VERTICALS
from market.scenario import config_from
from market.model import TokenMarket
from market.oracle import DemandOracle, DemandSample, FirmView, SampleState, SegmentTerms


# ------------------------------------------------------------------------------------------ a synthetic market

def market(qualities, prices, caps=None, nests=None, lam=(1.0, 1.0, 1.0), wtp=(2.0,), need=(1.0,), mu=0.25,
           counts=None):
    """Flat plans sold to identical-within-type customers of one segment and one vertical (no switching costs);
    ``mu`` is the logit scale of a customer of the first type (it scales with willingness to pay)."""
    j = len(qualities)
    offers = demand.Offers(
        fit=np.vstack([np.ones(j), np.zeros((3, j))]), quality=np.asarray(qualities, float),
        price_month=np.asarray(prices, float), price_mtok=np.zeros(j),
        cap_mtok=np.full(j, np.inf) if caps is None else np.asarray(caps, float),
        overage_usd_per_mtok=np.full(j, np.inf), api=np.zeros(j, bool), alive=np.ones(j, bool), pool=np.arange(j),
        owner=np.arange(j), nest=np.zeros(j, np.int64) if nests is None else np.asarray(nests),
        size=np.ones(j), brand=np.full(j, -1))
    counts = [1] * len(wtp) if counts is None else counts
    w = np.repeat(np.asarray(wtp, float), counts)
    a = np.repeat(np.asarray(need, float), counts)
    m = w.size
    sample = DemandSample(np.arange(m), np.zeros(m, np.int64), np.zeros(m, np.int64), np.ones(m))
    state = SampleState(w, a, np.zeros(m), np.full(m, demand.AI_AWARE, np.int64), np.full(m, -1, np.int32))
    segs = [SegmentTerms(mu, 1.0, False, float(wtp[0]))]  # μ_i = μ · W_i / W_first
    return DemandOracle(sample, state, offers, segs, np.asarray(lam, float), 1.0)


def iterate(oracle, owners, costs, rounds=200, capacity=None, points=13):
    """Simultaneous partial best-response dynamics of sellers (owner id per offer) on the oracle; returns prices."""
    rule = BestResponse(step_factor=1.5, points=points, adjustment=0.5)
    offers = oracle.offers
    prices = offers.price_month.copy()
    firms = sorted(set(owners))
    for _ in range(rounds):
        views = {f: FirmView(f, np.flatnonzero(np.asarray(owners) == f), np.asarray(costs, float)[np.asarray(owners) == f],
                             np.ones(int((np.asarray(owners) == f).sum())),
                             np.inf if capacity is None else capacity, 0.0, {}, {}) for f in firms}
        products = []
        for j, f in enumerate(owners):
            grid = np.unique(np.append(rule.candidates(prices[j], costs[j]), prices[j]))
            products.append((f, j, None, grid))
        curves = oracle.curves(views, products)
        new = prices.copy()
        for (f, j, _, grid), profits in zip(products, curves):
            obs = PriceObservation(Product("plan", plan=j), prices[j], costs[j], candidate_prices=grid,
                                   candidate_profits_usd=profits)
            new[j] = rule.decide(obs).price
        prices = new
        offers = offers.with_prices(price_month=prices)
        oracle._build(offers)
    return prices


# ------------------------------------------------------------------------------------------ the tests

def test_curve_equals_recomputing_the_whole_market():
    # The curve's shortcut (only the priced offer's row and its nest's sums move) against rebuilding the oracle
    # with the new price, on a live model: equal to rounding.
    model = TokenMarket(config_from(None, {"customers.n_customers": 20_000}), rng=3)
    for _ in range(5):
        model.step()
    o = model.oracle
    checked = 0
    for firm in [model.labs[0], model.labs[1], model.providers[0], model.wrappers[0]]:
        full = pricing.firm_view(model, firm)
        view = FirmView(full.firm_id, full.rows, full.cost_per_mtok, full.load, full.capacity_mtok, full.marginal_cost,
                        {}, {})
        for j in view.rows[:4]:
            e = model.book.entries[j]
            if e.kind == "free":
                continue
            api = e.kind == "api"
            price = o.offers.price_mtok[j] if api else o.offers.price_month[j]
            prices = np.array([price * 0.6, price, price * 1.4])
            fast = o.profit_curve(view, j, prices)
            slow = []
            for p in prices:
                arr = (o.offers.price_mtok if api else o.offers.price_month).copy()
                arr[j] = p
                changed = o.offers.with_prices(price_mtok=arr) if api else o.offers.with_prices(price_month=arr)
                again = DemandOracle(o.sample, o.state, changed, o.segments, o.lam, model.weight)
                slow.append(again.curves({firm.unique_id: view}, [(firm.unique_id, j, None, np.array([p]))])[0][0])
            assert fast == pytest.approx(slow, rel=1e-9, abs=1e-3), (firm.name, e.kind)
            checked += 1
    assert checked >= 8


def test_best_response_dynamics_reach_the_logit_bertrand_nash_prices():
    # Calvano et al. (2020) baseline: two sellers, a = 2, c = 1, μ = 0.25, outside good 0: Nash price 1.4729.
    oracle = market([1.0, 1.0], [1.8, 1.2], wtp=(2.0,), mu=0.25)
    prices = iterate(oracle, [0, 1], [1.0, 1.0])
    assert prices == pytest.approx(theory.logit_nash_prices([1.0, 1.0], [2.0, 2.0], 0.25), rel=0.01)


def test_a_full_pool_prices_up_to_where_it_clears():
    # A monopolist (c = 1, μ = 0.25, value 2) whose capacity serves 30 % of the market prices where demand fits:
    # share 0.3 at exp((2 − p)/μ) / (1 + exp((2 − p)/μ)) = 0.3 → p = 2 − μ ln(0.3/0.7), above its monopoly price.
    oracle = market([1.0], [1.5], wtp=(2.0,), mu=0.25)
    prices = iterate(oracle, [0], [1.0], capacity=0.3)
    mono = theory.logit_nash_prices([1.0], [2.0], 0.25)[0]
    clearing = 2 - 0.25 * np.log(0.3 / 0.7)
    assert clearing > mono
    assert prices[0] == pytest.approx(clearing, rel=0.02)
    free = iterate(market([1.0], [1.5], wtp=(2.0,), mu=0.25), [0], [1.0])  # unconstrained: the monopoly price
    assert free[0] == pytest.approx(mono, rel=0.01)


def test_a_monopolist_screens_light_and_heavy_users_with_a_menu():
    # Maskin & Riley (1984): light users (value 10, need 1 Mtok) and as many heavy ones (value 30, need 4 Mtok), a
    # plan capped at 1 Mtok and one at 4, cost 1 $/Mtok. In the deterministic limit the optimal menu leaves the light
    # type no surplus (P_L = 10) and gives the heavy type exactly the rent its option of the small plan is worth:
    # 30 − P_H = 30·φ(1/4) − P_L, so P_H = 26.875. With taste noise (μ = 0.05 for the light type, 0.15 for the heavy:
    # it scales with value) both constraints hold with a slack of a few μ. The heavy plan carries the higher markup
    # in $, and a quantity discount per token.
    mu_l, mu_h = 0.05, 0.15
    oracle = market([1.0, 1.0], [8.0, 20.0], caps=[1.0, 4.0], wtp=(10.0, 30.0), need=(1.0, 4.0), mu=mu_l,
                    counts=[50, 50])
    light, heavy = iterate(oracle, [0, 0], [1.0, 1.0], rounds=300)
    assert 10 - 8 * mu_l <= light < 10.0                 # the light type's participation binds
    rent_h, option_h = 30 - heavy, 30 * demand.phi(0.25) - light
    assert 0 <= rent_h - option_h <= 8 * mu_h            # the heavy type's incentive constraint binds and holds
    assert heavy == pytest.approx(26.875, abs=8 * (mu_l + mu_h))
    assert heavy - 4 > light - 1                         # higher markup in $ on the intensive users' plan
    assert (heavy - 4) / 4 < (light - 1) / 1             # a quantity discount per token


def _clone_markup(n, lam):
    oracle = market([1.0] * n, [1.5] * n, lam=(lam, 1.0, 1.0), wtp=(2.0,), mu=0.25)
    prices = iterate(oracle, list(range(n)), [1.0] * n, rounds=250)
    return float(np.mean(prices)) - 1.0


def test_clones_in_a_tight_nest_compete_their_margins_away():
    # Nested logit (λ = 0.2, μ = 0.25): the margin of N identical sellers, μ / (1/λ − ((1 − λ)/λ)(1/N) − s), falls
    # toward λμ = 0.05 as N grows; with plain logit (λ = 1) it is μ / (1 − s), never below μ however many clones enter.
    two, ten = _clone_markup(2, 0.2), _clone_markup(10, 0.2)
    assert ten < 0.6 * two
    assert ten == pytest.approx(0.2 * 0.25, rel=0.35)
    plain_ten = _clone_markup(10, 1.0)
    assert plain_ten > 0.25 > 3 * ten


def test_sourcing_forecast_equals_rebuilding_the_market_with_each_option():
    # A wrapper's forecast profit under each upstream option (its plans with the option's model quality, paying
    # the option's token price) against an oracle rebuilt with those qualities: equal to rounding. Hosts of the same
    # open weights share a quality, so several options are computed once.
    import dataclasses

    model = TokenMarket(config_from(None, {"customers.n_customers": 20_000}), rng=4)
    for _ in range(3):
        model.step()
    o = model.oracle
    wrapper = model.wrappers[0]
    options = tuple(model.book.upstream_offers(wrapper.vertical))
    rows = np.array(model.book.ids(wrapper), dtype=np.int64)
    quality = np.array([opt.quality for opt in options]) * wrapper.product_multiplier
    prices = np.array([opt.price_usd_per_mtok for opt in options])
    vertical = VERTICALS.index(wrapper.vertical)
    profits, tokens = o.option_profits(rows, quality, prices, vertical=vertical)
    assert len(np.unique(quality)) < len(options)
    for k in range(len(options)):
        q = o.offers.quality.copy()
        q[rows] = quality[k]
        again = DemandOracle(o.sample, o.state, dataclasses.replace(o.offers, quality=q), o.segments, o.lam, model.weight)
        cols = np.flatnonzero((o.sample.vertical == vertical) & ((o.state.aware & 1) != 0))
        p = again.probabilities(rows, cols)
        want_tokens = float((p * again.X[np.ix_(rows, cols)]).sum(axis=0) @ again.w[cols])
        want = float((p * again.PAY[np.ix_(rows, cols)]).sum(axis=0) @ again.w[cols]) - prices[k] * want_tokens
        assert tokens[k] == pytest.approx(want_tokens, rel=1e-9)
        assert profits[k] == pytest.approx(want, rel=1e-9, abs=1e-6)
