"""The GPU market: supply path arithmetic, the stock, orders with a lead time, owned vs rented cost, and the
rental price against hand-solved clearings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market import calibration as cal
from market import gpu_market as gm
from market import path_targets
from market.costs import HOURS_PER_MONTH
from market.objective import annuity_factor


# ------------------------------------------------------------------------------------------ supply path

def test_supply_path_turns_a_quarter_of_revenue_into_monthly_gpus():
    # nvidia_dc_revenue_fy25_q3: 30.8 $B in the quarter ending 2024-10-27 → 30.8e9 / 3 / 30,000 = 342,222 a month,
    # dated mid-quarter: round 3.377 − 1.5 = 1.877 (mid-September 2024).
    path = gm.nvidia_supply_path(supply_share=1.0)
    i = gm.NVIDIA_DC_REVENUE_KEYS.index("nvidia_dc_revenue_fy25_q3")
    assert path.rounds[i] == pytest.approx(3 + (27 - 15.5) / 30.5 - 1.5)
    assert path.gpus_per_month[i] == pytest.approx(30.8e9 / 3 / 30_000)
    assert path.deliveries(path.rounds[i]) == pytest.approx(342_222.2, rel=1e-6)


def test_supply_share_scales_deliveries():
    full, share = gm.nvidia_supply_path(1.0), gm.nvidia_supply_path(0.35)
    assert share.deliveries(5.0) == pytest.approx(0.35 * full.deliveries(5.0), rel=1e-12)


def test_deliveries_grow_at_a_constant_rate_between_points():
    path = gm.SupplyPath((0.0, 12.0), (100.0, 400.0))
    assert path.deliveries(6.0) == pytest.approx(200.0)  # geometric mid-point of 100 and 400
    assert path.deliveries(-12.0) == pytest.approx(25.0)  # the first segment's growth, backward
    assert path.deliveries(24.0) == pytest.approx(400.0)  # flat after the last point by default
    grown = gm.SupplyPath((0.0, 12.0), (100.0, 400.0), growth_after_per_year=1.0)
    assert grown.deliveries(24.0) == pytest.approx(800.0)


def test_stock_is_the_sum_of_surviving_vintages():
    path = gm.SupplyPath((0.0, 1.0), (100.0, 100.0))
    # S(3) from round 0 with L = 4: 100 (0.75² + 0.75 + 1) = 231.25 (hand calculation)
    assert gm.stock_at(path, 3, 4.0, start_round=0) == pytest.approx(231.25)
    assert gm.stock_at(path, 0, 4.0, start_round=0) == 0.0
    # Steady state: D · L
    assert gm.stock_at(path, 2000, 4.0, start_round=0) == pytest.approx(400.0)


def test_derived_first_nvidia_row_recomputes():
    # Its note: Q2 FY24 was "up 141 % from Q1", so Q1 = 10.32 / 2.41.
    assert path_targets.value("nvidia_dc_revenue_fy24_q1_derived") == pytest.approx(
        path_targets.value("nvidia_dc_revenue_fy24_q2") / 2.41, abs=0.005)


def test_bad_supply_inputs_name_the_field():
    with pytest.raises(ValueError, match="supply_share"):
        gm.supply_path_from_revenue([("2024-10-27", 1e9)], 30_000, supply_share=0.0)
    with pytest.raises(ValueError, match="rounds"):
        gm.SupplyPath((1.0, 1.0), (1.0, 2.0))
    with pytest.raises(ValueError, match="gpus_per_month"):
        gm.SupplyPath((0.0,), (0.0,))


# ------------------------------------------------------------------------------------------ orders and the stock

def test_orders_are_filled_pro_rata_when_they_exceed_deliveries():
    path = gm.SupplyPath((0.0,), (100.0,))
    fill = gm.place_orders(gm.OrderBook(), path, now=0, lead_months=3, requests_gpus=[150.0, 50.0])
    assert fill.delivery_round == 3
    assert fill.fill_ratio == pytest.approx(0.5)
    np.testing.assert_allclose(fill.granted, [75.0, 25.0])
    again = gm.place_orders(fill.book, path, now=0, lead_months=3, requests_gpus=[10.0])
    assert again.granted[0] == 0.0  # round 3's deliveries are all claimed
    assert again.book.due(3) == pytest.approx(100.0)


def test_orders_within_supply_are_filled_in_full():
    path = gm.SupplyPath((0.0,), (100.0,))
    fill = gm.place_orders(gm.OrderBook(), path, now=2, lead_months=0, requests_gpus=[30.0, 20.0])
    np.testing.assert_allclose(fill.granted, [30.0, 20.0])
    assert fill.book.due(2) == pytest.approx(50.0)


def test_unclaimed_deliveries_and_released_gpus_join_the_rentable_stock():
    # 1000 (1 − 1/50) + (200 − 150) + 30 = 1060
    assert gm.advance_rentable(1000.0, 200.0, 150.0, 30.0, 50.0) == pytest.approx(1060.0)
    with pytest.raises(ValueError, match="owners_received_gpus"):
        gm.advance_rentable(1000.0, 100.0, 150.0, 0.0, 50.0)


def test_deliver_hands_owners_their_claims_and_the_rest_to_the_rentable_stock():
    path = gm.SupplyPath((0.0,), (100.0,))
    fill = gm.place_orders(gm.OrderBook(), path, now=0, lead_months=1, requests_gpus=[60.0])
    state = gm.GpuMarketState(0, 500.0, 3.0, fill.book)
    new, owners = gm.deliver(state, path, life_months=100.0)
    assert new.round == 1 and owners == pytest.approx(60.0)
    assert new.rentable_gpus == pytest.approx(500 * 0.99 + 40.0)
    assert new.book.due(1) == 0.0


# ------------------------------------------------------------------------------------------ owned vs rented

def test_owned_cost_reproduces_the_at_cost_estimate():
    # h100_atcost_usd_per_gpu_hour_estimate: $50k all-in, three-year payback, ~20 % running cost → ≈ 2.3 $/h.
    capex = cal.value("h100_allin_cluster_capex_per_gpu_usd")
    opex = 0.2 * capex / (36 * HOURS_PER_MONTH)
    cost = gm.owned_cost_usd_per_gpu_hour(capex, 36, opex)
    assert cost == pytest.approx(cal.value("h100_atcost_usd_per_gpu_hour_estimate"), rel=0.01)


def test_owned_cost_charges_the_cost_of_capital():
    r = 0.01
    expected = 50_000 / ((1 - 1.01 ** -48) / 0.01) / HOURS_PER_MONTH + 0.38
    assert gm.owned_cost_usd_per_gpu_hour(50_000, 48, 0.38, r) == pytest.approx(expected, rel=1e-12)
    assert gm.owned_cost_usd_per_gpu_hour(50_000, 48, 0.38, r) > gm.owned_cost_usd_per_gpu_hour(50_000, 48, 0.38)


def test_value_of_buying_is_the_annuity_of_the_rent_saved_less_capex():
    r, n = 0.01, 48
    npv = gm.value_of_buying(np.full(n, 3.0), 50_000, 0.5, r)
    assert npv == pytest.approx((3.0 - 0.5) * HOURS_PER_MONTH * annuity_factor(n, r) - 50_000, rel=1e-12)
    # Buying beats renting exactly when the rent exceeds the owned cost per hour.
    owned = gm.owned_cost_usd_per_gpu_hour(50_000, n, 0.5, r)
    assert gm.value_of_buying(np.full(n, owned * 1.01), 50_000, 0.5, r) > 0
    assert gm.value_of_buying(np.full(n, owned * 0.99), 50_000, 0.5, r) < 0


def test_a_used_gpu_is_worth_the_rent_it_can_earn_over_its_remaining_life():
    assert gm.used_gpu_value_usd(2.0, 0.5, 24, 0.01) == pytest.approx(1.5 * HOURS_PER_MONTH * annuity_factor(24, 0.01))
    assert gm.used_gpu_value_usd(0.4, 0.5, 24, 0.01) == 0.0


# ------------------------------------------------------------------------------------------ the rental price

def test_linear_schedules_clear_at_the_hand_solved_rent():
    # q1 = 100 − 10p, q2 = 50 − 5p, supply 60: 150 − 15p = 60 → p = 6, q1 = 40, q2 = 20.
    res = gm.clear_rent([gm.linear_schedule(100, 10), gm.linear_schedule(50, 5)], 60.0, 0.5, 50.0)
    assert res.rent_usd_per_gpu_hour == pytest.approx(6.0, rel=1e-9)
    np.testing.assert_allclose(res.rented_gpus, [40.0, 20.0], rtol=1e-9)
    assert res.idle_gpus == 0.0 and res.unmet_gpus == 0.0


def test_excess_demand_raises_the_rent():
    supply = 60.0
    low = gm.clear_rent([gm.linear_schedule(100, 10)], supply, 0.5, 50.0)
    high = gm.clear_rent([gm.linear_schedule(100, 10), gm.linear_schedule(30, 3)], supply, 0.5, 50.0)
    assert low.rent_usd_per_gpu_hour == pytest.approx(4.0)  # 100 − 10p = 60
    assert high.rent_usd_per_gpu_hour == pytest.approx(70 / 13)  # 130 − 13p = 60
    assert high.rent_usd_per_gpu_hour > low.rent_usd_per_gpu_hour


def test_gpus_released_by_exits_lower_the_rent():
    schedules = [gm.linear_schedule(100, 10), gm.linear_schedule(50, 5)]
    before = gm.clear_rent(schedules, 60.0, 0.5, 50.0)
    rentable = gm.advance_rentable(60.0, 0.0, 0.0, 15.0, 1e12)  # an exit releases 15 GPUs
    after = gm.clear_rent(schedules, rentable, 0.5, 50.0)
    assert after.rent_usd_per_gpu_hour == pytest.approx(5.0, rel=1e-6)  # 150 − 15p = 75
    assert after.rent_usd_per_gpu_hour < before.rent_usd_per_gpu_hour


def test_a_step_renter_on_the_margin_takes_what_is_left():
    # Linear demand 100 − 10p plus a renter wanting 30 GPUs at any rent below $5. Just above 5 demand is 50,
    # just below it 50 + 30 = 80, so a supply of 70 clears at 5 with the step renter getting 70 − 50 = 20.
    res = gm.clear_rent([gm.linear_schedule(100, 10), gm.step_schedule(30, 5.0)], 70.0, 0.5, 50.0)
    assert res.rent_usd_per_gpu_hour == pytest.approx(5.0, rel=1e-9)
    np.testing.assert_allclose(res.rented_gpus, [50.0, 20.0], rtol=1e-7)


def test_the_rent_stays_at_the_floor_when_supply_exceeds_demand():
    res = gm.clear_rent([gm.linear_schedule(100, 10)], 120.0, 0.5, 50.0)
    assert res.rent_usd_per_gpu_hour == 0.5
    assert res.rented_gpus[0] == pytest.approx(95.0) and res.idle_gpus == pytest.approx(25.0)


def test_demand_above_supply_at_the_ceiling_is_rationed_pro_rata():
    res = gm.clear_rent([gm.step_schedule(80, 100.0), gm.step_schedule(40, 100.0)], 60.0, 0.5, 20.0)
    assert res.rent_usd_per_gpu_hour == 20.0
    np.testing.assert_allclose(res.rented_gpus, [40.0, 20.0])
    assert res.unmet_gpus == pytest.approx(60.0)


def test_outside_demand_calibrated_at_the_reference_rent_clears_there():
    schedules = [gm.linear_schedule(100, 10)]
    outside = gm.calibrate_outside_demand(500.0, schedules, 3.0, 1.5)
    assert outside.scale_gpus == pytest.approx(430.0)
    res = gm.clear_rent(schedules, 500.0, 0.5, 20.0, outside)
    assert res.rent_usd_per_gpu_hour == pytest.approx(3.0, rel=1e-9)
    # Twice the outside demand on the same stock: the rent must rise.
    more = gm.clear_rent(schedules, 500.0, 0.5, 20.0, outside.scaled(2.0))
    assert more.rent_usd_per_gpu_hour > 3.0


def test_clearing_returns_the_new_rent_in_the_state():
    state = gm.GpuMarketState(0, 60.0, 9.0)
    new, res = gm.clear(state, [gm.linear_schedule(100, 10), gm.linear_schedule(50, 5)], 0.5, 50.0)
    assert new.rent_usd_per_gpu_hour == pytest.approx(6.0) == res.rent_usd_per_gpu_hour


def test_bad_clearing_inputs_name_the_field():
    with pytest.raises(ValueError, match="ceiling_usd_per_hour"):
        gm.clear_rent([], 10.0, 5.0, 5.0)
    with pytest.raises(ValueError, match="supply_gpus"):
        gm.clear_rent([], -1.0, 0.5, 5.0)
    with pytest.raises(ValueError, match="gpus"):
        gm.DemandSchedule((1.0, 2.0), (1.0, 2.0))


def test_initial_state_clears_at_the_reference_rent():
    path = gm.SupplyPath((0.0,), (100.0,))
    stock = gm.stock_at(path, 0, 48.0, start_round=-24)
    state = gm.initial_state(gm.SupplyPath((-24.0,), (100.0,)), 48.0, 500.0, [gm.linear_schedule(100, 10)], 3.0, 1.5)
    assert state.rentable_gpus == pytest.approx(stock - 500.0)
    res = gm.clear_rent([gm.linear_schedule(100, 10)], state.rentable_gpus, 0.38, 12.29, state.outside)
    assert res.rent_usd_per_gpu_hour == pytest.approx(3.0, rel=1e-9)


def test_default_config_builds_a_path_that_grows():
    from market.config import GpuMarketConfig

    path = gm.supply_path_from_config(GpuMarketConfig())
    assert path.deliveries(24) > path.deliveries(0) > 0
    assert gm.stock_at(path, 24, 48.0) > gm.stock_at(path, 0, 48.0)


@settings(max_examples=60, deadline=None)
@given(intercepts=st.lists(st.floats(0, 1e5), min_size=1, max_size=6), slope=st.floats(1.0, 1e4),
       supply=st.floats(0, 3e5), extra=st.floats(0, 1e5))
def test_clearing_allocates_the_supply_and_more_supply_never_raises_the_rent(intercepts, slope, supply, extra):
    schedules = [gm.linear_schedule(a, slope) for a in intercepts]
    outside = gm.OutsideDemand(1e4, 3.0, 1.5)
    res = gm.clear_rent(schedules, supply, 0.38, 12.29, outside)
    allocated = res.rented_gpus.sum() + res.outside_gpus + res.idle_gpus
    assert allocated == pytest.approx(supply, rel=1e-9, abs=1e-6)
    more = gm.clear_rent(schedules, supply + extra, 0.38, 12.29, outside)
    assert more.rent_usd_per_gpu_hour <= res.rent_usd_per_gpu_hour * (1 + 1e-12)
