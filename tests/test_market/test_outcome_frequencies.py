"""Outcome frequencies the mechanisms give, pinned at a small scale (4 seeds × 10,000 customers × 36 rounds) with
stated tolerances; `tokenmarket outcomes` runs the same at any scale and `python benchmarks/outcome_frequencies.py
DIR` tabulates it by pair (docs/scenarios.md).

Both sides of each pair let firms choose; they differ in one condition. Every scenario stands on the calibrated
layer (market/data/calibrated.toml: the ten demand estimates of the recalibration on this session's mechanics,
docs/calibration.md). The claims, measured at this scale (labs review their conduct once a year,
``labs[].review_months``, and plan compute quarterly, ``labs[].plan_review_months``):
* Q4/Q6 (investors' appetite): labs choose penetration at 0.17 of their conduct reviews under either climate (one
  review in six). The climate does not order the two at this scale (it did not on the previous calibration either:
  0.50 against 0.54). The loss-leading detector (a below-cost price the firm chose, docs/outcomes.md) fires in 3
  of 4 seeds under growth money and 1 of 4 under disciplined money (4 and 4 before the recalibration).
* Q5 (merger control): acquisitions vanish under merger control (0.24 of vertical decisions when allowed); labs
  build at about a fifth of vertical decisions on both sides (0.21 allowed, 0.23 under control): on the
  recalibrated demand a blocked purchase becomes staying out, not a build (0.62 / 0.73 before). The takeover
  detector counts only the labs' organic sales (acquired revenue apart) and fires in none of 4 seeds on either
  side: at this scale and horizon the labs' own apps do not win a vertical.
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


def test_penetration_is_chosen_at_a_sixth_of_conduct_reviews_under_either_climate():
    growth, disciplined = _runs("api_war_growth_money"), _runs("api_war_disciplined_money")
    assert _share(growth, "api_conduct", "penetration") == pytest.approx(0.17, abs=0.1)
    assert _share(disciplined, "api_conduct", "penetration") == pytest.approx(0.17, abs=0.1)
    assert abs(_count(growth, "loss_leading") - 3) <= 1 and abs(_count(disciplined, "loss_leading") - 1) <= 1


def test_merger_control_removes_acquisitions_and_no_side_shows_an_organic_takeover():
    allowed, control = _runs("baseline"), _runs("merger_control")
    assert _share(control, "vertical", "acquire") == 0.0
    assert _share(allowed, "vertical", "acquire") == pytest.approx(0.24, abs=0.1)
    assert _share(allowed, "vertical", "build") == pytest.approx(0.21, abs=0.1)
    assert _share(control, "vertical", "build") == pytest.approx(0.23, abs=0.1)
    for runs in (allowed, control):
        assert _count(runs, "vertical_takeover") <= 1
