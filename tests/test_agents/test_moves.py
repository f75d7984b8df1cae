"""Strategic decision rules (agents/moves.py) on hand-made observations whose right answer is known: an option that
strictly pays is taken, one that strictly loses is not, gains inside the forecast's error do not move the firm,
forced options are played and marked, infeasible ones never chosen."""

import math

import pytest

from agents.moves import (DEFAULTS, AcquisitionTarget, ChooseByValue, MoveObservation, VerticalEntry,
                          VerticalObservation)
from market.config import MOVES

V = 1e11  # $: the order of a frontier lab's owners' value


def obs(move, values, current=None, feasible=None, forced=None, vertical=None):
    options = MOVES[move]
    return MoveObservation(move, options, tuple(values[o] for o in options),
                           tuple(feasible[o] for o in options) if feasible else (True,) * len(options),
                           current or DEFAULTS[move], 24, vertical, forced)


@pytest.mark.parametrize("move", sorted(MOVES))
def test_every_option_that_strictly_pays_is_taken(move):
    rule = ChooseByValue(min_gain_share=0.002)
    for winner in MOVES[move]:
        values = {o: V for o in MOVES[move]}
        values[winner] = V * 1.01  # 1 % more: beyond the 0.2 % threshold
        d = rule.decide(obs(move, values))
        assert d.option == winner and not d.forced
        expected = 0.0 if winner == DEFAULTS[move] else V * 0.01
        assert d.gain_usd == pytest.approx(expected)


@pytest.mark.parametrize("move", sorted(MOVES))
def test_an_option_that_strictly_loses_is_not_taken(move):
    rule = ChooseByValue(min_gain_share=0.002)
    for loser in MOVES[move]:
        if loser == DEFAULTS[move]:
            continue
        values = {o: V for o in MOVES[move]}
        values[loser] = V * 0.9
        for o in MOVES[move]:  # the others lose too, by less: the default, the status quo, stays
            if o not in (loser, DEFAULTS[move]):
                values[o] = V * 0.99
        assert rule.decide(obs(move, values)).option == DEFAULTS[move]


def test_a_gain_inside_the_threshold_keeps_the_current_option():
    rule = ChooseByValue(min_gain_share=0.002)
    values = {"best_response": V, "penetration": V * 1.001, "premium": V * 0.5}
    assert rule.decide(obs("api_conduct", values)).option == "best_response"  # 0.1 % < 0.2 %
    # … and the same holds for leaving a campaign: the status quo is the current option, not the default.
    values = {"best_response": V * 1.001, "penetration": V, "premium": V * 0.5}
    d = rule.decide(obs("api_conduct", values, current="penetration"))
    assert d.option == "penetration" and d.gain_usd == pytest.approx(-V * 0.001)


def test_forced_option_is_played_and_marked_even_when_it_loses():
    rule = ChooseByValue()
    values = {"stay_out": V, "build": V * 0.5, "acquire": V * 0.9}
    d = rule.decide(obs("vertical", values, forced="build", vertical="coding"))
    assert (d.option, d.forced, d.vertical) == ("build", True, "coding")
    assert d.gain_usd == pytest.approx(-V * 0.5)


def test_infeasible_and_unevaluated_options_are_never_chosen():
    rule = ChooseByValue()
    values = {"stay_out": V, "build": V * 2, "acquire": math.nan}
    feasible = {"stay_out": True, "build": False, "acquire": True}
    assert rule.decide(obs("vertical", values, feasible=feasible)).option == "stay_out"
    forced = rule.decide(obs("vertical", values, feasible=feasible, forced="build"))
    assert forced.option == "stay_out" and forced.forced  # a forced move the lab cannot pay for is not played


def test_vertical_entry_buys_the_target_that_leaves_the_owners_best_off():
    rule = VerticalEntry(ChooseByValue())
    targets = (AcquisitionTarget(7, V * 1.02, 3e9, True), AcquisitionTarget(8, V * 1.05, 9e9, False),
               AcquisitionTarget(9, V * 1.03, 5e9, True))
    move = obs("vertical", {"stay_out": V, "build": V * 1.01, "acquire": V * 1.03}, vertical="coding")
    d = rule.decide(VerticalObservation(move, targets))
    assert (d.decision.option, d.target_id, d.price_usd) == ("acquire", 9, 5e9)  # 8 pays most but is not affordable


def test_forced_acquisition_without_a_target_stays_out():
    rule = VerticalEntry(ChooseByValue())
    move = obs("vertical", {"stay_out": V, "build": V, "acquire": math.nan}, forced="acquire",
               feasible={"stay_out": True, "build": True, "acquire": True})
    d = rule.decide(VerticalObservation(move, ()))
    assert d.decision.option == "stay_out" and d.decision.forced and d.target_id is None


def test_observation_rejects_inconsistent_options():
    with pytest.raises(ValueError, match="equal"):
        MoveObservation("publish", ("closed", "publish"), (1.0,), (True, True), "closed", 24)
    with pytest.raises(ValueError, match="current"):
        MoveObservation("publish", ("closed", "publish"), (1.0, 2.0), (True, True), "off", 24)
