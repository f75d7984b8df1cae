"""Issue 3 mechanisms, each against a known value: quality, vertical moves, entry; invariants with entry, exit and
acquisitions (the compute split, funding and open weights of issue 13 are tested in test_compute.py,
test_capital.py, test_open_weights.py and test_capwire.py)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.strategy import VerticalView, choose_vertical_move
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


def test_vertical_move_rules():
    views = [VerticalView("coding", 2e8, 5e7, False, ((7, 1e7, 1.8e9), (8, 2e7, 3.6e9))),
             VerticalView("writing", 5e7, 9e7, False, ())]
    # Acquire the largest affordable wrapper (half of $5B cash = $2.5B: only wrapper 7 fits).
    assert choose_vertical_move("build_or_acquire", views, 5e9, 1e8, 5e8) == ("acquire", "coding", 7)
    assert choose_vertical_move("build", views, 5e9, 1e8, 5e8) == ("build", "coding", None)
    assert choose_vertical_move("build", views, 5e8, 1e8, 5e8) is None          # cannot pay twice the build
    assert choose_vertical_move("none", views, 5e9, 1e8, 5e8) is None
    assert choose_vertical_move("build", views, 5e9, 3e8, 5e8) is None          # below the revenue trigger


def test_acquisition_moves_customers_and_conserves_money():
    cfg = small_config(**{"labs.0.vertical_strategy": "acquire", "labs.0.vertical_entry_revenue_usd": 0.0,
                          "labs.0.cash_usd": 1e12, "world.rounds": 6})
    model = TokenMarket(cfg, rng=2)
    for _ in range(6):
        model.step()
        assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()
    _, _, events = model.recorder.frames()
    bought = events[events.kind == "acquisition"]
    assert len(bought) >= 1
    for name in bought.target:
        wrapper = next(w for w in model.wrappers if w.name == name)
        assert not wrapper.alive and wrapper.acquired_by == "lab_investor_a"
        assert not np.isin(model.choice, model.book.ids(wrapper)).any()
    assert model.labs[0].vertical_plan_prices  # it sells vertical apps now


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
@given(seed=st.integers(0, 10_000), appetite=st.floats(0, 1), strategy=st.sampled_from(["none", "build", "acquire"]),
       lag=st.integers(0, 24))
def test_money_and_capacity_invariants_hold_with_entry_exit_and_acquisitions(seed, appetite, strategy, lag):
    cfg = small_config(**{"capital.appetites": [appetite], "labs.0.vertical_strategy": strategy,
                          "labs.1.vertical_strategy": strategy, "labs.0.vertical_entry_revenue_usd": 0.0,
                          "open_weights.distillation": True, "open_weights.distill_lag_months": lag,
                          "world.rounds": 10, "customers.n_customers": 1500})
    model = TokenMarket(cfg, rng=seed)
    for _ in range(10):
        model.step()
        assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()
        c = model.last_clearing
        assert np.all(c.pool_served <= c.pool_capacity * (1 + 1e-9) + 1e-6)
        for lab in model.alive(model.labs):
            uses = lab.paid_gpus + lab.free_gpus + lab.training_gpus + lab.rd_gpus + lab.idle_gpus
            assert uses == pytest.approx(lab.gpus, rel=1e-9)
