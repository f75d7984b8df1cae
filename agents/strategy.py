"""Decisions of labs beyond price: compute allocation, capacity budget, vertical entry. Pure functions/objects."""

from __future__ import annotations

from dataclasses import dataclass


def allocate_compute(fleet_gpus: float, paid_need_gpus: float, free_need_gpus: float,
                     min_training_share: float) -> tuple[float, float, float]:
    """Split a fleet (GPUs) into (paid serving, free tier, training).

    Paid traffic is served first, then the free tier, both only up to what serving may take
    (fleet × (1 − min_training_share)); training gets the rest. A lab whose paid demand surges (say, because it
    prices below cost) therefore trains less unless it can buy GPUs (assumption: revenue-bearing traffic has
    priority over research compute, which keeps a protected core).

    Raises:
        ValueError: negative inputs or min_training_share outside [0, 1].
    """
    if fleet_gpus < 0 or paid_need_gpus < 0 or free_need_gpus < 0 or not 0 <= min_training_share <= 1:
        raise ValueError(f"allocate_compute: bad input fleet={fleet_gpus}, paid={paid_need_gpus}, "
                         f"free={free_need_gpus}, min_training_share={min_training_share} (all ≥ 0, share ≤ 1)")
    serving = fleet_gpus * (1.0 - min_training_share)
    paid = min(paid_need_gpus, serving)
    free = min(free_need_gpus, serving - paid)
    return paid, free, fleet_gpus - paid - free


def affordable_gpus(revenue_usd: float, cash_usd: float, parent_budget_usd: float, gpu_cost_usd_per_month: float,
                    other_costs_usd: float, credit_usd: float = 0.0, runway_months: float = 24.0) -> float:
    """Largest fleet (GPUs) whose monthly cost fits revenue + parent budget + (cash + credit) spread over
    ``runway_months``, after other monthly costs ($/month). ``credit_usd`` is money the firm could raise now.
    Assumption: labs commit to fleets they can pay for two years."""
    budget = (max(0.0, revenue_usd) + parent_budget_usd + (max(0.0, cash_usd) + credit_usd) / runway_months
              - other_costs_usd)
    return max(0.0, budget / gpu_cost_usd_per_month)


@dataclass(frozen=True)
class VerticalView:
    """What a lab sees of one vertical: wrappers' revenue there ($/month; public through funding news and run-rate
    announcements), the token bills they paid this lab ($/month), whether it has entered or is building, and
    acquirable wrappers as (wrapper id, monthly revenue $, price $)."""

    vertical: str
    wrapper_revenue_usd: float
    bills_to_me_usd: float
    entered: bool
    candidates: tuple[tuple[int, float, float], ...] = ()


def choose_vertical_move(strategy: str, views: list[VerticalView], cash_usd: float, threshold_usd: float,
                         build_cost_usd: float, max_cash_share: float = 0.5) -> tuple[str, str, int | None] | None:
    """At most one move a round: ``("acquire", vertical, wrapper_id)``, ``("build", vertical, None)`` or None.

    A lab moves into a vertical once wrappers there earn ``threshold_usd`` a month — the demand its API
    customers proved. Verticals whose wrappers bill this lab most are considered first. It buys the largest
    wrapper it can afford with ``max_cash_share`` of its cash when the strategy allows, else builds if it can pay
    twice the build cost (assumption: a cash cushion).
    """
    if strategy == "none":
        return None
    for view in sorted(views, key=lambda v: (-v.bills_to_me_usd, -v.wrapper_revenue_usd)):
        if view.entered or view.wrapper_revenue_usd < threshold_usd:
            continue
        if strategy in ("acquire", "build_or_acquire"):
            affordable = [c for c in view.candidates if c[2] <= max_cash_share * cash_usd]
            if affordable:
                return ("acquire", view.vertical, max(affordable, key=lambda c: (c[1], -c[0]))[0])
        if strategy in ("build", "build_or_acquire") and cash_usd >= 2.0 * build_cost_usd:
            return ("build", view.vertical, None)
    return None
