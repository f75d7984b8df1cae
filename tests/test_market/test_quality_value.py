"""The value of a quality point (market/compute_split.py): rivals on their training trend, open-weight catch-up as
obsolescence, the owners' cost of capital; a generalisation of the forecast with rivals held."""

import math

import numpy as np
import pytest

from market import compute_split as cs
from market import objective
from market.model import TokenMarket
from market.pricing import firm_view
from tests.conftest import small_config


def test_a_point_halved_by_rivals_in_a_year_and_a_tenth_by_open_weights_is_worth_the_hand_sum():
    # Hand case: a point earns 2e6 $/month now; on rivals' training path it earns 1e6 a year on, 0.9e6 once open
    # weights have caught up too; owners' cost of capital 2 %/month; 60 months. Monthly factors: rivals
    # 0.5^(1/12) = 0.943874, open weights 0.9^(1/12) = 0.991258 (d = 0.008742), together 0.45^(1/12) = 0.935623;
    # x = 0.935623 / 1.02 = 0.917278, x^60 = 0.45^5 / 1.02^60 = 0.0056241,
    # PV = 2e6 · x (1 − x^60) / (1 − x) = 2e6 · 0.917278 · 0.994376 / 0.082722 = 22.0526e6 $.
    f = cs.QualityForecast(2e6, 1e6, 0.9e6, 12.0, 0.02, 60.0)
    assert f.rivals_retention == pytest.approx(0.943874, abs=1e-6)
    assert f.obsolescence_monthly == pytest.approx(0.008742, abs=1e-6)
    assert f.pv_usd == pytest.approx(22.0526e6, rel=1e-5)
    assert f.life_months == pytest.approx(15.53, abs=0.01)


@pytest.mark.parametrize("rate, months", [(0.0, 60.0), (0.01, 60.0), (0.0188, 36.0), (0.02, math.inf)])
def test_rivals_held_and_no_obsolescence_give_the_old_annuity(rate, months):
    assert cs.pv_quality_point(3.7e8, 1.0, 0.0, months, rate) == pytest.approx(
        3.7e8 * objective.annuity_factor(months, rate), rel=1e-12)


def test_a_faster_rival_or_faster_catch_up_lowers_the_value_of_a_point():
    slow = cs.QualityForecast(2e6, 1.8e6, 1.8e6, 12.0, 0.02, 60.0).pv_usd
    fast = cs.QualityForecast(2e6, 1.0e6, 1.0e6, 12.0, 0.02, 60.0).pv_usd
    caught = cs.QualityForecast(2e6, 1.0e6, 0.5e6, 12.0, 0.02, 60.0).pv_usd
    assert slow > fast > caught > 0


def test_a_point_worth_more_on_rivals_path_is_not_banked_on():
    # No growth of demand in the forecast: rivals' progress that would raise a point's worth leaves it held.
    f = cs.QualityForecast(2e6, 3e6, 3e6, 12.0, 0.01, 60.0)
    assert f.rivals_retention == 1.0 and f.obsolescence_monthly == 0.0 and f.life_months == math.inf
    assert f.pv_usd == pytest.approx(2e6 * objective.annuity_factor(60.0, 0.01), rel=1e-12)


def test_a_point_worth_nothing_on_rivals_path_is_worth_nothing_now():
    assert cs.QualityForecast(2e6, 0.0, 0.0, 12.0, 0.01, 60.0).pv_usd == 0.0


def test_bad_retention_or_obsolescence_is_refused():
    with pytest.raises(ValueError, match="rivals_retention"):
        cs.pv_quality_point(1.0, -0.1, 0.0, 60.0, 0.01)
    with pytest.raises(ValueError, match="obsolescence_monthly"):
        cs.pv_quality_point(1.0, 1.0, 1.0, 60.0, 0.01)


@pytest.fixture(scope="module")
def market():
    """A small baseline without the data flywheel (labs' quality moves only with training), after 3 rounds."""
    model = TokenMarket(small_config(world__data_flywheel=False), rng=2)
    for _ in range(3):
        model.step()
    return model


def _with_rival_training(model, lab, gpus):
    others = [rival for rival in model.alive(model.labs) if rival is not lab]
    saved = [rival.training_gpus for rival in others]
    try:
        for rival in others:
            rival.training_gpus = gpus
        return cs.quality_forecast(model, lab)
    finally:
        for rival, g in zip(others, saved):
            rival.training_gpus = g


def test_in_the_model_rivals_that_do_not_train_reproduce_the_old_forecast(market):
    for lab in market.alive(market.labs):
        f = _with_rival_training(market, lab, 0.0)
        old = f.per_point_now_usd * objective.annuity_factor(lab.cfg.value_horizon_months,
                                                             market.capital.rate_monthly(lab))
        assert f.per_point_labs_usd == f.per_point_now_usd
        assert f.pv_usd == pytest.approx(old, rel=1e-12)


def test_in_the_model_rivals_that_train_faster_lower_a_small_labs_point(market):
    lab = next(lab for lab in market.alive(market.labs) if lab.name == "lab_self_funded")
    pv = [_with_rival_training(market, lab, g).pv_usd for g in (0.0, 1e5, 1e6)]
    assert pv[0] > pv[1] > pv[2] > 0
    assert pv[2] < 0.5 * pv[0]


def test_the_oracle_with_unit_market_factors_is_the_oracle_as_posted(market):
    lab = market.alive(market.labs)[0]
    view = firm_view(market, lab)
    ones = np.ones(market.oracle.offers.n)
    posted = market.oracle.firm_totals(view, 1.01)
    assert market.oracle.firm_totals(view, 1.01, ones) == pytest.approx(posted, rel=1e-12)
    with pytest.raises(ValueError, match="market_factors"):
        market.oracle.firm_totals(view, 1.0, ones[:-1])


def test_better_rivals_take_profit_from_a_lab(market):
    lab = next(lab for lab in market.alive(market.labs) if lab.name == "lab_self_funded")
    view = firm_view(market, lab)
    gains = {rival.unique_id: 0.3 for rival in market.alive(market.labs) if rival is not lab}
    factors = cs.market_factors(market, gains)
    assert np.all(factors >= 1.0) and np.any(factors > 1.0)
    assert market.oracle.firm_totals(view, 1.0, factors)[0] < market.oracle.firm_totals(view)[0]
