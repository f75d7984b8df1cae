"""Decisions of labs beyond price: vertical entry. Pure functions/objects. (The compute split and GPU orders are
in agents/compute.py.)"""

from __future__ import annotations

from dataclasses import dataclass


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
