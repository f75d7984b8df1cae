"""Labs' planning reviews (``labs[].plan_review_months``, market/fleets.py): a lab decides its compute — GPU
orders, rental commitment, split of its fleet — at its reviews and holds the plan in between; bad cadences are
refused naming the field."""

import numpy as np
import pytest

from market.model import TokenMarket
from runs.commands.main import main
from tests.conftest import small_config

USES = ("paid_gpus", "free_gpus", "training_gpus", "rd_gpus", "idle_gpus")
ROUNDS = 10


@pytest.mark.parametrize("setting, fragment", [
    ("labs.0.plan_review_months=0", "labs.0.plan_review_months: Input should be greater than or equal to 1 "
                                    "(allowed: [1, 24]); got 0"),
    ("labs.1.plan_review_months=25", "labs.1.plan_review_months: Input should be less than or equal to 24 "
                                     "(allowed: [1, 24]); got 25"),
    ("labs.0.plan_review_months=2.5", "labs.0.plan_review_months"),
])
def test_bad_plan_cadences_exit_2_naming_the_field(capsys, setting, fragment):
    assert main(["params", "--set", setting]) == 2
    assert fragment in capsys.readouterr().err


def _plans(every: int):
    """Per round and lab: (reviewed this round, rented GPUs, each use's share of the fleet, shadow price $/GPU-hour,
    GPUs ordered this round), and the rounds at which compute decisions were made."""
    model = TokenMarket(small_config(**{f"labs.{i}.plan_review_months": every for i in range(4)}), rng=4)
    decided = []
    original = model.compute_decision

    def counted(lab, clearing, initial=False):
        decided.append((model.round, lab.unique_id))
        return original(lab, clearing, initial)

    model.compute_decision = counted
    rows = []
    for _ in range(ROUNDS):
        ordered = {lab.unique_id: len(lab.orders) for lab in model.labs}
        model.step()
        for lab in model.alive(model.labs):
            shares = np.array([getattr(lab, u) for u in USES]) / lab.gpus
            rows.append((model.round, lab.unique_id, model.plan_due(lab), lab.rented_gpus, shares,
                         lab.gpu_value_usd_per_hour, len(lab.orders) > ordered[lab.unique_id]))
    return model, rows, decided


def test_a_lab_holds_its_compute_plan_between_planning_reviews_and_revises_it_at_them():
    model, rows, decided = _plans(3)
    assert {(r, uid) for r, uid in set(decided) if r > 0} == {(r, uid) for r, uid, due, *_ in rows if due}
    assert [due for r, uid, due, *_ in rows] == [(r + uid) % 3 == 0 for r, uid, *_ in rows]  # staggered quarters
    changed_at_review = 0
    for lab in model.labs:
        mine = [row for row in rows if row[1] == lab.unique_id]
        for before, now in zip(mine, mine[1:]):
            _, _, due, rented, shares, shadow, ordered = now
            if not due:
                assert rented == before[3]  # the rental commitment is held
                assert shares == pytest.approx(before[4], rel=1e-12, abs=1e-15)  # each use keeps its share
                assert shadow == before[5]
                assert not ordered  # orders are placed at reviews only
            elif rented != before[3] or shadow != before[5]:
                changed_at_review += 1
    assert changed_at_review >= len(model.labs)  # the plan moves at reviews


def test_monthly_planning_revises_the_plan_every_round():
    model, rows, decided = _plans(1)
    assert all(due for _, _, due, *_ in rows)
    assert len([d for d in decided if d[0] > 0]) == len(rows)
    # Months that fall between reviews at a quarterly cadence see the plan move when labs re-plan monthly: the
    # holding asserted above is the cadence's doing, not a plan that would not have moved anyway.
    moved = 0
    for uid in {row[1] for row in rows}:
        mine = [row for row in rows if row[1] == uid]
        for before, now in zip(mine, mine[1:]):
            if (now[0] + uid) % 3 and (now[3] != before[3] or now[5] != before[5]):
                moved += 1
    assert moved >= 4
