"""Exit sells assets (DESIGN.md §4 step 8; issue 13 item 7): an exiting firm's GPUs, customers and weights are
sold, not destroyed; the proceeds go to creditors first and the rest to the equity holders pro rata.

* GPUs go into the GPU market at ``(1 − capital.fire_sale_discount)`` × what a cloud would pay for them
  (``market.gpu_market.used_gpu_value_usd``: the present value of renting them out at today's rent net of
  running cost over their remaining life); they join the rentable stock, so exits lower the rent.
* Customers go to the bidder who values them most; the price is ``capital.customer_sale_share`` × that bidder's
  present value of the margin it expects on them (assumption: a bargaining split of the surplus; the rest stays
  with the buyer). No bidder with a positive value → no sale (customers return to the market and choose again).
* Weights are sold the same way (``capital.weights_sale_share`` of the best bid's value), or, with no positive
  bid, published as open weights when the firm may publish (``market.open_weights``), else lost.
* Waterfall: assets (proceeds + positive cash) pay the firm's debts (negative cash + other debt) first; equity
  gets the rest, shared by the cap table (no liquidation preferences: assumption, common equity only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.capital import CapTable
from market.checks import check, check_share


@dataclass(frozen=True)
class Sale:
    """One asset sold (or not): the winning bidder's index (None: no sale) and the price ($)."""

    buyer: int | None
    price_usd: float


def sell_to_best_bidder(values_usd, share: float) -> Sale:
    """Sell to the bidder with the highest value ($, one per bidder) at ``share`` of that value; ties go to the
    lower index; no sale when no value is positive.

    Raises:
        ValueError: share outside [0, 1] or non-finite values.
    """
    v = np.asarray(values_usd, float)
    check_share("share", share)
    if v.size and not np.all(np.isfinite(v)):
        raise ValueError(f"values_usd={values_usd!r}: must be finite")
    if v.size == 0 or v.max() <= 0:
        return Sale(None, 0.0)
    i = int(np.argmax(v))
    return Sale(i, float(share * v[i]))


def gpu_sale_usd(gpus: float, value_per_gpu_usd: float, discount: float) -> float:
    """Proceeds ($) of selling ``gpus`` at (1 − discount) × ``value_per_gpu_usd``."""
    return check("gpus", gpus) * check("value_per_gpu_usd", value_per_gpu_usd) * (1.0 - check_share("discount", discount))


@dataclass(frozen=True)
class ExitResult:
    """What an exit realised, $ unless stated.

    Fields:
        gpus_sold: GPUs handed to the GPU market. gpu_proceeds_usd: their price.
        customers: the customer sale. weights: the weights sale. weights_published: True if published instead.
        assets_usd: proceeds + positive cash. debts_usd: negative cash + other debt.
        creditors_paid_usd, creditors_written_off_usd: what creditors got and lost.
        equity_usd: what is left for equity. payouts_usd: (k,) each cap-table holder's part of it.
        cap_table: the table after the exit (shares 0, receipts recorded).
    """

    gpus_sold: float
    gpu_proceeds_usd: float
    customers: Sale
    weights: Sale
    weights_published: bool
    assets_usd: float
    debts_usd: float
    creditors_paid_usd: float
    creditors_written_off_usd: float
    equity_usd: float
    payouts_usd: np.ndarray
    cap_table: CapTable


def liquidate(gpus: float, value_per_gpu_usd: float, customer_values_usd, weights_values_usd, cash_usd: float,
              cap_table: CapTable, *, fire_sale_discount: float, customer_sale_share: float,
              weights_sale_share: float, may_publish: bool, debt_usd: float = 0.0) -> ExitResult:
    """Sell an exiting firm's assets and run the waterfall.

    Args:
        gpus: owned GPUs. value_per_gpu_usd: a cloud's value of one (``gpu_market.used_gpu_value_usd``).
        customer_values_usd: (b,) each bidder's present value of the margin on the firm's customers.
        weights_values_usd: (w,) each bidder's value of the firm's model weights.
        cash_usd: the firm's cash (negative: owed to creditors). debt_usd: other debt, ≥ 0.
        cap_table: who owns the equity.
        fire_sale_discount, customer_sale_share, weights_sale_share: in [0, 1] (config ``capital.*``).
        may_publish: whether unsold weights are published (the firm's licence allows open release).

    Raises:
        ValueError: negative GPUs, values, or debt; shares outside [0, 1].
    """
    gpu_usd = gpu_sale_usd(gpus, value_per_gpu_usd, fire_sale_discount)
    customers = sell_to_best_bidder(customer_values_usd, customer_sale_share)
    weights = sell_to_best_bidder(weights_values_usd, weights_sale_share)
    published = weights.buyer is None and may_publish
    assets = gpu_usd + customers.price_usd + weights.price_usd + max(0.0, float(cash_usd))
    debts = max(0.0, -float(cash_usd)) + check("debt_usd", debt_usd)
    paid = min(assets, debts)
    equity = assets - paid
    table, payouts = cap_table.distribute(equity, final=True)
    return ExitResult(gpus, gpu_usd, customers, weights, published, assets, debts, paid, debts - paid, equity,
                      payouts, table)
