"""Typed per-firm round figures (docs/design.md, "Records"): one frozen dataclass per firm type.

Settlement writes a firm's record once a round (``firm.last``); pricing, funding, entry, recording and the
outcome detectors read it. A mistyped field fails at once instead of reading 0. Money is $ per month, tokens Mtok
per month (real units), prices $/Mtok unless named otherwise. Later phases of the round amend a record with
:func:`dataclasses.replace` (funding inflows, a wrapper's product investment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NAN = math.nan


@dataclass(frozen=True)
class FirmRound:
    """What every firm reports: revenue, variable cost, gross and operating profit, funding received ($/month).

    ``cost_usd`` is the variable cost of what it sold (serving GPUs, rented GPUs or token bills); operating profit
    also takes fixed costs (opex, a lab's training, R&D and idle GPUs; owned GPUs count at their depreciation and
    running cost). ``capex_usd`` is what the firm paid for GPUs delivered this month and ``depreciation_usd`` the
    owned GPUs' cost charged in operating profit: cash flow = operating profit + depreciation − capex.
    ``round`` is −1 before the first settlement.
    """

    round: int = -1
    revenue_usd: float = 0.0
    cost_usd: float = 0.0
    gross_profit_usd: float = 0.0
    opex_usd: float = 0.0
    operating_profit_usd: float = 0.0
    funding_inflow_usd: float = 0.0
    capex_usd: float = 0.0
    depreciation_usd: float = 0.0

    @property
    def cash_flow_usd(self) -> float:
        """Operating cash flow after GPU purchases, $/month: operating profit + depreciation − capex."""
        return self.operating_profit_usd + self.depreciation_usd - self.capex_usd


@dataclass(frozen=True)
class LabRound(FirmRound):
    """A frontier lab's month.

    Revenue by product: ``api_revenue_usd`` (direct API sales plus token bills of wrappers), of which
    ``wrapper_bills_usd``; ``app_revenue_usd`` (chat plans and vertical apps). Tokens served: ``paid_tokens_mtok``
    (API, wrappers and apps), ``paid_equiv_mtok`` (the same weighted by model size: frontier-model equivalents),
    ``api_tokens_mtok`` (direct and wrappers'), ``api_equiv_mtok`` (the same in frontier-model equivalents),
    ``app_tokens_mtok``, ``free_tokens_mtok``. Customers: ``subscribers`` (paid plans and vertical apps),
    ``free_users``. GPU costs (owned GPUs at depreciation plus running cost, rented ones at the rent; each use at
    the fleet's average cost per GPU-hour): ``gpu_cost_usd`` (whole fleet), ``rent_usd`` (of which rent),
    ``paid_gpu_cost_usd``, ``free_gpu_cost_usd``, ``training_cost_usd``, ``rd_cost_usd`` (inference R&D); the paid
    pool's cost split by frontier-equivalent tokens into ``api_serving_cost_usd`` and ``app_serving_cost_usd``.
    ``unit_cost_usd_per_mtok``: paid GPU cost / paid frontier-equivalent tokens (idle capacity included; NaN
    without sales); ``marginal_cost_usd_per_mtok``: GPU cost of one more frontier-equivalent Mtok at full
    batching. ``utilisation``: paid load / paid capacity. ``subsidy_usd``: (unit cost − price) × tokens of API
    tiers priced below the unit cost of their size. ``bills_by_vertical``: wrappers' token bills to this lab by
    vertical, as (vertical, $) pairs.
    """

    api_revenue_usd: float = 0.0
    wrapper_bills_usd: float = 0.0
    app_revenue_usd: float = 0.0
    paid_tokens_mtok: float = 0.0
    paid_equiv_mtok: float = 0.0
    api_tokens_mtok: float = 0.0
    api_equiv_mtok: float = 0.0
    app_tokens_mtok: float = 0.0
    free_tokens_mtok: float = 0.0
    subscribers: float = 0.0
    free_users: float = 0.0
    gpu_cost_usd: float = 0.0
    paid_gpu_cost_usd: float = 0.0
    free_gpu_cost_usd: float = 0.0
    training_cost_usd: float = 0.0
    rd_cost_usd: float = 0.0
    rent_usd: float = 0.0
    api_serving_cost_usd: float = 0.0
    app_serving_cost_usd: float = 0.0
    unit_cost_usd_per_mtok: float = NAN
    marginal_cost_usd_per_mtok: float = NAN
    utilisation: float = 0.0
    subsidy_usd: float = 0.0
    bills_by_vertical: tuple[tuple[str, float], ...] = ()

    def bills_in(self, vertical: str) -> float:
        """Token bills ($/month) wrappers of ``vertical`` paid this lab."""
        return sum(v for k, v in self.bills_by_vertical if k == vertical)


@dataclass(frozen=True)
class ProviderRound(FirmRound):
    """A host's month: API revenue (direct and wrappers'), tokens served, rented GPUs and their cost, unit and
    marginal cost ($/Mtok), utilisation of what it rented, subsidy (below-unit-cost sales)."""

    api_revenue_usd: float = 0.0
    api_tokens_mtok: float = 0.0
    paid_tokens_mtok: float = 0.0
    gpus: float = 0.0
    gpu_cost_usd: float = 0.0
    unit_cost_usd_per_mtok: float = NAN
    marginal_cost_usd_per_mtok: float = NAN
    utilisation: float = 0.0
    subsidy_usd: float = 0.0


@dataclass(frozen=True)
class WrapperRound(FirmRound):
    """A wrapper's month: subscribers, tokens it bought (Mtok), its token bill ($), what it invested in its
    product ($) and its token cost per subscriber ($/month; NaN without subscribers)."""

    subscribers: float = 0.0
    tokens_mtok: float = 0.0
    token_bill_usd: float = 0.0
    product_investment_usd: float = 0.0
    unit_cost_usd_per_subscriber: float = NAN
