"""Model-level invariants and mechanisms: money conservation, capacity, exit, Bertrand convergence."""

import numpy as np
import pytest

from market.config import build_config
from market.model import TokenMarket
from tests.conftest import small_config


@pytest.mark.parametrize("seed", range(8))
def test_money_is_conserved_every_round(seed):
    model = TokenMarket(small_config(**{"world.rounds": 24}), rng=seed)
    for _ in range(24):
        model.step()
        # Every account, firms (alive or exited) and outside parties, sums to zero.
        assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()
        firms = [*model.labs, *model.providers, *model.wrappers]
        assert sum(f.cash_usd for f in firms) == pytest.approx(-sum(model.ledger.external.values()), rel=1e-12, abs=1e-3)


@pytest.mark.parametrize("seed", range(4))
def test_served_tokens_never_exceed_capacity(seed):
    model = TokenMarket(small_config(**{"world.rounds": 18, "world.usage_growth_per_year": 3.0}), rng=seed)
    for _ in range(18):
        model.step()
        c = model.last_clearing
        assert np.all(c.pool_served <= c.pool_capacity * (1 + 1e-9) + 1e-6)
        assert np.all(c.cell_served <= c.tokens + 1e-12)
        assert np.all((c.served_share >= 0) & (c.served_share <= 1))


def test_full_pools_spill_customers_to_their_next_choice():
    # Providers capped at 20 GPUs and priced far below the labs (at cost plus nothing): their pools fill and the
    # rest spill over. (Each of the 3,000 simulated customers stands for ~330k real ones.)
    model = TokenMarket(small_config(**{"world.rounds": 3, "providers.max_gpus": 20,
                                        "providers.policy": {"name": "cost_plus", "markup": 0.0},
                                        "providers.api_price_usd_per_mtok": 0.01}), rng=3)
    model.step()
    m, _, _ = model.recorder.frames()
    assert m["customers_spilled"].iloc[0] > 0
    c = model.last_clearing
    prov_pools = [model.book.paid_pool[p.unique_id] for p in model.providers]
    assert np.all(c.pool_served[prov_pools] <= c.pool_capacity[prov_pools] * (1 + 1e-9))
    # Each pool serves what is asked of it up to its capacity (a pool still over it after the spill-over throttles
    # the excess pro rata and runs full).
    want = np.minimum(c.pool_demand[prov_pools], c.pool_capacity[prov_pools])
    assert c.pool_served[prov_pools] == pytest.approx(want, rel=1e-9)


def test_exit_releases_customers_and_moves_wrappers():
    cfg = small_config(**{"labs.1.cash_usd": 0.0, "labs.1.opex_usd_per_month": 1e11, "world.rounds": 3})
    model = TokenMarket(cfg, rng=0)
    victim = model.labs[1]
    for w in model.wrappers:  # make sure some wrappers depend on the victim
        w.upstream = (victim.unique_id, 0)
    model.step()
    assert not victim.alive
    dead = model.book.ids(victim)
    assert not np.isin(model.choice, dead).any()
    assert all(w.upstream_id != victim.unique_id for w in model.wrappers if w.alive)
    _, _, events = model.recorder.frames()
    assert {"exit", "customers_released", "upstream_switch"} <= set(events["kind"])
    model.step()  # the market goes on without it
    assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()


def test_identical_competitive_providers_converge_to_unit_cost():
    # No wrappers, two identical providers hosting the open weights of one lab that prices its own API out of the
    # market and sells no apps, flat cost curve (no scale economies), no capacity limit: Bertrand undercutting
    # drives both prices to unit cost, within one 5 % step.
    cfg = build_config({}, {
        "labs": [{"name": "publisher", "plans": [], "free_tier": False,
                  "tiers": [{"name": "frontier", "price_usd_per_mtok": 1000.0}], "pricing": {"name": "cost_plus", "markup": 50.0}}],
        "wrappers.per_vertical": {"coding": 0, "customer_support": 0, "writing": 0, "general_chat": 0},
        "providers.n": 2, "providers.entry": False, "providers.policy": {"name": "competitive", "step": 0.05, "floor_markup": 0.0},
        "providers.opex_usd_per_month": 0.0, "providers.max_gpus": 10_000_000, "providers.api_price_usd_per_mtok": 3.0,
        "world.scale_economies": False, "world.gpu_price_change_per_year": 0.0, "world.efficiency_gain_per_year": 0.0,
        "world.usage_growth_per_year": 0.0, "customers.n_customers": 4000, "world.rounds": 80})
    model = TokenMarket(cfg, rng=1)
    for _ in range(80):
        model.step()
    for p in model.providers:
        unit = p.last.unit_cost_usd_per_mtok
        # (relative 1e-12: price and unit cost are computed along different float paths)
        assert unit * (1 - 1e-12) <= p.api_price <= unit * 1.05 + 1e-9


def test_same_seed_same_rows_different_seed_different_rows():
    def rows(seed):
        model = TokenMarket(small_config(), rng=seed)
        for _ in range(6):
            model.step()
        return model.recorder.frames()[0]

    a, b, c = rows(5), rows(5), rows(6)
    assert a.equals(b)
    assert not a.equals(c)


def test_batch_run_and_flat_overrides():
    import mesa

    results = mesa.batch_run(TokenMarket, parameters={"customers__n_customers": 1500, "world__rounds": 2},
                             max_steps=2, number_processes=1, rng=[7], display_progress=False)
    assert len(results) >= 1
    model = TokenMarket(rng=1, customers__n_customers=1500, world__gpu_rent_usd_per_hour=4.0)
    assert model.config.world.gpu_rent_usd_per_hour == 4.0
