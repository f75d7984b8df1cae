"""Earned skill and caching: Wright's law, R&D returns, the DeepSeek calibration, and catching up with publications."""

import math

import pytest

from market import calibration as cal
from market import costs
from market import learning as ln
from market.config import LearningConfig


def _params(**kw) -> ln.LearningParams:
    base = dict(progress_ratio=0.8, skill_reference_mtok=1000.0, cache_reference_mtok=1000.0, cache_miss_floor=0.1,
                rd_half_gpu_months=100.0, rd_elasticity=0.5, publication_lag_months=3, adoption_months=2.0)
    return ln.LearningParams(**(base | kw))


def test_each_doubling_of_volume_cuts_unit_cost_to_the_progress_ratio():
    # PR 0.8: b = −log2 0.8 = 0.3219; at 8 × V₁ the skill is 0.8^−3 = 1.953 (unit cost × 0.512).
    assert ln.wright_exponent(0.8) == pytest.approx(0.32193, rel=1e-4)
    assert ln.learned_multiplier(8000.0, 1000.0, 0.8) == pytest.approx(0.8 ** -3, rel=1e-12)
    assert ln.learned_multiplier(500.0, 1000.0, 0.8) == 1.0  # below V₁: off-the-shelf serving


def test_rd_multiplier_has_diminishing_returns():
    assert ln.rd_multiplier(0.0, 100.0, 0.5) == 1.0
    assert ln.rd_multiplier(300.0, 100.0, 0.5) == pytest.approx(2.0)  # (1 + 3)^0.5
    first = ln.rd_multiplier(100.0, 100.0, 0.5) - 1.0
    second = ln.rd_multiplier(200.0, 100.0, 0.5) - ln.rd_multiplier(100.0, 100.0, 0.5)
    assert second < first


def test_cache_misses_fall_on_the_same_progress_ratio_to_a_floor():
    # At 4 × V_c with PR 0.8 and floor 0.1: miss = 0.1 + 0.9 × 0.64 = 0.676, hit = 0.324.
    assert ln.earned_cache_hit_rate(4000.0, _params()) == pytest.approx(1 - (0.1 + 0.9 * 0.64), rel=1e-12)
    assert ln.earned_cache_hit_rate(0.0, _params()) == 0.0
    assert ln.earned_cache_hit_rate(1e30, _params()) == pytest.approx(0.9, rel=1e-6)


def test_rd_elasticity_default_recomputes_from_the_nim_software_gain():
    gain = cal.value("nim_llama33_70b_2xh100_c250_throughput_tok_s") / cal.value("nim_llama33_70b_v150_saturated_tok_s")
    assert LearningConfig().rd_elasticity == pytest.approx(math.log2(gain), abs=5e-4)


def test_deepseek_volume_is_its_published_daily_tokens_per_month():
    assert ln.deepseek_volume_mtok_per_month() == pytest.approx(776_000 * 730 / 24, rel=1e-12)


def test_the_earned_curves_reach_deepseeks_published_figures_at_deepseeks_volume():
    cfg = LearningConfig()
    p = ln.deepseek_calibration(cfg.progress_ratio, cfg.deepseek_cumulative_months, cfg.deepseek_rd_gpu_months,
                                cfg.rd_half_gpu_months, cfg.rd_elasticity, cfg.cache_miss_floor,
                                cfg.publication_lag_months, cfg.adoption_months)
    v = ln.deepseek_volume_mtok_per_month() * cfg.deepseek_cumulative_months
    assert ln.earned_skill(v, cfg.deepseek_rd_gpu_months, p) == pytest.approx(costs.deepseek_tech().skill, rel=1e-9)
    assert ln.earned_cache_hit_rate(v, p) == pytest.approx(cal.value("deepseek_cache_hit_rate"), rel=1e-9)
    # A host with a hundredth of the volume and no research earns far less of either.
    assert ln.earned_skill(v / 100, 0.0, p) < 2.0
    assert ln.earned_cache_hit_rate(v / 100, p) < 0.2


def test_learning_value_per_mtok_is_the_pv_of_cost_times_the_wright_slope():
    p = _params()
    assert ln.volume_learning_value_usd_per_mtok(4000.0, 1e6, p) == pytest.approx(1e6 * ln.wright_exponent(0.8) / 4000)
    assert ln.volume_learning_value_usd_per_mtok(500.0, 1e6, p) == 0.0


def test_a_host_that_receives_a_publication_converges_to_the_published_skill():
    p = _params()
    pub = ln.Publication(publisher_id=7, round=0, skill=4.0, cache_hit_rate=0.5)
    state = ln.SkillState()
    for now in range(1, 3):  # before the lag nothing moves
        state = ln.advance(state, 0.0, 0.0, [pub], now, p)
    assert state.adopted_skill == 1.0
    state = ln.advance(state, 0.0, 0.0, [pub], 3, p)
    # first month of adoption: 1 + 3 (1 − e^−1/2)
    assert state.adopted_skill == pytest.approx(1 + 3 * (1 - math.exp(-0.5)), rel=1e-12)
    for now in range(4, 60):
        state = ln.advance(state, 0.0, 0.0, [pub], now, p)
    assert ln.skill_of(state, p) == pytest.approx(4.0, rel=1e-9)
    assert ln.cache_hit_rate_of(state, p) == pytest.approx(0.5, rel=1e-9)


def test_publications_carry_technique_not_the_publishers_research():
    p = _params()
    publisher = ln.SkillState(cumulative_mtok=8000.0, rd_gpu_months=300.0)
    pub = ln.publication_of(publisher, p, publisher_id=1, now=0)
    assert pub.skill == pytest.approx(0.8 ** -3)
    assert ln.skill_of(publisher, p) == pytest.approx(0.8 ** -3 * 2.0)


def test_state_accumulates_volume_and_research():
    s = ln.advance(ln.SkillState(), 10.0, 5.0, [], 0, _params())
    s = ln.advance(s, 20.0, 5.0, [], 1, _params())
    assert (s.cumulative_mtok, s.rd_gpu_months) == (30.0, 10.0)
    with pytest.raises(ValueError, match="served_mtok"):
        ln.advance(s, -1.0, 0.0, [], 2, _params())


def test_bad_parameters_name_the_field():
    with pytest.raises(ValueError, match="progress_ratio"):
        _params(progress_ratio=1.0)
    with pytest.raises(ValueError, match="target_skill"):
        ln.reference_for_skill(1.0, 100.0, 1.2, 0.8)
    with pytest.raises(ValueError, match="target_hit_rate"):
        ln.reference_for_hit_rate(0.95, 100.0, 0.8, 0.1)
