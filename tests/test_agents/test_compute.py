"""The compute split by marginal value: closed forms of water-filling, corners, the four uses' marginal values
against the model's quality and learning curves, and the Q1 claim on a hand-made lab."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import compute as cp
from market import learning, quality


def test_log_values_split_by_the_closed_form():
    # Values a_i ln(1 + g/r_i): g_i = a_i/λ − r_i, Σ g_i = F → λ = Σa / (F + Σr) = 600 / 160 = 3.75,
    # g = (100/3.75 − 10, 200/3.75 − 20, 300/3.75 − 30) = (16.67, 33.33, 50).
    uses = [cp.ConcaveUse("a", 100, 10), cp.ConcaveUse("b", 200, 20), cp.ConcaveUse("c", 300, 30)]
    split = cp.split_compute(100.0, uses)
    assert split.shadow_price_usd_per_gpu_hour == pytest.approx(3.75, rel=1e-12)
    np.testing.assert_allclose(split.gpus, [50 / 3, 100 / 3, 50.0], rtol=1e-10)
    np.testing.assert_allclose(split.marginal_value_usd_per_gpu_hour, 3.75, rtol=1e-10)
    assert split.idle_gpus == 0.0


def test_a_use_worth_less_than_the_shadow_price_everywhere_gets_nothing():
    # Alone, 'a' and 'b' give λ = 300 / (60 + 30) = 3.33; 'c' is worth 30/10 = 3 at its first GPU < 3.33.
    uses = [cp.ConcaveUse("a", 100, 10), cp.ConcaveUse("b", 200, 20), cp.ConcaveUse("c", 30, 10)]
    split = cp.split_compute(60.0, uses)
    assert split.of("c") == 0.0
    assert split.shadow_price_usd_per_gpu_hour == pytest.approx(300 / 90, rel=1e-10)
    assert split.marginal_value_usd_per_gpu_hour[2] == pytest.approx(3.0)  # its value at 0, below λ


def test_a_fleet_larger_than_every_need_idles_with_shadow_value_zero():
    paid = cp.paid_serving_use(2.0, 0.0, 1.0, 50.0, 60.0)
    free = cp.ConcaveUse("free", 1.0, 1.0, 0.5, cap_gpus=20.0)
    split = cp.split_compute(100.0, [paid, free])
    np.testing.assert_allclose(split.gpus, [60.0, 20.0])
    assert split.idle_gpus == pytest.approx(20.0)
    assert split.shadow_price_usd_per_gpu_hour == 0.0


def test_paid_serving_and_training_meet_where_the_peak_gpus_are_worth_the_training_margin():
    # Paid: worth 2 up to 50 GPUs, then 2 − 0.2 (g − 50) to 0 at 60. Training: 100 / (10 + g). With 100 GPUs,
    # 12 − 0.2x = 100 / (110 − x) → x² − 170x + 6100 = 0 → x = (170 − √4500) / 2 = 51.459.
    split = cp.split_compute(100.0, [cp.paid_serving_use(2.0, 0.0, 1.0, 50.0, 60.0), cp.ConcaveUse("training", 100, 10)])
    x = (170 - math.sqrt(4500)) / 2
    assert split.of("paid") == pytest.approx(x, rel=1e-9)
    assert split.shadow_price_usd_per_gpu_hour == pytest.approx(100 / (110 - x), rel=1e-9)


def test_flat_uses_at_the_margin_share_what_is_left():
    a = cp.PiecewiseUse("a", (0.0, 40.0), (5.0, 5.0))
    b = cp.PiecewiseUse("b", (0.0, 40.0), (3.0, 3.0))
    split = cp.split_compute(50.0, [a, b])
    np.testing.assert_allclose(split.gpus, [40.0, 10.0])
    assert split.shadow_price_usd_per_gpu_hour == pytest.approx(3.0)


@settings(max_examples=60, deadline=None)
@given(fleet=st.floats(0, 1e6), scales=st.lists(st.floats(0.01, 1e6), min_size=1, max_size=4),
       caps=st.lists(st.floats(1, 1e6), min_size=4, max_size=4))
def test_the_split_never_exceeds_the_fleet_and_uses_it_all_when_wanted(fleet, scales, caps):
    uses = [cp.ConcaveUse(f"u{i}", s, 100.0, cap_gpus=c) for i, (s, c) in enumerate(zip(scales, caps))]
    split = cp.split_compute(fleet, uses)
    assert np.all(split.gpus >= -1e-9)
    assert split.gpus.sum() + split.idle_gpus == pytest.approx(fleet, rel=1e-9, abs=1e-6)
    assert np.all(split.gpus <= np.array(caps[: len(uses)]) * (1 + 1e-12))


def test_gpus_wanted_is_the_lab_demand_schedule():
    uses = [cp.ConcaveUse("a", 100, 10), cp.ConcaveUse("b", 200, 20)]
    assert cp.gpus_wanted(uses, 2.0) == pytest.approx(50 - 10 + 100 - 20)
    pts = cp.rental_demand_points(uses, 60.0, [1.0, 2.0, 4.0, 10.0])
    np.testing.assert_allclose(pts, [210.0, 60.0, 0.0, 0.0])
    assert np.all(np.diff(pts) <= 0)


# ------------------------------------------------------------------------------------------ the four uses

def test_training_value_is_quality_per_gpu_times_pv_per_quality_point():
    pvq, gain, ref, eff = 2e9, 0.0144, 150_000.0, 3.0
    use = cp.training_use(pvq, gain, ref, efficiency=eff)
    g, h = 40_000.0, 1.0
    dq = quality.quality_gain((g + h) * eff, 0.0, gain, ref, 0.0, 1.0) - quality.quality_gain(g * eff, 0.0, gain, ref, 0.0, 1.0)
    assert use.value_at(g) == pytest.approx(pvq * dq / cp.HOURS_PER_MONTH, rel=1e-4)


def test_free_tier_value_is_data_plus_conversion():
    pvq, dgain, dref, conv, k = 1e9, 0.0036, 5e7, 0.05, 2.0
    use = cp.free_tier_use(pvq, dgain, dref, conv, k, demand_gpus=1e5)
    g = 3e4
    per_month = k * cp.HOURS_PER_MONTH
    dq = (quality.quality_gain(0.0, (g + 1) * per_month, 0.0, 1.0, dgain, dref)
          - quality.quality_gain(0.0, g * per_month, 0.0, 1.0, dgain, dref))
    assert use.value_at(g) == pytest.approx(pvq * dq / cp.HOURS_PER_MONTH + conv * k, rel=1e-4)
    assert use.value_at(2e5) == 0.0  # beyond the free tier's demand


def test_inference_rd_value_is_the_pv_of_the_serving_cost_saved():
    pv_cost, rho, half, stock = 5e9, 0.244, 12_000.0, 3_000.0
    use = cp.inference_rd_use(pv_cost, rho, half, stock)
    g = 500.0
    before = learning.rd_multiplier(stock + g, half, rho)
    after = learning.rd_multiplier(stock + g + 1.0, half, rho)
    saving = pv_cost * (1.0 - before / after)  # serving cost ∝ 1 / skill
    assert use.value_at(g) == pytest.approx(saving / cp.HOURS_PER_MONTH, rel=1e-3)


def test_paid_serving_is_worth_its_margin_and_nothing_below_cost():
    use = cp.paid_serving_use(3.0, 1.0, 0.5, 10.0, 12.0, extra_value_usd_per_mtok=0.4)
    assert use.value_at(5.0) == pytest.approx((3.0 + 0.4 - 1.0) * 0.5)
    assert use.value_at(11.0) == pytest.approx(1.2 * 0.5)
    assert cp.paid_serving_use(1.0, 2.0, 0.5, 10.0, 12.0).value_at(0.0) == 0.0


# ------------------------------------------------------------------------------------------ Q1 on a hand-made lab

def test_below_cost_paid_volume_does_not_crowd_out_training_when_the_lab_prices_compute():
    """Q1: a lab whose paid demand surges at a price that earns 1 $/GPU-hour keeps its training cluster when a
    training GPU-hour is worth more, while a paid-first rule (serving up to 80 % of the fleet, the old
    lexicographic split) would have left training 50,000 GPUs."""
    fleet, ref = 200_000.0, 150_000.0
    training = cp.training_use(pv_per_quality_point_usd=6e10, training_gain=0.0144, training_ref_gpus=ref)
    lam_alone = training.value_at(fleet)  # ≈ 3.4 $/GPU-hour
    paid = cp.paid_serving_use(price_usd_per_mtok=1.0, other_cost_usd_per_mtok=0.0, mtok_per_gpu_hour=1.0,
                               average_gpus=150_000.0, peak_gpus=150_000.0)
    split = cp.split_compute(fleet, [paid, training])
    assert lam_alone > 1.0
    assert split.of("paid") == 0.0 and split.of("training") == pytest.approx(fleet)
    paid_first_training = fleet - min(150_000.0, 0.8 * fleet)
    assert paid_first_training == pytest.approx(50_000.0)
    assert split.of("training") > paid_first_training
    # At a price worth more than training's margin, serving gets its GPUs first.
    rich = cp.paid_serving_use(10.0, 0.0, 1.0, 150_000.0, 150_000.0)
    assert cp.split_compute(fleet, [rich, training]).of("paid") == pytest.approx(150_000.0)


def test_bad_uses_name_the_field():
    with pytest.raises(ValueError, match="ref_gpus"):
        cp.ConcaveUse("x", 1.0, 0.0)
    with pytest.raises(ValueError, match="cap_gpus"):
        cp.ConcaveUse("x", 1.0, 1.0, floor_usd_per_hour=1.0)
    with pytest.raises(ValueError, match="peak_gpus"):
        cp.paid_serving_use(1.0, 0.0, 1.0, 10.0, 5.0)
    with pytest.raises(ValueError, match="unique"):
        cp.split_compute(1.0, [cp.ConcaveUse("x", 1, 1), cp.ConcaveUse("x", 1, 1)])
    with pytest.raises(ValueError, match="fleet_gpus"):
        cp.split_compute(-1.0, [cp.ConcaveUse("x", 1, 1)])


def test_uses_without_demand_take_nothing():
    paid = cp.paid_serving_use(5.0, 0.0, 1.0, 0.0, 0.0)
    free = cp.free_tier_use(1e9, 0.0036, 5e7, 0.1, 1.0, demand_gpus=0.0)
    split = cp.split_compute(10.0, [paid, free, cp.ConcaveUse("training", 10.0, 1.0)])
    assert split.of("paid") == 0.0 and split.of("free") == 0.0
    assert split.of("training") == pytest.approx(10.0)
    assert paid.value_at(0.0) == 0.0 and free.value_at(0.0) == 0.0
