"""The shipped scenario pairs: each question of DESIGN.md §1 as a scenario and its counterfactual, which differ
in stated conditions and run the same decision rules (docs/scenarios.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    """A scenario (``a``) and its counterfactual (``b``) for ``question`` (DESIGN.md §1), and what differs."""

    question: str
    a: str
    b: str
    differs: str


SHIPPED_PAIRS: tuple[Pair, ...] = (
    Pair("Q2", "no_scale_economies", "baseline", "serving cost flat in volume vs the calibrated cost curve"),
    Pair("Q3", "commodity_pipe", "differentiated", "open weights 2 months and 0.01 behind the frontier vs 24 months "
                                                    "and 0.3"),
    Pair("Q4", "api_war_growth_money", "api_war_disciplined_money", "investors' appetite 1 (revenue multiple) vs 0 "
                                                                   "(discounted cash flow)"),
    Pair("Q4", "switching_costs_high", "baseline", "switching costs ×3 vs the calibrated ones"),
    Pair("Q5", "baseline", "merger_control", "acquisitions allowed vs forbidden"),
    Pair("Q6", "giant_small_parent", "baseline", "the giant's parent budget 0.1 $B vs 9.4 $B a month"),
)
