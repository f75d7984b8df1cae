"""market.calibration: loading, errors, and the DERIVED rows the cost model relies on (recomputed from raw rows)."""

import math

import pytest

from market import calibration as cal


def test_value_and_row():
    assert cal.value("deepseek_daily_cost_usd") == 87072.0
    r = cal.row("deepseek_daily_cost_usd")
    assert r["unit"] == "USD/day"
    assert r["source_url"].startswith("https://github.com/deepseek-ai/open-infra-index")
    assert "226.75" in r["note"] and r["source_title"]
    r["value"] = "0"  # a copy: the cached table must not change
    assert cal.value("deepseek_daily_cost_usd") == 87072.0


def test_unknown_key_suggests_close_matches():
    with pytest.raises(KeyError, match="deepseek_daily_cost_usd"):
        cal.value("deepseek_daily_cost_usdd")


def test_non_numeric_value_raises_value_error():
    with pytest.raises(ValueError, match="deepseek_gpu_type"):
        cal.value("deepseek_gpu_type")
    with pytest.raises(ValueError, match="claude_code_launch_date"):
        cal.value("claude_code_launch_date")
    assert cal.row("deepseek_gpu_type")["value"] == "H800"


def test_keys_unique_and_numeric_rows_finite():
    ks = cal.keys()
    assert len(ks) == len(set(ks)) > 100
    numeric = 0
    for k in ks:
        try:
            assert math.isfinite(cal.value(k))
            numeric += 1
        except ValueError:
            pass
    assert numeric > 100


def test_derived_deepseek_rows_recomputed():
    v = cal.value
    assert v("deepseek_avg_gpus_derived") == pytest.approx(v("deepseek_avg_nodes") * v("deepseek_gpus_per_node"))
    tokens = v("deepseek_input_tokens_per_day") + v("deepseek_output_tokens_per_day")
    assert v("deepseek_total_tok_s_per_gpu_derived") == pytest.approx(
        tokens / (v("deepseek_avg_gpus_derived") * 86400), rel=1e-3)
    assert v("deepseek_peak_to_avg_nodes_derived") == pytest.approx(
        v("deepseek_peak_nodes") / v("deepseek_avg_nodes"), rel=1e-3)
    assert v("deepseek_cache_hit_rate") == pytest.approx(
        v("deepseek_cache_hit_input_tokens_per_day") / v("deepseek_input_tokens_per_day"), rel=1e-3)
    assert v("deepseek_decode_tok_s_per_gpu_derived") == pytest.approx(
        v("deepseek_decode_throughput_per_node_tok_s") / v("deepseek_gpus_per_node"))
    assert v("deepseek_daily_cost_usd") == pytest.approx(
        v("deepseek_avg_nodes") * v("deepseek_gpus_per_node") * 24 * v("deepseek_gpu_rental_assumed_usd_per_gpu_hour"))
    assert v("deepseek_cost_per_m_total_tokens_usd_derived") == pytest.approx(
        v("deepseek_daily_cost_usd") / (tokens / 1e6), rel=2e-3)


def test_derived_nim_saturation_gain_recomputed():
    gain = cal.value("nim_llama33_70b_2xh100_c250_throughput_tok_s") / cal.value(
        "nim_llama33_70b_2xh100_c1_throughput_tok_s")
    assert cal.value("nim_llama33_70b_saturation_gain_c250_vs_c1") == pytest.approx(gain, rel=2e-3)
