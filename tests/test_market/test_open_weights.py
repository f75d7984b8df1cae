"""Open weights made by agents: the registry, serving cost by size, hosts' choice, distillation off by default."""

import pytest

from market import open_weights as ow
from market.config import OpenWeightsConfig


def test_serving_cost_scales_with_size():
    assert ow.serving_cost_usd_per_mtok(1.0, 0.2) == pytest.approx(0.2)
    assert ow.serving_cost_usd_per_mtok(7.2, 0.2) == pytest.approx(1.44)
    assert ow.serving_cost_usd_per_mtok(4.0, 0.2, cost_exponent=0.5) == pytest.approx(0.4)


def test_hosts_pick_by_quality_per_cost():
    big = ow.PublishedModel(publisher_id=1, round=0, compute_per_token=4.0, quality=1.0)
    small = ow.PublishedModel(publisher_id=2, round=0, compute_per_token=1.0, quality=0.9)
    reg = ow.Registry().publish(big).publish(small)
    # quality / cost: 1.0 / 0.8 = 1.25 vs 0.9 / 0.2 = 4.5 → the small model
    assert ow.best_for_host(reg, 1, 0.2) is small
    # With value very convex in quality (k = 20) the better model wins: 1 / 0.8 vs 0.9^20 / 0.2 = 0.61
    assert ow.best_for_host(reg, 1, 0.2, quality_exponent=20.0) is big


def test_only_published_models_old_enough_are_available():
    m = ow.PublishedModel(1, round=5, compute_per_token=1.0, quality=0.9)
    reg = ow.Registry().publish(m)
    assert ow.best_for_host(reg, 5, 0.2, lag_months=1) is None
    assert ow.best_for_host(reg, 6, 0.2, lag_months=1) is m
    assert reg.best_quality(4) == 0.0 and reg.best_quality(6) == 0.9


def test_no_free_copy_of_a_closed_model_without_distillation():
    cfg = OpenWeightsConfig()
    params = ow.DistillationParams(cfg.distillation, cfg.distill_cost_usd, cfg.distill_lag_months,
                                   cfg.distill_quality_gap, cfg.distill_compute_per_token)
    assert ow.distil([1.0] * 24, 20, 99, params) is None


def test_distillation_copies_the_lagged_frontier_at_a_cost_and_a_haircut():
    params = ow.DistillationParams(True, 5e6, 6, 0.05, 1.0)
    history = [1.0 + 0.01 * r for r in range(24)]
    model, cost = ow.distil(history, 20, 99, params)
    assert model.quality == pytest.approx(1.14 - 0.05) and model.distilled and model.round == 20
    assert cost == 5e6
    assert ow.distil(history, 3, 99, params) is None  # nothing six months old yet


def test_bad_models_name_the_field():
    with pytest.raises(ValueError, match="compute_per_token"):
        ow.PublishedModel(1, 0, 0.0, 1.0)
