"""The capital market: valuations in closed form, a round's pricing and dilution by hand, disciplined and growth
money, investors who lose, parents within budgets."""

import numpy as np
import pytest

from market import capital as cap
from market.objective import annuity_factor, monthly_rate

STEADY = cap.ForecastParams(horizon_months=24, growth_half_life_months=12.0, long_run_growth_per_year=0.0)


def _fig(revenue=10e6, growth=0.0, margin=0.6, fixed=4e6, cash=0.0) -> cap.FirmFigures:
    return cap.FirmFigures(revenue, growth, margin, fixed, cash)


# ------------------------------------------------------------------------------------------ valuations

def test_dcf_of_a_steady_firm_is_a_perpetuity_plus_cash():
    # No growth: CF = 0.6 × 10M − 4M = 2M a month for ever → 2M / r + cash.
    r = monthly_rate(0.25)
    assert cap.dcf_value(_fig(cash=5e6), 0.25, STEADY) == pytest.approx(2e6 / r + 5e6, rel=1e-9)


def test_forecast_growth_decays_toward_the_long_run_rate():
    rev, cf = cap.forecast_cash_flows(_fig(growth=0.1), STEADY)
    # month 1: g = 0.1 × 2^(−1/12); month 12: g = 0.05
    assert rev[0] == pytest.approx(10e6 * (1 + 0.1 * 2 ** (-1 / 12)))
    assert rev[11] / rev[10] - 1 == pytest.approx(0.05)
    assert cf[0] == pytest.approx(0.6 * rev[0] - 4e6 * (1 + 0.5 * 0.1 * 2 ** (-1 / 12)))


def test_multiple_value_is_growth_adjusted():
    # (1 + g)^12 = 2 → 100 % a year → multiple 5 + 4 × 1 = 9; 12 × 10M × 9 = 1.08B.
    g = 2 ** (1 / 12) - 1
    assert cap.multiple_value(_fig(growth=g, cash=1e6), cap.MultipleParams(5.0, 4.0)) == pytest.approx(1.08e9 + 1e6)
    assert cap.multiple_value(_fig(growth=-0.05), cap.MultipleParams(5.0, 4.0)) == pytest.approx(12 * 10e6 * 5)


def test_appetite_weights_the_two_valuations():
    fig, fp, mp = _fig(growth=0.05), STEADY, cap.MultipleParams()
    half = cap.investor_valuation(fig, cap.Investor("h", 0.5, 0.25, 1e9), fp, mp)
    assert half == pytest.approx(0.5 * cap.multiple_value(fig, mp) + 0.5 * cap.dcf_value(fig, 0.25, fp))


# ------------------------------------------------------------------------------------------ rounds and dilution

def test_a_rounds_valuation_and_dilution_by_hand():
    # Seed: 20M at 80M pre → post 100M, investor A 20 %, owners 80 %. Series B: 100M at 300M pre → post 400M:
    # everyone × 0.75: owners 60 %, A 15 %, B 25 %.
    table = cap.CapTable()
    a = cap.round_terms(80e6, [("A", 20e6)])
    assert (a.post_money_usd, a.new_share) == (100e6, pytest.approx(0.2))
    table = table.after_round(a)
    table = table.after_round(cap.round_terms(300e6, [("B", 100e6)]))
    assert table.holders == ("owners", "A", "B")
    np.testing.assert_allclose(table.shares, [0.6, 0.15, 0.25])
    np.testing.assert_allclose(table.paid_in_usd, [0.0, 20e6, 100e6])
    np.testing.assert_allclose(table.marks_usd(400e6), [240e6, 60e6, 100e6])


def test_a_round_is_priced_at_the_valuation_that_fills_it():
    # Valuations 100 (capital 30) and 50 (capital 100); a round of 60 needs both → uniform price 50, the first
    # investor puts in its 30, the second the other 30.
    fig = _fig(revenue=1.0, margin=1.0, fixed=0.0)
    mp = cap.MultipleParams(base_multiple=100 / 12, growth_multiple=0.0)
    hi = cap.Investor("hi", 1.0, 0.25, 30.0)
    lo = cap.Investor("lo", 0.5, 0.25, 100.0)
    v_lo = cap.investor_valuation(fig, lo, STEADY, mp)
    terms = cap.price_round(fig, 60.0, [lo, hi], STEADY, mp)
    assert terms.pre_money_usd == pytest.approx(v_lo)
    assert terms.investors == ("hi", "lo") and terms.contributions_usd == (30.0, 30.0)
    # A round the first investor can fill alone is priced at its own valuation.
    assert cap.price_round(fig, 20.0, [lo, hi], STEADY, mp).pre_money_usd == pytest.approx(100.0)


def test_disciplined_money_funds_a_loss_maker_with_positive_dcf():
    # Losing 2M a month now (0.6 × 10M − 8M) but growing 5 % a month with a 60 % gross margin.
    fig = _fig(growth=0.05, fixed=8e6)
    disciplined = cap.Investor("d", 0.0, 0.25, 1e10)
    fp = cap.ForecastParams()
    assert fig.operating_cash_flow_usd < 0
    assert cap.dcf_value(fig, 0.25, fp) > 0
    terms = cap.price_round(fig, 50e6, [disciplined], fp, cap.MultipleParams())
    assert terms is not None and terms.pre_money_usd == pytest.approx(cap.dcf_value(fig, 0.25, fp))


def test_disciplined_money_refuses_a_firm_that_sells_below_variable_cost():
    fig = _fig(growth=0.08, margin=-0.1, fixed=2e6)
    fp = cap.ForecastParams()
    assert cap.dcf_value(fig, 0.25, fp) < 0
    assert cap.price_round(fig, 50e6, [cap.Investor("d", 0.0, 0.25, 1e10)], fp, cap.MultipleParams()) is None
    # Growth money funds the same firm.
    assert cap.price_round(fig, 50e6, [cap.Investor("g", 1.0, 0.25, 1e10)], fp, cap.MultipleParams()) is not None


def test_growth_money_pays_more_for_faster_revenue_growth():
    growth = cap.Investor("g", 1.0, 0.25, 1e10)
    fp, mp = cap.ForecastParams(), cap.MultipleParams()
    slow = cap.price_round(_fig(growth=0.01), 50e6, [growth], fp, mp).pre_money_usd
    fast = cap.price_round(_fig(growth=0.06), 50e6, [growth], fp, mp).pre_money_usd
    assert fast > slow
    assert fast / slow == pytest.approx((5 + 4 * (1.06 ** 12 - 1)) / (5 + 4 * (1.01 ** 12 - 1)))


def test_growth_money_can_overpay_and_lose_its_stake():
    fig = _fig(growth=0.08, margin=-0.1, fixed=2e6)
    fp, mp = cap.ForecastParams(), cap.MultipleParams()
    terms = cap.price_round(fig, 50e6, [cap.Investor("g", 1.0, 0.25, 1e10)], fp, mp)
    assert terms.pre_money_usd > cap.dcf_value(fig, 0.25, fp)  # paid above the cash flows' value
    table = cap.CapTable().after_round(terms)
    table, payouts = table.distribute(0.0, final=True)  # the firm exits with nothing for equity
    np.testing.assert_allclose(table.gains_usd(), [0.0, -50e6])
    assert table.shares == (0.0, 0.0)


def test_exit_proceeds_reach_holders_pro_rata():
    table = cap.CapTable().after_round(cap.round_terms(75.0, [("A", 25.0)]))
    table, payouts = table.distribute(40.0, final=True)
    np.testing.assert_allclose(payouts, [30.0, 10.0])
    np.testing.assert_allclose(table.gains_usd(), [30.0, -15.0])


def test_figures_from_history_read_growth_and_margin():
    rev = [100.0, 110.0, 121.0]
    fig = cap.figures_from_history(rev, [50.0, 55.0, 60.5], [20.0, 20.0, 30.0], cash_usd=7.0)
    assert fig.revenue_growth_per_month == pytest.approx(0.1)
    assert fig.gross_margin == pytest.approx(0.5)
    assert fig.fixed_costs_usd_per_month == 30.0 and fig.cash_usd == 7.0


def test_revenue_that_vanishes_against_its_past_counts_as_none_now():
    # (now / then)^(1/k) − 1 rounds to −1 when the ratio is below about 1e-16^k: an impossible growth rate (a crash
    # in a forecast of a rival whose revenue vanished); it reads as no revenue now, 0 growth.
    fig = cap.figures_from_history([1e9, 5e-324], [0.0, 0.0], [1.0, 1.0], cash_usd=0.0)
    assert fig.revenue_growth_per_month == 0.0
    vanished = [1e9] + [1e-100] * 6
    assert cap.figures_from_history(vanished, [0.0] * 7, [1.0] * 7, 0.0).revenue_growth_per_month == 0.0
    assert cap.figures_from_history([1e9, 1e-6], [0.0, 0.0], [1.0, 1.0], 0.0).revenue_growth_per_month == pytest.approx(1e-15 - 1.0)


def test_pricer_reports_what_a_round_and_a_sale_would_fetch():
    pricer = cap.RoundPricer((cap.Investor("d", 0.0, 0.25, 1e12),), STEADY)
    rev, gp, fc = np.full(7, 10e6), np.full(7, 6e6), np.full(7, 4e6)
    r = monthly_rate(0.25)
    assert pricer.market_value_usd(rev, gp, fc, 0.0) == pytest.approx(2e6 / r, rel=1e-9)
    assert pricer.pre_money_usd(rev, gp, fc, 0.0, 1e6) == pytest.approx(2e6 / r, rel=1e-9)
    assert pricer.pre_money_usd(rev, -gp, fc, 0.0, 1e6) == 0.0


def test_round_size_is_months_of_burn_plus_any_deficit_capped():
    assert cap.round_size_usd(2e6, -1e6, 18, 1e9) == pytest.approx(37e6)
    assert cap.round_size_usd(2e6, 5e6, 18, 10e6) == 10e6


# ------------------------------------------------------------------------------------------ parents

def test_parent_covers_the_loss_of_a_unit_worth_keeping_within_budget():
    parent = cap.Parent(budget_usd_per_month=5e6, hurdle_per_year=0.09)
    assert cap.parent_transfer(3e6, 1e9, parent) == 3e6
    assert cap.parent_transfer(8e6, 1e9, parent) == 5e6
    assert cap.parent_transfer(3e6, 1e9, parent, spent_usd=4e6) == 1e6
    assert cap.parent_transfer(3e6, -1.0, parent) == 0.0


def test_value_to_parent_is_the_dcf_at_its_hurdle_plus_strategic_value():
    parent = cap.Parent(1e9, 0.09)
    fig = _fig()
    assert cap.value_to_parent(fig, parent, STEADY, 1e8) == pytest.approx(cap.dcf_value(fig, 0.09, STEADY) + 1e8)


def test_the_efficient_lab_has_a_small_parent_and_investor_firms_none():
    assert cap.parent_of("investor", 0.0, 0.09, 0.12) is None
    assert cap.parent_of("self_funded", 9.4e9, 0.09, 0.12) == cap.Parent(9.4e9, 0.09)
    assert cap.parent_of("efficient", 1e8, 0.09, 0.12) == cap.Parent(1e8, 0.12)
    with pytest.raises(ValueError, match="funding"):
        cap.parent_of("angel", 0.0, 0.09, 0.12)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="appetite"):
        cap.Investor("x", 1.5, 0.25, 1.0)
    with pytest.raises(ValueError, match="shares"):
        cap.CapTable(("owners", "A"), (0.5, 0.4), (0.0, 0.0), (0.0, 0.0))
    with pytest.raises(ValueError, match="pre_money_usd"):
        cap.round_terms(0.0, [("A", 1.0)])
    with pytest.raises(ValueError, match="required_return_per_year"):
        cap.dcf_value(_fig(), 0.02, cap.ForecastParams(long_run_growth_per_year=0.03))


def test_annuity_check_of_the_discounting_convention():
    # the DCF's explicit part over 24 months of a flat 2M equals 2M × annuity_factor(24, r)
    r = monthly_rate(0.25)
    _, cf = cap.forecast_cash_flows(_fig(), STEADY)
    disc = (1 + r) ** -np.arange(1, 25)
    assert float(cf @ disc) == pytest.approx(2e6 * annuity_factor(24, r), rel=1e-12)


def test_config_builds_one_investor_per_appetite():
    from market.config import build_config

    cfg = build_config(None, {"capital.appetites": "[0.0, 1.0]"})
    pricer = cap.pricer_from_config(cfg.capital, cfg.finance)
    assert [i.appetite for i in pricer.investors] == [0.0, 1.0]
    assert all(i.required_return_per_year == cfg.finance.cost_of_capital_investor for i in pricer.investors)
