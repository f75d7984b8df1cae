"""Cells kept up to date as choices change (market/tallies.py) equal cells counted afresh from the arrays."""

import numpy as np
import pytest

from market import demand
from market.scenario import config_from
from market.model import TokenMarket
from market.tallies import ChoiceTally


def fresh(pop, offers, uf):
    return ChoiceTally(pop).tally(offers, uf)


def test_cells_after_rationing_equal_cells_counted_afresh():
    # Providers rent GPUs for the demand they had at their opening price, then cut it to cost plus 10 %: demand
    # outruns what they rented, their pools fill, customers are turned away and choose again; the clearing's
    # cells moved those customers one by one.
    cfg = config_from(None, {"customers.n_customers": 20_000,
                             "providers.policy": {"name": "cost_plus", "markup": 0.1}})
    model = TokenMarket(cfg, rng=2)
    spilled = 0.0
    for _ in range(3):
        model.step()
        spilled += model.last_clearing.spilled
        pop, offers, uf = model.population, model.current_offers, model.usage_factor
        kept, again = pop.tally(offers, uf), fresh(pop, offers, uf)
        assert np.array_equal(kept.customers, again.customers)
        assert kept.tokens == pytest.approx(again.tokens, rel=1e-9, abs=1e-9)
        assert kept.overage == pytest.approx(again.overage, rel=1e-9, abs=1e-9)
    assert spilled > 0


def test_moves_follow_choices_and_a_new_offer_starts_again():
    model = TokenMarket(config_from(None, {"customers.n_customers": 5_000}), rng=0)
    pop, offers, uf = model.population, model.current_offers, model.usage_factor
    pop.tally(offers, uf)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(pop.n, 400, replace=False))
    pop._set_choices(idx, rng.integers(-1, offers.n, idx.size).astype(pop.choice.dtype))
    assert pop.tallies.version == pop.version  # moved, not rebuilt
    kept, again = pop.tally(offers, uf), fresh(pop, offers, uf)
    assert np.array_equal(kept.customers, again.customers)
    assert kept.tokens == pytest.approx(again.tokens, rel=1e-9, abs=1e-9)
    pop._set_choices(idx[:3], np.full(3, offers.n, dtype=pop.choice.dtype))  # an offer the codes do not know
    assert pop.tallies.version == -1
    pop._set_choices(idx[:3], np.full(3, demand.OUTSIDE, dtype=pop.choice.dtype))
    kept, again = pop.tally(offers, uf), fresh(pop, offers, uf)
    assert np.array_equal(kept.customers, again.customers)
    assert kept.customers.sum() == (pop.choice >= 0).sum()
