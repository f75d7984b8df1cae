"""Exit sells assets: GPUs at a discount, customers and weights to the best bidder, creditors before equity."""

import numpy as np
import pytest

from market import capital as cap
from market import exit as ex
from market import gpu_market as gm


def test_exit_by_hand():
    # 1,000 GPUs worth $20k each at a 30 % discount: 14M. Customers: bidders value them at 10M and 30M → the
    # second buys at half its value, 15M. Weights: no positive bid → published. Cash −25M: creditors are owed 25M
    # and are paid in full from 29M of assets; equity gets 4M, split 60/40 by the cap table.
    table = cap.CapTable(("owners", "A"), (0.6, 0.4), (0.0, 50e6), (0.0, 0.0))
    res = ex.liquidate(1000, 20_000.0, [10e6, 30e6], [0.0, -1.0], -25e6, table, fire_sale_discount=0.3,
                       customer_sale_share=0.5, weights_sale_share=0.5, may_publish=True)
    assert res.gpu_proceeds_usd == pytest.approx(14e6)
    assert (res.customers.buyer, res.customers.price_usd) == (1, pytest.approx(15e6))
    assert res.weights.buyer is None and res.weights_published
    assert res.assets_usd == pytest.approx(29e6) and res.debts_usd == pytest.approx(25e6)
    assert res.creditors_paid_usd == pytest.approx(25e6) and res.creditors_written_off_usd == 0.0
    assert res.equity_usd == pytest.approx(4e6)
    np.testing.assert_allclose(res.payouts_usd, [2.4e6, 1.6e6])
    np.testing.assert_allclose(res.cap_table.gains_usd(), [2.4e6, 1.6e6 - 50e6])


def test_creditors_bear_the_shortfall_and_equity_gets_nothing():
    res = ex.liquidate(100, 10_000.0, [], [2e6], -10e6, cap.CapTable(), fire_sale_discount=0.5,
                       customer_sale_share=0.5, weights_sale_share=0.5, may_publish=False, debt_usd=1e6)
    # assets: 0.5M GPUs + 1M weights; debts 11M
    assert res.weights.price_usd == pytest.approx(1e6) and not res.weights_published
    assert res.creditors_paid_usd == pytest.approx(1.5e6)
    assert res.creditors_written_off_usd == pytest.approx(9.5e6)
    assert res.equity_usd == 0.0 and res.payouts_usd[0] == 0.0


def test_gpus_sold_at_exit_are_priced_from_the_rent_they_can_earn():
    value = gm.used_gpu_value_usd(2.0, 0.38, 24, 0.01)
    assert ex.gpu_sale_usd(10, value, 0.3) == pytest.approx(10 * 0.7 * value)


def test_bad_shares_name_the_field():
    with pytest.raises(ValueError, match="discount"):
        ex.gpu_sale_usd(1, 1.0, 1.5)
    with pytest.raises(ValueError, match="share"):
        ex.sell_to_best_bidder([1.0], -0.1)
