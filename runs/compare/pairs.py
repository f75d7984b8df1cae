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
    Pair("Q3", "commodity_pipe", "differentiated", "open weights close behind and many skilled hosts vs quality "
                                                    "gaps, slow open weights and high switching costs"),
    Pair("Q4", "loss_leader_growth_money", "loss_leader_disciplined_money", "investors fund growth vs margins"),
    Pair("Q5", "vertical_takeover_coding", "baseline", "the frontier labs' vertical strategy (build or acquire) vs "
                                                             "staying out"),
    Pair("Q6", "self_funded_giant", "baseline", "investors weigh growth and margins equally (appetite "
                                                     "0.5) vs the calibrated 0.7"),
    Pair("Q1", "open_weight_shock", "baseline", "near-frontier weights published at once vs the calibrated lag"),
)
