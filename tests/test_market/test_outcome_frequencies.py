"""Outcome frequencies the mechanisms give, pinned at a small scale (4 seeds × 10,000 customers × 36 rounds) with
stated tolerances; the table over 10 seeds at 100,000 customers and 72 months is in docs/scenarios.md
(benchmarks/outcome_frequencies.py).

Both sides of each pair let firms choose; they differ in one condition. The claims, measured at this scale (labs
review once a year, ``labs[].review_months``):
* Q4/Q6 (investors' appetite): labs choose penetration at about a third of their conduct reviews under growth money
  (0.33) and an eighth under disciplined money (0.13): investors who pay for revenue make buying it pay more often.
  Neither side trips the loss-leading detector: a penetration price is half the static best response, and best
  responses sit several times above unit cost, so the price stays above cost.
* Q5 (merger control): the detector reports a vertical takeover in 3 of 4 seeds with acquisitions allowed and in
  none without; it counts an acquired wrapper as a wrapper gone, so the difference is the acquisitions themselves.
  Labs build apps on both sides, a little more often under merger control (0.36 of vertical decisions against
  0.28): some blocked purchases become builds.
Tolerances: one seed of four for detector counts, 0.1 for choice shares.
"""

from __future__ import annotations

import json

import pytest

SEEDS, CUSTOMERS, ROUNDS = range(4), 10_000, 36


def _runs(scenario: str) -> list:
    from market.config import config_from
    from market.simulate import run_once

    cfg = config_from(scenario, {"customers.n_customers": CUSTOMERS, "world.rounds": ROUNDS})
    return [run_once(cfg, seed) for seed in SEEDS]


def _count(runs, flag: str) -> int:
    return sum(bool(r.flags()[flag]) for r in runs)


def _share(runs, move: str, option: str) -> float:
    chosen = total = 0
    for r in runs:
        d = r.events[r.events["kind"] == "decision"]
        mine = d[d["detail"].map(lambda s: json.loads(s)["move"]) == move]
        chosen += int((mine["target"] == option).sum())
        total += len(mine)
    return chosen / total


def test_growth_money_makes_penetration_pay_more_often_than_disciplined_money():
    growth, disciplined = _runs("api_war_growth_money"), _runs("api_war_disciplined_money")
    assert _share(growth, "api_conduct", "penetration") == pytest.approx(0.33, abs=0.1)
    assert _share(disciplined, "api_conduct", "penetration") == pytest.approx(0.13, abs=0.1)
    for runs in (growth, disciplined):
        assert _count(runs, "loss_leading") <= 1


def test_merger_control_removes_the_takeovers_the_detector_counts():
    allowed, control = _runs("baseline"), _runs("merger_control")
    assert _count(allowed, "vertical_takeover") >= 2
    assert _count(control, "vertical_takeover") <= 1
    assert _share(control, "vertical", "acquire") == 0.0
    assert _share(allowed, "vertical", "build") == pytest.approx(0.28, abs=0.1)
    assert _share(control, "vertical", "build") == pytest.approx(0.36, abs=0.1)
