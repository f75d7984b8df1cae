"""Decisions of labs beyond price and strategic moves: compute allocation and capacity budget. Pure functions (the
strategic moves, chosen by value, are in agents/moves.py)."""

from __future__ import annotations


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
