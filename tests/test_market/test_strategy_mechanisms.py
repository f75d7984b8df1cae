"""Issue 3 mechanisms, each against a known value: quality, entry; money and capacity invariants with vertical moves
(the moves themselves: tests/test_market/test_moves_model.py; the compute split, funding and open weights of issue 13:
test_compute.py, test_capital.py, test_open_weights.py and test_round_capital_compute.py)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.model import TokenMarket
from market.quality import quality_gain
from tests.conftest import small_config


def test_quality_gain_hand_calculation():
    # training at the reference compute: a·ln 2; data at the reference volume: b·ln 2.
    g = quality_gain(150_000, 5e7, training_gain=0.0144, training_ref_gpus=150_000, data_gain=0.0036,
                     data_ref_mtok=5e7)
    assert g == pytest.approx((0.0144 + 0.0036) * math.log(2))
    no_flywheel = quality_gain(150_000, 5e7, 0.0144, 150_000, 0.0036, 5e7, flywheel=False)
    assert no_flywheel == pytest.approx(0.0144 * math.log(2))
    # Diminishing returns: each extra 150k GPUs adds less than the previous 150k did.
    gains = [quality_gain(c, 0, 0.0144, 150_000, 0, 1) for c in (0, 150_000, 300_000, 450_000)]
    steps = np.diff(gains)
    assert np.all(np.diff(steps) < 0)
    assert steps[0] == pytest.approx(0.0144 * math.log(2))
    with pytest.raises(ValueError):
        quality_gain(-1, 0, 1, 1, 1, 1)


def test_providers_enter_when_margins_are_positive():
    # Hosts priced far above cost with free entry: newcomers arrive.
    cfg = small_config(**{"providers.policy": {"name": "cost_plus", "markup": 3.0}, "providers.entry_margin_min": 0.1,
                          "providers.opex_usd_per_month": 0.0, "world.rounds": 8})
    model = TokenMarket(cfg, rng=0)
    for _ in range(8):
        model.step()
    assert len(model.providers) > cfg.providers.n
    no_entry = TokenMarket(small_config(**{"providers.policy": {"name": "cost_plus", "markup": 3.0},
                                           "providers.entry": False, "world.rounds": 8}), rng=0)
    for _ in range(8):
        no_entry.step()
    assert len(no_entry.providers) == cfg.providers.n


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), appetite=st.floats(0, 1), entry=st.sampled_from(["chosen", "build", "acquire"]),
       lag=st.integers(0, 24))
def test_money_and_capacity_invariants_hold_with_entry_exit_and_acquisitions(seed, appetite, entry, lag):
    forced = [] if entry == "chosen" else [{"firm": lab, "move": "vertical", "option": entry}
                                            for lab in ("lab_investor_a", "lab_investor_b")]
    cfg = small_config(**{"capital.appetites": [appetite], "forced": forced, "labs.0.review_months": 4,
                          "labs.1.review_months": 4, "open_weights.distillation": True,
                          "open_weights.distill_lag_months": lag, "world.rounds": 10, "customers.n_customers": 1500})
    model = TokenMarket(cfg, rng=seed)
    for _ in range(10):
        model.step()
        assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()
        c = model.last_clearing
        assert np.all(c.pool_served <= c.pool_capacity * (1 + 1e-9) + 1e-6)
        for lab in model.alive(model.labs):
            uses = lab.paid_gpus + lab.free_gpus + lab.training_gpus + lab.rd_gpus + lab.idle_gpus
            assert uses == pytest.approx(lab.gpus, rel=1e-9)
