"""Issue 3 mechanisms, each against a known value: quality, compute allocation, funding, entry; money and capacity
invariants with vertical moves (the moves themselves: tests/test_market/test_moves_model.py)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.strategy import affordable_gpus, allocate_compute
from market.finance import investors_fund
from market.model import TokenMarket
from market.quality import open_weight_quality, quality_gain
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


def test_open_weight_quality_lags_or_takes_published():
    history = [1.0, 1.1, 1.2, 1.3]
    assert open_weight_quality(history, lag_months=2, gap=0.05, published=0.0) == pytest.approx(1.1 - 0.05)
    assert open_weight_quality(history, lag_months=2, gap=0.05, published=1.25) == pytest.approx(1.25)
    assert open_weight_quality(history, lag_months=99, gap=0.0, published=0.0) == pytest.approx(1.0)


def test_allocate_compute_priorities():
    # 100 GPUs, at least 20 % training: paid 50 first, free gets up to 30, training the rest (20).
    assert allocate_compute(100, 50, 60, 0.2) == pytest.approx((50, 30, 20))
    # Light demand: training takes everything serving does not need.
    assert allocate_compute(100, 10, 10, 0.2) == pytest.approx((10, 10, 80))
    # A paid surge cannot take the protected core.
    assert allocate_compute(100, 500, 0, 0.2) == pytest.approx((80, 0, 20))


@given(fleet=st.floats(0, 1e6), paid=st.floats(0, 1e6), free=st.floats(0, 1e6), core=st.floats(0, 1))
def test_allocate_compute_conserves_gpus(fleet, paid, free, core):
    p, f, t = allocate_compute(fleet, paid, free, core)
    assert p + f + t == pytest.approx(fleet, rel=1e-9, abs=1e-6)
    assert min(p, f) >= 0 and t >= fleet * core - 1e-6


def test_affordable_gpus_hand_calculation():
    # ($1B revenue + $0 parent + $2.4B cash / 24 - $0.1B opex) / $1,679 per GPU-month
    assert affordable_gpus(1e9, 2.4e9, 0.0, 1679.0, 1e8) == pytest.approx((1e9 + 1e8 - 1e8) / 1679.0)
    assert affordable_gpus(0, 0, 0, 1679.0, 1e8) == 0.0


@pytest.mark.parametrize("appetite, growth_now, margin_profit, expected", [
    (1.0, 120.0, -50.0, True),    # growing 20 %, losing money: growth money funds
    (0.0, 120.0, -50.0, False),   # disciplined money does not
    (0.0, 100.0, 10.0, True),     # profitable: everyone funds
    (0.5, 110.0, -30.0, False),   # 0.5·0.10 + 0.5·(−0.27) < 0
    (1.0, 90.0, 10.0, False),     # shrinking revenue: growth money walks away
])
def test_investors_fund_by_appetite(appetite, growth_now, margin_profit, expected):
    assert investors_fund(growth_now, 100.0, margin_profit, appetite) is expected


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
    cfg = small_config(**{"finance.investor_appetite": appetite, "forced": forced, "labs.0.review_months": 4,
                          "labs.1.review_months": 4,
                          "world.open_weight_lag_months": lag, "world.rounds": 10, "customers.n_customers": 1500})
    model = TokenMarket(cfg, rng=seed)
    for _ in range(10):
        model.step()
        assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()
        c = model.last_clearing
        assert np.all(c.pool_served <= c.pool_capacity * (1 + 1e-9) + 1e-6)
        for lab in model.alive(model.labs):
            assert lab.paid_gpus + lab.free_gpus + lab.training_gpus == pytest.approx(lab.gpus, rel=1e-9)
