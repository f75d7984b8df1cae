"""The vectorised population's pieces against direct computations: awareness, who reconsiders, tallies, the
consumer-surplus sample, rationing."""

import numpy as np
import pytest

from agents.customers import AI_AWARE, brand_bit
from market import demand
from market.scenario import config_from
from market.model import TokenMarket
from market.segments import News
from tests.conftest import small_config


def aware_everyone(model):
    for seg in model.population.segments:
        seg.aware |= AI_AWARE


def test_reconsidering_draws_each_aware_member_with_the_segment_probability():
    model = TokenMarket(small_config(**{"customers.n_customers": 100_000}), rng=0)
    aware_everyone(model)
    pop = model.population
    seg = pop.segments[0]  # consumers: 95,000 members, reconsider_prob 0.08
    rng = np.random.default_rng(4)
    hits = np.zeros(seg.n)
    rounds = 50
    for _ in range(rounds):
        idx = pop.reconsidering(0, None, rng)
        assert np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < seg.n  # sorted, unique, in range
        hits[idx] += 1
    p = seg.reconsider_prob
    total_sd = np.sqrt(seg.n * rounds * p * (1 - p))
    assert abs(hits.sum() - seg.n * rounds * p) <= 4 * total_sd
    assert hits.var() == pytest.approx(rounds * p * (1 - p), rel=0.03)
    half = seg.n // 2
    assert hits[:half].mean() == pytest.approx(hits[half:].mean(), rel=0.02)


def test_customers_unaware_of_ai_never_reconsider():
    model = TokenMarket(small_config(**{"customers.n_customers": 20_000}), rng=0)
    pop = model.population
    seg = pop.segments[0]
    unaware = (seg.aware & AI_AWARE) == 0
    assert 0.3 < unaware.mean() < 0.7  # aware0 = 0.5
    for _ in range(20):
        idx = pop.reconsidering(0, None, np.random.default_rng(_))
        assert not unaware[idx].any()


def test_news_tops_up_the_reconsideration_probability():
    # Members holding an offer whose price rose reconsider with reconsider_prob_news (0.25), the rest with 0.08.
    model = TokenMarket(small_config(**{"customers.n_customers": 100_000}), rng=0)
    aware_everyone(model)
    pop, offers = model.population, model.current_offers
    seg = pop.segments[0]
    j = int(np.bincount(seg.choice[seg.choice >= 0]).argmax())
    rose = np.zeros(offers.n, bool)
    rose[j] = True
    news = News(price_rose=rose, new_offer=np.zeros(4, bool))
    holders = seg.choice == j
    hits = np.zeros(seg.n)
    for r in range(40):
        hits[pop.reconsidering(0, news, np.random.default_rng(r))] += 1
    n_h, n_o = holders.sum(), (~holders).sum()
    assert hits[holders].mean() / 40 == pytest.approx(seg.reconsider_prob_news, abs=4.5 * np.sqrt(0.25 * 0.75 / (40 * n_h)))
    assert hits[~holders].mean() / 40 == pytest.approx(seg.reconsider_prob, abs=4.5 * np.sqrt(0.08 * 0.92 / (40 * n_o)))


def test_forced_members_always_reconsider_once():
    model = TokenMarket(small_config(), rng=0)
    pop = model.population
    seg = pop.segments[0]
    chosen = np.flatnonzero(seg.choice >= 0)[:50]
    dead = np.unique(seg.choice[chosen])
    moved = pop.drop_offers(dead)
    assert moved >= chosen.size and np.all(seg.choice[chosen] == -1)
    idx = pop.reconsidering(0, None, np.random.default_rng(0))
    assert np.isin(chosen, idx).all()
    again = pop.reconsidering(0, None, np.random.default_rng(1))  # forced once, then back to chance
    assert not np.isin(chosen, again).all()


def test_bass_diffusion_hazard_per_unaware_customer():
    # With q = 0 the hazard is p alone: the number who become aware is binomial(unaware, p).
    cfg = small_config(**{"customers.n_customers": 100_000, "customers.segments.0.bass_innovation": 0.1,
                          "customers.segments.0.bass_imitation": 0.0})
    model = TokenMarket(cfg, rng=0)
    pop = model.population
    seg = pop.segments[0]
    before = int(((seg.aware & AI_AWARE) == 0).sum())
    pop.spread_awareness(np.zeros(3), np.zeros((3, len(model.labs))), cfg.customers, np.random.default_rng(5))
    after = int(((seg.aware & AI_AWARE) == 0).sum())
    assert before - after == pytest.approx(0.1 * before, abs=4.5 * np.sqrt(before * 0.09))
    # The newly aware know each lab's apps in the proportion the aware did, and must choose this round.
    b = 0
    known = ((seg.aware & AI_AWARE) != 0) & ((seg.aware & brand_bit(b)) != 0)
    assert known.sum() / ((seg.aware & AI_AWARE) != 0).sum() == pytest.approx(cfg.labs[b].brand_awareness, abs=0.02)
    assert sum(f.size for f in pop._forced[0]) == before - after


def test_tally_equals_a_direct_count():
    model = TokenMarket(small_config(**{"customers.n_customers": 5000}), rng=2)
    for _ in range(3):
        model.step()
    pop, offers, uf = model.population, model.current_offers, model.usage_factor
    tally = pop.tally(offers, uf)
    want_c, want_t = np.zeros_like(tally.customers), np.zeros_like(tally.tokens)
    for s, seg in enumerate(pop.segments):
        for i in range(seg.n):
            j = seg.choice[i]
            if j >= 0:
                want_c[s, seg.vertical[i], j] += 1
                benefit = seg.wtp_usd[i] * (offers.fit[seg.vertical[i], j] * offers.quality[j]) ** seg.quality_exponent
                x = demand.token_use(np.array(seg.usage_mtok[i] * uf), np.array(benefit), offers.price_mtok[j],
                                     offers.cap_mtok[j], offers.overage_usd_per_mtok[j])
                want_t[s, seg.vertical[i], j] += float(x)
    assert np.array_equal(tally.customers, want_c)
    assert tally.tokens == pytest.approx(want_t, rel=1e-12, abs=1e-12)
    assert tally.customers.sum() == (pop.choice >= 0).sum()


def test_consumer_surplus_sample_is_within_one_and_a_half_percent_of_the_whole_population():
    # The estimate uses 5,000 members per segment (the top 500 by willingness to pay whole, the rest a systematic
    # sample); with 190,000 consumers the sample is about a fortieth of them. Seeds 1-6 gave errors within 0.9 %.
    model = TokenMarket(config_from(None, {"customers.n_customers": 200_000}), rng=1)
    for _ in range(6):
        model.step()
    pop, offers, uf = model.population, model.current_offers, model.usage_factor
    estimate = pop.consumer_surplus(offers, uf)
    exact = 0.0
    for s, seg in enumerate(pop.segments):
        menus = pop._menus(offers, s)
        for vv in np.unique(seg.vertical):
            rows = np.flatnonzero((seg.vertical == vv) & ((seg.aware & AI_AWARE) != 0))
            m = menus[int(vv)]
            if m.cols.size and rows.size:
                v = demand.menu_utilities(m, seg.wtp_usd[rows], seg.usage_mtok[rows] * uf, aware=seg.aware[rows])
                mu_i = 1.0 / demand.inverse_scale(m, seg.wtp_usd[rows])
                exact += float(demand.inclusive_value(v, m.nest_rows, pop.lam) @ mu_i)
    assert pop.cs_sample[0].size == 5_000 and pop.segments[0].n == 190_000
    assert estimate == pytest.approx(exact, rel=0.015)


def test_rationing_turns_away_only_customers_of_full_pools():
    model = TokenMarket(small_config(**{"customers.n_customers": 20_000}), rng=0)
    pop, offers = model.population, model.current_offers
    aware_everyone(model)
    apps = np.flatnonzero(offers.alive & ~offers.api)
    j = int(apps[0])
    k = int(next(a for a in apps if offers.pool[a] != offers.pool[j]))
    pop.choice[:] = -1
    pop.choice[:10_000], pop.choice[10_000:10_100] = j, k
    capacity = np.full(model.book.n_pools, np.inf)
    capacity[offers.pool[j]] = 4000.0
    load = np.zeros(model.book.n_pools)
    load[offers.pool[j]] = 10_000.0
    blocked = offers.pool == offers.pool[j]
    away = pop.ration(offers, 1.0, capacity, load, blocked, model.rng)
    assert away == pytest.approx(6000, abs=4.5 * np.sqrt(10_000 * 0.24))  # each gets in with probability 0.4
    held = pop.choice[:10_000]
    assert not np.isin(held[held != j], np.flatnonzero(blocked)).any()  # those turned away left the full pool
    assert (pop.choice[10_000:10_100] == k).all() and (pop.choice[10_100:] == -1).all()  # the uncongested pool is spared
