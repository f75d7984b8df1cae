"""Owners' value with dilution: ownership paths, recorded paths, and forecasts that raise money on the capital
market's terms (where buying revenue below cost can pay with growth investors and not with DCF investors)."""

import numpy as np
import pytest

from market import capital as cap
from market import objective as ob


def test_ownership_path_dilutes_by_each_round_at_its_post_money():
    # Month 2: 20 at 80 pre (× 0.8); month 4: 100 at 300 pre (× 0.75).
    path = ob.ownership_path(5, [2, 4], [80.0, 300.0], [20.0, 100.0])
    np.testing.assert_allclose(path, [1.0, 0.8, 0.8, 0.6, 0.6])
    with pytest.raises(ValueError, match="round_months"):
        ob.ownership_path(3, [4], [1.0], [1.0])


def test_owners_value_of_a_recorded_path_by_hand():
    r = 0.01
    path = ob.OwnerPath(flows_to_owners_usd=np.array([-10.0, 0.0, 5.0]), ownership=np.array([1.0, 0.8, 0.8]),
                        cash_usd=np.array([0.0, 0.0, 100.0]), run_rate_usd_per_month=np.array([0.0, 0.0, 1.0]),
                        alive=np.array([True, True, True]))
    expected = -10 / 1.01 + 5 / 1.01 ** 3 + 0.8 * (100 + 1 / 0.01) / 1.01 ** 3
    assert ob.owners_value_of_path(path, r) == pytest.approx(expected, rel=1e-12)
    with_market = ob.OwnerPath(path.flows_to_owners_usd, path.ownership, path.cash_usd, path.run_rate_usd_per_month,
                               path.alive, market_value_usd=np.array([0.0, 0.0, 500.0]))
    assert ob.owners_value_of_path(with_market, r) == pytest.approx(-10 / 1.01 + 5 / 1.01 ** 3 + 0.8 * 500 / 1.01 ** 3)


def test_an_exit_ends_the_owners_flows_and_their_terminal_value():
    r = 0.01
    path = ob.OwnerPath(flows_to_owners_usd=np.array([-10.0, 3.0, 99.0]), ownership=np.array([1.0, 0.5, 0.5]),
                        cash_usd=np.array([0.0, -5.0, 0.0]), run_rate_usd_per_month=np.array([0.0, -1.0, 0.0]),
                        alive=np.array([True, False, False]))
    # month 2's 3 is the owners' part of the exit proceeds; nothing after
    assert ob.owners_value_of_path(path, r) == pytest.approx(-10 / 1.01 + 3 / 1.01 ** 2)
    values = ob.owners_values({"x": path}, {"x": r})
    assert values == {"x": pytest.approx(-10 / 1.01 + 3 / 1.01 ** 2)}


def _paths(t: int = 36):
    """A profitable path (revenue 10M flat, CF +2M) and a path buying revenue below cost (revenue growing 8 % a
    month at a −10 % gross margin), each with seven months of matching history."""
    k = np.arange(1, t + 1)
    profitable = (np.full(t, 10e6), np.full(t, 6e6), np.full(t, 4e6))
    grow = 10e6 * 1.08 ** k
    buying = (grow, -0.1 * grow, np.full(t, 4e6))
    h = np.arange(-6, 1)
    hist_p = (np.full(7, 10e6), np.full(7, 6e6), np.full(7, 4e6))
    hist_b = (10e6 * 1.08 ** h, -0.1 * 10e6 * 1.08 ** h, np.full(7, 4e6))
    return profitable, hist_p, buying, hist_b


def test_buying_revenue_below_cost_pays_with_growth_investors_and_not_with_dcf_investors():
    profitable, hist_p, buying, hist_b = _paths()
    r = ob.monthly_rate(0.25)
    values = {}
    for name, appetite in (("growth", 1.0), ("dcf", 0.0)):
        pricer = cap.RoundPricer((cap.Investor(name, appetite, 0.25, 1e12),))
        p = ob.forecast_owners_value(*profitable, 50e6, r, pricer, history=hist_p)
        b = ob.forecast_owners_value(*buying, 50e6, r, pricer, history=hist_b)
        values[name] = (p, b)
    p, b = values["growth"]
    assert b.rounds and b.exit_month is None
    assert b.ownership[-1] > 0.9  # rounds at a revenue multiple dilute little
    assert b.owners_value_usd > p.owners_value_usd
    p, b = values["dcf"]
    assert not b.rounds and b.exit_month is not None  # nobody funds it: it runs out of cash
    assert b.owners_value_usd == 0.0 < p.owners_value_usd


def test_a_forecast_round_dilutes_by_its_pre_money_by_hand():
    class Fixed:
        def pre_money_usd(self, *args):
            return 300.0

        def market_value_usd(self, *args):
            return 1000.0

    # Burn 10 a month from cash 50: month 1 cash 40 < 6 × 10 → raise 18 × 10 = 180 at 300 pre → share 300/480.
    out = ob.forecast_owners_value(np.zeros(3), np.zeros(3), np.full(3, 10.0), 50.0, 0.0, Fixed())
    assert out.rounds == (ob.FundingRound(1, 180.0, 300.0),)
    assert out.ownership[-1] == pytest.approx(300 / 480)
    assert out.cash_usd[-1] == pytest.approx(50 - 30 + 180)
    assert out.owners_value_usd == pytest.approx(300 / 480 * 1000.0)


def test_forecast_rejects_bad_shapes_and_terminals():
    class Never:
        def pre_money_usd(self, *args):
            return 0.0

        def market_value_usd(self, *args):
            return 0.0

    with pytest.raises(ValueError, match="terminal"):
        ob.forecast_owners_value(np.zeros(2), np.zeros(2), np.zeros(2), 0.0, 0.01, Never(), terminal="dream")
    with pytest.raises(ValueError, match="shape"):
        ob.forecast_owners_value(np.zeros(2), np.zeros(3), np.zeros(2), 0.0, 0.01, Never())
