"""market.value: value capture by owner, return on invested capital and cost benchmarks, by hand calculation."""

import math

import pytest

from agents.records import LabRound, ProviderRound, WrapperRound
from market.config import FinanceConfig
from market import value

# A lab's month: API revenue 600 (serving cost 100), apps 400; paid GPUs 150 (idle included), free tier 50,
# training 300 (whole fleet 500), opex 100; 50 paid frontier-equivalent Mtok, 20 of them API.
LAB = LabRound(round=3, revenue_usd=1000.0, cost_usd=200.0, gross_profit_usd=800.0, opex_usd=100.0,
               operating_profit_usd=400.0, api_revenue_usd=600.0, app_revenue_usd=400.0, paid_equiv_mtok=50.0,
               api_equiv_mtok=20.0, api_tokens_mtok=40.0, gpu_cost_usd=500.0, paid_gpu_cost_usd=150.0,
               free_gpu_cost_usd=50.0, api_serving_cost_usd=100.0, marginal_cost_usd_per_mtok=2.0,
               funding_inflow_usd=0.0)
HOST = ProviderRound(round=3, revenue_usd=90.0, cost_usd=60.0, gross_profit_usd=30.0, opex_usd=10.0,
                     operating_profit_usd=20.0, api_revenue_usd=90.0, api_tokens_mtok=30.0, paid_tokens_mtok=30.0,
                     gpu_cost_usd=60.0, marginal_cost_usd_per_mtok=1.5)
APP = WrapperRound(round=3, revenue_usd=500.0, cost_usd=100.0, gross_profit_usd=400.0, opex_usd=50.0,
                   operating_profit_usd=350.0, token_bill_usd=100.0)


def test_lab_gross_profit_split_adds_up():
    api, apps = value.lab_gross_profit_split(LAB)
    assert (api, apps) == (500.0, 300.0) and api + apps == LAB.gross_profit_usd


def test_cost_benchmarks_of_a_lab():
    # Realised API price 600 / 20 = 30; AAC = marginal cost 2; ATC = (500 + 100) / 50 = 12 $/Mtok.
    cols = value.firm_columns("lab", LAB, 4000.0, 0.25)
    assert cols["api_price_usd_per_mtok"] == 30.0 and cols["average_avoidable_cost_usd_per_mtok"] == 2.0
    assert cols["average_total_cost_usd_per_mtok"] == 12.0 and cols["api_equiv_mtok"] == 20.0
    assert cols["value_captured_usd"] == 800.0 and cols["api_gross_profit_usd"] == 500.0
    assert cols["roic_per_year"] == pytest.approx(12 * 400 / 4000) and cols["cost_of_capital_per_year"] == 0.25


def test_cost_benchmarks_of_a_host_and_a_wrapper():
    host = value.firm_columns("provider", HOST, 100.0, 0.25)
    assert host["api_price_usd_per_mtok"] == 3.0 and host["average_total_cost_usd_per_mtok"] == pytest.approx(70 / 30)
    assert host["api_gross_profit_usd"] == 30.0 and host["app_gross_profit_usd"] == 0.0
    app = value.firm_columns("wrapper", APP, 1000.0, 0.25)
    assert app["app_gross_profit_usd"] == 400.0 and math.isnan(app["api_price_usd_per_mtok"])
    assert app["roic_per_year"] == pytest.approx(4.2)


def test_a_firm_without_sales_has_no_average_cost():
    empty = LabRound(round=3)
    cols = value.firm_columns("lab", empty, 0.0, 0.09)
    assert math.isnan(cols["average_total_cost_usd_per_mtok"]) and math.isnan(cols["api_price_usd_per_mtok"])
    assert math.isnan(cols["roic_per_year"]) and cols["value_captured_usd"] == 0.0


def test_api_cost_at_marginal_cost():
    assert value.api_marginal_cost_usd("lab", LAB) == 40.0 and value.api_marginal_cost_usd("provider", HOST) == 45.0


def test_value_by_owner_and_roic_by_type():
    # Consumers 1000; labs 800; independent apps 400; hosts 30; GPU suppliers 0.5 × 260 = 130: total 2360.
    cols = value.market_columns([("lab", LAB, 4000.0), ("provider", HOST, 100.0), ("wrapper", APP, 1000.0)],
                                consumer_surplus_usd=1000.0, gpu_spend_usd=260.0, gpu_supplier_margin=0.5)
    assert cols["value_total_usd"] == 2360.0 and cols["value_gpu_suppliers_usd"] == 130.0
    assert cols["value_share_labs"] == pytest.approx(800 / 2360)
    assert sum(cols[f"value_share_{o}"] for o in value.OWNERS) == pytest.approx(1.0)
    assert cols["roic_labs_per_year"] == pytest.approx(1.2) and cols["roic_hosts_per_year"] == pytest.approx(2.4)
    assert cols["invested_capital_independent_apps_usd"] == 1000.0


def test_cost_of_capital_by_funding_type():
    fin = FinanceConfig()
    assert value.cost_of_capital_per_year(fin, "self_funded") == fin.cost_of_capital_self_funded
    with pytest.raises(ValueError, match="funding"):
        value.cost_of_capital_per_year(fin, "angel")
