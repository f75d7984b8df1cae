"""market.costs: the DeepSeek day, the batching fit, the cost curve's shape and consistency."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market import calibration as cal
from market import costs as C

V = cal.value
TECHS = {"provider": C.provider_tech(), "lab": C.lab_tech(), "flat": C.provider_tech(scale_economies=False)}


def test_deepseek_day_cost_and_margin_from_published_inputs():
    gpu_hours, cost = C.daily_serving_cost(
        V("deepseek_input_tokens_per_day"), V("deepseek_output_tokens_per_day"),
        V("deepseek_prefill_throughput_per_node_tok_s"), V("deepseek_decode_throughput_per_node_tok_s"),
        V("deepseek_gpus_per_node"), V("deepseek_gpu_rental_assumed_usd_per_gpu_hour"))
    assert cost == pytest.approx(V("deepseek_daily_cost_usd"), rel=0.01)
    assert gpu_hours == pytest.approx(V("deepseek_avg_gpus_derived") * 24, rel=0.01)
    revenue = C.theoretical_revenue(
        V("deepseek_input_tokens_per_day"), V("deepseek_output_tokens_per_day"),
        V("deepseek_cache_hit_input_tokens_per_day"), V("deepseek_r1_price_input_cache_hit_usd_per_m"),
        V("deepseek_r1_price_input_cache_miss_usd_per_m"), V("deepseek_r1_price_output_usd_per_m"))
    assert revenue == pytest.approx(V("deepseek_theoretical_daily_revenue_usd"), rel=0.01)
    assert 100 * C.cost_profit_margin(revenue, cost) == pytest.approx(V("deepseek_cost_profit_margin_pct"), rel=0.01)


def test_deepseek_tech_reproduces_the_day():
    t = C.deepseek_tech()
    mtok_per_day = (V("deepseek_input_tokens_per_day") + V("deepseek_output_tokens_per_day")) / 1e6
    cost = mtok_per_day * C.marginal_cost_usd_per_mtok(t, V("deepseek_gpu_rental_assumed_usd_per_gpu_hour"))
    assert cost == pytest.approx(V("deepseek_daily_cost_usd"), rel=0.01)
    per_gpu = V("deepseek_decode_throughput_per_node_tok_s") / V("deepseek_gpus_per_node")
    assert C.decode_throughput_per_gpu(C.slo_concurrency(t), t) == pytest.approx(per_gpu, rel=1e-6)
    assert C.slo_concurrency(t) == pytest.approx(V("deepseek_implied_streams_per_decode_gpu_derived"), rel=0.1)
    assert t.skill <= V("sglang_ep_vs_tp_output_gain")
    assert t.cache_hit_rate == pytest.approx(V("deepseek_cache_hit_rate"), rel=1e-3)
    assert t.diurnal_peak_to_average == pytest.approx(V("deepseek_peak_to_avg_nodes_derived"), rel=1e-3)
    assert t.input_share == pytest.approx(0.7835, abs=1e-4)


def test_batching_fit_reproduces_nim_saturation_gain():
    c, y = C.nim_batching_points()
    t_sat, c0 = C.fit_batching_curve(c, y)
    tech = C.provider_tech()
    gain = C.decode_throughput_per_gpu(c[-1], tech) / C.decode_throughput_per_gpu(c[0], tech)
    assert gain == pytest.approx(V("nim_llama33_70b_saturation_gain_c250_vs_c1"), rel=0.10)
    assert t_sat == pytest.approx(y[-1], rel=0.05)
    np.testing.assert_allclose(C.decode_throughput_per_gpu(c, tech), y, rtol=0.12)


def test_fit_recovers_known_curve():
    c = np.array([0.5, 2, 8, 30, 100])
    t_sat, c0 = C.fit_batching_curve(c, 700 * (1 - np.exp(-c / 12.0)))
    assert (t_sat, c0) == (pytest.approx(700, rel=1e-6), pytest.approx(12.0, rel=1e-6))


def test_gpu_seconds_per_mtok_by_hand():
    # c0 tiny => the SLO point sits on the plateau: c* = skill*T_sat/u, T(c*) = skill*T_sat.
    t = C.ServingTech(prefill_tok_s_per_gpu=5000, decode_sat_tok_s_per_gpu=1000, decode_half_concurrency=1e-3,
                      user_speed_tok_s=20, replica_gpus=1, input_share=0.8, cache_hit_rate=0.5, skill=2.0)
    # input 0.8*0.5*1e6/(2*5000) = 40 s; output 0.2*1e6/(2*1000) = 100 s
    assert C.gpu_seconds_per_mtok(t) == pytest.approx(140.0, rel=1e-9)
    assert C.slo_concurrency(t) == pytest.approx(100.0, rel=1e-9)
    assert C.marginal_cost_usd_per_mtok(t, 3.6) == pytest.approx(0.14)


def test_slo_concurrency_meets_speed_target():
    for t in (C.provider_tech(), C.lab_tech(skill=1.0)):
        c = C.slo_concurrency(t)
        assert C.decode_throughput_per_gpu(c, t) / c == pytest.approx(t.user_speed_tok_s, rel=1e-9)
    # A target no single stream can reach: one stream per GPU, at the speed the GPU gives it.
    slow = C.provider_tech(user_speed_tok_s=100.0)
    assert C.slo_concurrency(slow) == 1.0
    assert C.gpu_seconds_per_mtok(slow) > C.gpu_seconds_per_mtok(C.provider_tech())


def test_unit_cost_falls_with_volume_for_provider_and_flat_without_scale_economies():
    vols = [1e2, 1e3, 1e4, 1e5, 1e6, 1e7]
    t = C.provider_tech()
    uc = [C.unit_cost_at_volume(v, t, 2.0) for v in vols]
    assert all(a > b for a, b in zip(uc, uc[1:]))
    assert uc[-1] > C.marginal_cost_usd_per_mtok(t, 2.0)  # peak headroom never vanishes
    flat = [C.unit_cost_at_volume(v, dataclasses.replace(t, scale_economies=False), 2.0) for v in vols]
    np.testing.assert_allclose(flat, flat[0], rtol=1e-12)
    assert flat[0] == pytest.approx(C.marginal_cost_usd_per_mtok(t, 2.0) * t.diurnal_peak_to_average)


def test_skilled_lab_cheaper_at_scale_dearer_when_small():
    lab, prov = C.lab_tech(), C.provider_tech()
    assert C.unit_cost_at_volume(1e7, lab, 2.0) < C.unit_cost_at_volume(1e7, prov, 2.0)
    assert C.unit_cost_at_volume(1e3, lab, 2.0) > C.unit_cost_at_volume(1e3, prov, 2.0)  # 176-GPU EP unit
    assert C.marginal_cost_usd_per_mtok(lab, 2) < C.marginal_cost_usd_per_mtok(C.lab_tech(skill=1.0), 2) / 4


def test_gpus_required_edges():
    t = C.provider_tech()
    assert C.gpus_required(0.0, t) == 0.0
    assert C.gpus_required(1e-6, t) == t.replica_gpus
    np.testing.assert_array_equal(C.gpus_required(np.array([0.0, 1e-6]), t), [0.0, 2.0])
    flat = dataclasses.replace(t, scale_economies=False)
    assert 0 < C.gpus_required(1e-6, flat) < 1e-6
    with pytest.raises(ValueError, match="mtok_per_month"):
        C.gpus_required(-1.0, t)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e8), st.floats(0, 1e8), st.sampled_from(["provider", "lab", "flat"]))
def test_gpus_required_monotone(a, b, kind):
    t = TECHS[kind]
    lo, hi = sorted((a, b))
    assert C.gpus_required(lo, t) <= C.gpus_required(hi, t)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 1e8), st.sampled_from(["provider", "lab", "flat"]))
def test_capacity_covers_required(v, kind):
    t = TECHS[kind]
    g = C.gpus_required(v, t)
    for cap in (C.capacity_mtok_per_month(g, t, v), C.capacity_mtok_per_month(g, t),
                C.capacity_mtok_per_month(g, t, 0.0), C.max_volume_mtok_per_month(g, t)):
        assert cap >= v * (1 - 1e-9)


def test_max_volume_solves_its_own_peak():
    t = C.provider_tech()
    v = C.max_volume_mtok_per_month(10.0, t)
    gpus = v * C.gpu_seconds_per_mtok(t) * C.peak_to_average(v, t) / C.SECONDS_PER_MONTH
    assert gpus == pytest.approx(10.0, rel=1e-9)
    assert C.capacity_mtok_per_month(10.0, t, v) == pytest.approx(v, rel=1e-9)


def test_peak_to_average_shape():
    t = C.provider_tech()
    p = C.peak_to_average(np.array([1e2, 1e4, 1e6, 1e9]), t)
    assert np.all(np.diff(p) < 0) and np.all(p > t.diurnal_peak_to_average)
    assert p[-1] == pytest.approx(t.diurnal_peak_to_average, rel=1e-2)
    assert C.peak_to_average(0.0, t) == np.inf
    assert C.peak_to_average(1e2, dataclasses.replace(t, scale_economies=False)) == t.diurnal_peak_to_average


def test_unit_cost_usd_per_mtok():
    assert C.unit_cost_usd_per_mtok(100.0, 50.0) == 2.0
    assert C.unit_cost_usd_per_mtok(100.0, 0.0) == np.inf
    assert np.isnan(C.unit_cost_usd_per_mtok(0.0, 0.0))
    np.testing.assert_array_equal(C.unit_cost_usd_per_mtok(np.array([4.0, 1.0]), np.array([2.0, 0.0])), [2.0, np.inf])
    with pytest.raises(ValueError, match="mtok_served"):
        C.unit_cost_usd_per_mtok(1.0, -1.0)


def test_validation_names_argument():
    with pytest.raises(ValueError, match="gpu_price_usd_per_hour"):
        C.marginal_cost_usd_per_mtok(C.provider_tech(), 0.0)
    with pytest.raises(ValueError, match="cache_hit_rate"):
        C.provider_tech(cache_hit_rate=1.5)
    with pytest.raises(ValueError, match="replica_gpus"):
        C.provider_tech(replica_gpus=0)
    with pytest.raises(ValueError, match="diurnal_peak_to_average"):
        C.provider_tech(diurnal_peak_to_average=0.9)
    with pytest.raises(ValueError, match="cache_hit_input_tokens"):
        C.theoretical_revenue(1.0, 1.0, 2.0, 0.1, 0.5, 2.0)
    with pytest.raises(TypeError):
        C.lab_tech(no_such_field=1)


def test_provider_prefill_constants_match_nim_note():
    note = cal.row("nim_llama33_70b_2xh100_c1_throughput_tok_s")["note"]
    assert f"TTFT {C.NIM_TTFT_C1_S * 1000:.2f} ms" in note and f"{C.NIM_INPUT_TOKENS:.0f} in" in note
    assert "2xH100" in note and C.NIM_GPUS == 2
    assert C.provider_tech().prefill_tok_s_per_gpu == pytest.approx(5000 / 0.40677 / 2)
