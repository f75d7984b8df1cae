"""Outcome frequencies the mechanisms give, pinned at a small scale (4 seeds × 10,000 customers × 36 rounds) with
stated tolerances; the table over 10 seeds at 100,000 customers and 72 months is in docs/scenarios.md
(benchmarks/outcome_frequencies.py).

Both sides of each pair let firms choose; they differ in one condition. Every scenario carries the ten demand
parameters estimated by ``tokenmarket calibrate`` (docs/calibration.md). The claims, measured at this scale (labs
review once a year, ``labs[].review_months``):
* Q4/Q6 (investors' appetite): labs choose penetration at about half of their conduct reviews under either
  climate: 0.50 under growth money and 0.54 under disciplined money since labs plan their compute quarterly
  (``labs[].plan_review_months``; 0.50 against 0.43 when they re-planned monthly, 0.21 against 0.08 on the
  hand-set demand before the calibration). At this scale (4 seeds, about 24 reviews a side) the climate no longer
  orders the two: the difference is one review in twenty-five. The loss-leading detector (a below-cost price the
  firm chose, docs/outcomes.md) fires in 4 of 4 seeds on each side (4 and 3 with monthly plans; 2 of 4 before the
  calibration): on the calibrated demand (six times the token needs, price-sensitive
  consumers) a chosen campaign is below cost under either climate.
* Q5 (merger control): acquisitions vanish under merger control and labs build on both sides, more often under
  merger control (0.73 of vertical decisions against 0.62 with quarterly compute plans; 0.66 against 0.51 with
  monthly ones, 0.78 before labs valued a quality point with rivals on their training trend): blocked purchases
  become builds. The takeover detector
  counts only the labs' organic sales (acquired revenue apart) and fires in none of 4 seeds on either side: at this
  scale and horizon the labs' own apps do not win a vertical.
Tolerances: one seed of four for detector counts, 0.1 for choice shares.
"""

from __future__ import annotations

import json

import pytest

SEEDS, CUSTOMERS, ROUNDS = range(4), 10_000, 36


def _runs(scenario: str) -> list:
    from market.scenario import config_from
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


def test_penetration_is_chosen_at_about_half_of_conduct_reviews_under_either_climate():
    growth, disciplined = _runs("api_war_growth_money"), _runs("api_war_disciplined_money")
    assert _share(growth, "api_conduct", "penetration") == pytest.approx(0.50, abs=0.1)
    assert _share(disciplined, "api_conduct", "penetration") == pytest.approx(0.54, abs=0.1)
    assert abs(_count(growth, "loss_leading") - 4) <= 1 and abs(_count(disciplined, "loss_leading") - 4) <= 1


def test_merger_control_removes_acquisitions_and_no_side_shows_an_organic_takeover():
    allowed, control = _runs("baseline"), _runs("merger_control")
    assert _share(control, "vertical", "acquire") == 0.0
    assert _share(allowed, "vertical", "acquire") == pytest.approx(0.25, abs=0.1)
    assert _share(allowed, "vertical", "build") == pytest.approx(0.62, abs=0.1)
    assert _share(control, "vertical", "build") == pytest.approx(0.73, abs=0.1)
    for runs in (allowed, control):
        assert _count(runs, "vertical_takeover") <= 1
