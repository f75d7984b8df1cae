"""The strategy issue's claims, checked over 10 seeds per scenario.

Scale (stated, as the issue asks): 10,000 customers × 60 months for the dumb-pipe and takeover pairs and the
baseline; 20,000 × 72 for the loss-leading pair, whose price war needs about four years to decide who exits.
Full-scale frequencies are in the closing note (``python benchmarks/outcome_frequencies.py``). Runs are
deterministic for a seed, so these counts are reproducible.
"""

from functools import cache

import numpy as np

from market.config import config_from
from market.simulate import run_once

SEEDS = range(10)
SMALL = {"customers.n_customers": 10_000, "world.rounds": 60}
WAR = {"customers.n_customers": 20_000, "world.rounds": 72}


@cache
def runs(scenario: str, scale: str):
    overrides = SMALL if scale == "small" else WAR
    return [run_once(config_from(scenario, overrides), seed) for seed in SEEDS]


def count(scenario: str, scale: str, outcome: str) -> int:
    return sum(r.flags()[outcome] for r in runs(scenario, scale))


def test_dumb_pipe_emerges_with_commodity_tokens():
    assert count("commodity_pipe", "small", "dumb_pipe") >= 8
    # The mechanism, in numbers: API margins near cost while apps keep most of the gross profit.
    last = np.array([r.model[["lerner_api", "app_share_of_gross_profit"]].iloc[-12:].mean() for r in runs("commodity_pipe", "small")])
    assert last[:, 0].mean() < 0.2 and last[:, 1].mean() > 0.5


def test_no_dumb_pipe_when_differentiated():
    assert count("differentiated", "small", "dumb_pipe") <= 2
    lerner = np.mean([r.model["lerner_api"].iloc[-12:].mean() for r in runs("differentiated", "small")])
    assert lerner > 0.3


def test_baseline_has_no_loss_leading_and_no_takeover():
    assert count("baseline", "small", "loss_leading") <= 2
    assert count("baseline", "small", "vertical_takeover") <= 2
    assert count("baseline", "small", "dumb_pipe") <= 2


def test_vertical_takeover_emerges_when_labs_enter_verticals():
    assert count("vertical_takeover_coding", "small", "vertical_takeover") >= 8
    for r in runs("vertical_takeover_coding", "small"):
        if r.flags()["vertical_takeover"]:
            kinds = set(r.events["kind"])
            assert kinds & {"vertical_launch", "acquisition"}


def _leader(r):
    a = r.agents
    return a[a["name"] == "lab_leader"]


def test_loss_leading_pays_with_growth_money():
    results = runs("loss_leader_growth_money", "war")
    assert count("loss_leader_growth_money", "war", "loss_leading") >= 8
    assert count("loss_leader_growth_money", "war", "loss_leading_recouped") >= 8
    # Pays = share, then margin: in recouped runs the rival is gone and the leader prices above unit cost.
    for r in results:
        if not r.flags()["loss_leading_recouped"]:
            continue
        assert "lab_rival" in set(r.events.loc[r.events["kind"] == "exit", "actor"])
        spell = next(s for s in r.outcomes["loss_leading"]["spells"] if s["recouped"])
        after = _leader(r)
        after = after[(after["round"] >= spell["recoup_round"]) & (after["round"] < spell["recoup_round"] + 6)]
        assert (after["price"] >= 1.1 * after["unit_cost"]).all()
        assert spell["funding_inflow_usd"] > 0  # investors paid for the subsidy


def test_loss_leading_does_not_pay_with_disciplined_money():
    results = runs("loss_leader_disciplined_money", "war")
    assert count("loss_leader_disciplined_money", "war", "loss_leading") >= 8
    assert count("loss_leader_disciplined_money", "war", "loss_leading_recouped") <= 2
    # Does not pay = nobody funds it, its model falls behind the rival's, and it exits.
    exits = 0
    for r in results:
        spells = r.outcomes["loss_leading"]["spells"]
        assert all((s["funding_inflow_usd"] or 0.0) == 0.0 for s in spells)
        lead = _leader(r)
        rival = r.agents[r.agents["name"] == "lab_rival"]
        last = int(lead["round"].max())
        q_lead = lead.loc[lead["round"] == last, "quality"].iloc[0]
        q_rival = rival.loc[rival["round"] == last, "quality"].iloc[0]
        assert q_lead < q_rival
        exits += "lab_leader" in set(r.events.loc[r.events["kind"] == "exit", "actor"])
    assert exits >= 8


def test_data_flywheel_off_slows_the_frontier():
    # DESIGN.md Q1: free-tier data improves models. Off, the frontier after 36 months is lower by ≈ 0.06
    # (0.0036 · ln(1 + free tokens / 5e7) a month, summed), measured 0.061-0.064 over three seeds.
    gaps = []
    for seed in range(3):
        on = run_once(config_from("baseline", {**SMALL, "world.rounds": 36}), seed).model["frontier_quality"].iloc[-1]
        off = run_once(config_from("baseline", {**SMALL, "world.rounds": 36, "world.data_flywheel": False}), seed)
        gaps.append(on - off.model["frontier_quality"].iloc[-1])
    assert 0.04 < np.mean(gaps) < 0.09


def test_scale_economies_off_removes_the_small_host_penalty():
    # DESIGN.md Q2: with scale economies a low-volume host pays more per token than a big one (replicas it
    # cannot fill, headroom for bursts); with a flat curve they pay the same. At 2025 host volumes (10^6-10^8
    # Mtok a month) the penalty is small — measured 0.58 % between the smallest and largest host (seed 1) —
    # because the curve is already flat there: Q2's scale economies bite below ≈ 10^5 Mtok a month.
    def spread(scenario):
        r = run_once(config_from(scenario, {**SMALL, "world.rounds": 24, "providers.entry": False}), 1)
        a = r.agents
        last = a[(a["round"] == 24) & (a["type"] == "provider") & (a["tokens_mtok"] > 0)]
        return last["unit_cost"].max() / last["unit_cost"].min() - 1.0

    assert 0.002 < spread("baseline") < 0.05
    assert spread("no_scale_economies") < 1e-9
