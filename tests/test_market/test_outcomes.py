"""market.outcomes: the detectors on hand-built tables with known answers (hand calculations in the comments)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from market.config import OutcomesConfig
from market.outcomes import (OUTCOME_COLUMNS, Outcomes, conduct_table, detect, independent_share, streaks,
                             summary_metrics, verdict_lines)

NAN = float("nan")
CFG = OutcomesConfig(dumb_pipe_window_months=4, dumb_pipe_hold_share=0.75, loss_leading_min_months=3,
                     takeover_hold_months=2)


# ------------------------------------------------------------------------------------------------ builders

def model(n, start=1, **cols):
    """model.csv rows for rounds start..start+n-1; each column a list of n values or a scalar."""
    return pd.DataFrame({"round": np.arange(start, start + n), **cols})


def seller(name, prices, atc, aac=None, q=10.0, type="lab", conduct="penetration", start=1, funding="investor",
           exit_at=None, **extra):
    """agents.csv rows of one API seller: realised price, ATC, AAC ($/Mtok), volume q (Mtok), conduct."""
    n = len(prices)
    rounds = np.arange(start, start + n)
    return pd.DataFrame(dict(
        round=rounds, name=name, type=type, funding=funding, vertical="",
        alive=[exit_at is None or r < exit_at for r in rounds], api_price_usd_per_mtok=prices,
        average_total_cost_usd_per_mtok=atc, average_avoidable_cost_usd_per_mtok=aac if aac is not None else 0.1,
        api_equiv_mtok=q, conduct=conduct, **extra))


def wrapper(name, vertical, n=10, revenue=100.0):
    return pd.DataFrame(dict(round=np.arange(1, n + 1), name=name, type="wrapper", vertical=vertical, alive=True,
                             revenue_usd=revenue))


def events(*rows):
    """events.csv from (round, kind, actor, target[, vertical[, amount[, detail]]]) tuples."""
    cols = ["round", "kind", "actor", "target", "amount", "unit", "vertical", "detail"]
    return pd.DataFrame([(r[0], r[1], r[2], r[3], r[5] if len(r) > 5 else 0.0, "usd", r[4] if len(r) > 4 else "",
                          r[6] if len(r) > 6 else "") for r in rows], columns=cols)


def run(model_df, agents_df=None, events_df=None, cfg=CFG) -> Outcomes:
    out = detect(model_df, agents_df if agents_df is not None else pd.DataFrame(), events_df, cfg)
    json.dumps(out.verdicts, allow_nan=False)  # strict JSON for outcomes.json
    assert list(out.per_round.columns) == list(OUTCOME_COLUMNS)
    return out


def test_streaks_reset_on_false_and_gaps():
    cond = np.array([1, 1, 0, 1, 1, 1, 1], bool)
    assert streaks(cond, np.array([1, 2, 3, 4, 5, 7, 8])).tolist() == [1, 2, 0, 1, 2, 1, 2]


# ----------------------------------------------------------------------------------------------- dumb pipe

def pipe(margin, indep, labs=10.0, hosts=0.0):
    """Model rows with the API margin on marginal cost and independent apps' value per round (firms' value:
    independent apps + labs + hosts)."""
    n = len(margin)
    return model(n, lerner_api_marginal_cost=margin, value_independent_apps_usd=indep, value_labs_usd=labs,
                 value_hosts_usd=hosts, lerner_api=0.5)


def test_independent_share_is_of_firms_value():
    m = pipe([0.1, 0.1, 0.1], [30.0, 10.0, 0.0], labs=[10.0, 10.0, 0.0], hosts=[10.0, 0.0, 0.0])
    share = independent_share(m)
    assert share[:2].tolist() == [pytest.approx(0.6), pytest.approx(0.5)] and math.isnan(share[2])


def test_dumb_pipe_judged_on_the_last_window_with_a_hold_share():
    # Window 4, hold share 0.75 → 3 of the last 4 months. Both legs hold in rounds 5, 6 and 8 (round 7's margin
    # is 0.3): the window 5–8 qualifies.
    out = run(pipe([0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.3, 0.1], 30.0))
    dp = out.verdicts["dumb_pipe"]
    assert dp["detected"] and dp["judged"] and dp["first_round"] == 8 and dp["rounds_both_legs"] == 3
    w = dp["window"]
    assert (w["start"], w["end"], w["months"], w["months_both_legs"], w["months_needed"]) == (5, 8, 4, 3, 3)
    assert w["mean_margin_on_marginal_cost"] == pytest.approx(0.15)
    assert w["mean_independent_share"] == pytest.approx(0.75)
    assert w["share_of_firms_value_labs"] == pytest.approx(0.25)
    assert out.per_round["outcome_dumb_pipe"].tolist() == [False] * 7 + [True]


def test_a_transient_does_not_count():
    # The margin dips for three months (rounds 3–5) and recovers: the windows ending at 5 and 6 qualified (3 of
    # 4 months), the last one (6–9) does not.
    out = run(pipe([0.5, 0.5, 0.1, 0.1, 0.1, 0.5, 0.5, 0.5, 0.5], 30.0))
    dp = out.verdicts["dumb_pipe"]
    assert not dp["detected"] and dp["first_round"] == 5
    assert out.per_round["outcome_dumb_pipe"].tolist() == [r in (5, 6) for r in range(1, 10)]
    assert not out.flags()["dumb_pipe"]


def test_a_thin_pipe_whose_owner_keeps_the_value_is_not_dumb():
    # Margin 0.05 throughout, but labs (with their own apps) capture 30 against independent apps' 20.
    dp = run(pipe([0.05] * 6, 20.0, labs=30.0)).verdicts["dumb_pipe"]
    assert not dp["detected"] and dp["rounds_both_legs"] == 0


@pytest.mark.parametrize("margin,indep", [(0.2, 30.0), (NAN, 30.0), (0.1, NAN)])
def test_dumb_pipe_margin_bound_is_strict_and_nan_is_false(margin, indep):
    dp = run(pipe([margin] * 5, indep)).verdicts["dumb_pipe"]
    assert not dp["detected"] and dp["rounds_both_legs"] == 0


def test_short_run_is_not_judged():
    dp = run(pipe([0.1] * 3, 30.0)).verdicts["dumb_pipe"]
    assert not dp["judged"] and not dp["detected"]
    assert verdict_lines(run(pipe([0.1] * 3, 30.0)).verdicts)[0].startswith("dumb pipe: not judged")


# -------------------------------------------------------------------------------------------- loss leading

# lab_a chooses penetration in rounds 2–5 at price 1 against ATC 2 and AAC 1.5 in rounds 2–3, 0.5 in 4–5;
# q = 10: subsidy below ATC = 4 × (2 − 1) × 10 = 40 $, below AAC = 2 × 0.5 × 10 = 10 $; then price 4 (excess
# (4 − 2) × 10 = 20 $ a month). At a monthly rate of 1 %: PV of the subsidy at round 2 = 10 × (1 + 1/1.01 +
# 1/1.01² + 1/1.01³) = 39.41; excess from round 6: 20/1.01⁴ = 19.22, + 20/1.01⁵ = 38.25, + 20/1.01⁶ = 57.09 ≥
# 39.41 → recouped in round 8.
RATE = 1.01 ** 12 - 1  # 1 % a month
LAB_A = dict(prices=[3.0, 1, 1, 1, 1] + [4.0] * 7, atc=[2.0] * 12, aac=[1.5, 1.5, 1.5, 0.5, 0.5] + [0.5] * 7,
             conduct=["best_response"] + ["penetration"] * 4 + ["best_response"] * 7, cost_of_capital_per_year=RATE)


def loss_run(**changes):
    lab = {**LAB_A, **changes}
    return run(model(12), seller("lab_a", **lab), events())


def test_chosen_spell_subsidy_apart_and_recoupment_in_present_value():
    out = loss_run()
    ll = out.verdicts["loss_leading"]
    assert ll["detected"] and ll["recouped"] and ll["conduct_recorded"]
    (sp,) = ll["spells"]
    assert (sp["firm"], sp["start"], sp["end"], sp["months"], sp["ongoing"]) == ("lab_a", 2, 5, 4, False)
    assert sp["months_below_avoidable_cost"] == 2
    assert sp["subsidy_below_total_cost_usd"] == pytest.approx(40.0)
    assert sp["subsidy_below_avoidable_cost_usd"] == pytest.approx(10.0)
    assert sp["pv_subsidy_usd"] == pytest.approx(10 * sum(1.01 ** -k for k in range(4)))
    assert (sp["recoup_status"], sp["recoup_round"]) == ("recouped", 8)
    assert sp["cost_of_capital_per_year"] == pytest.approx(RATE)
    assert out.per_round["outcome_loss_leading"].tolist() == [0, 0, 0, 1, 1] + [0] * 7
    assert out.flags() == dict(dumb_pipe=False, loss_leading=True, loss_leading_recouped=True, vertical_takeover=False)


def test_a_higher_cost_of_capital_delays_recoupment():
    # At 20 % a month the PV of the subsidy is 10 × (1 + 1/1.2 + 1/1.2² + 1/1.2³) = 31.06 and the excess from
    # round 6 is worth 20/1.2⁴ = 9.65, + 8.04, + 6.70, + 5.58, + 4.65 = 34.62 ≥ 31.06 in round 10; at 30 % a
    # month the excess to round 12 is worth 25.5 < 28.16: not recouped by the horizon.
    assert loss_run(cost_of_capital_per_year=1.2 ** 12 - 1).verdicts["loss_leading"]["spells"][0]["recoup_round"] == 10
    sp = loss_run(cost_of_capital_per_year=1.3 ** 12 - 1).verdicts["loss_leading"]["spells"][0]
    assert not sp["recouped"] and sp["recoup_status"] == "not_by_horizon"


def test_price_below_cost_that_was_not_chosen_is_not_loss_leading():
    # The same prices under best response (idle capacity after a shock, say): listed apart, not loss leading.
    out = loss_run(conduct="best_response")
    ll = out.verdicts["loss_leading"]
    assert not ll["detected"] and ll["below_cost_not_chosen"] == [
        dict(firm="lab_a", start=2, end=5, months=4, months_below_avoidable_cost=2)]
    assert "no chosen below-cost spell" in verdict_lines(out.verdicts)[1]


def test_penetration_above_total_cost_is_not_loss_leading():
    assert not loss_run(atc=[0.9] * 12).verdicts["loss_leading"]["detected"]


def test_a_spell_shorter_than_the_minimum_does_not_count():
    assert not loss_run(conduct=["best_response"] * 3 + ["penetration"] * 2 + ["best_response"] * 7).verdicts[
        "loss_leading"]["detected"]


@pytest.mark.parametrize("case", ["no_excess", "firm_exits", "ongoing"])
def test_not_recouped(case):
    if case == "no_excess":
        out = loss_run(prices=[3.0, 1, 1, 1, 1] + [2.0] * 7)
        status = "not_by_horizon"
    elif case == "firm_exits":  # rows stop at its exit in round 7 (alive False there), before round 8
        lab = {k: v[:7] if isinstance(v, list) else v for k, v in LAB_A.items()}
        out = run(model(12), seller("lab_a", **lab, exit_at=7), events((7, "exit", "lab_a", "")))
        status = "firm_exited"
    else:
        out = loss_run(prices=[3.0] + [1.0] * 11, conduct=["best_response"] + ["penetration"] * 11)
        status = "ongoing"
    sp = out.verdicts["loss_leading"]["spells"][0]
    assert not sp["recouped"] and sp["recoup_status"] == status and not out.flags()["loss_leading_recouped"]


def test_who_paid_the_subsidy():
    # Funding inflows 3 in the spell, of which investors' rounds 2 (events); cash falls from 100 to 60.
    lab = {**LAB_A, "funding_inflow_usd": [0, 1, 0, 2, 0] + [0] * 7, "cash_usd": [100, 90, 80, 70, 60] + [60] * 7}
    ev = events((4, "funding_round", "lab_a", "", "", 2.0))
    paid = run(model(12), seller("lab_a", **lab), ev).verdicts["loss_leading"]["spells"][0]["who_paid"]
    assert paid == dict(investors_usd=2.0, parent_usd=1.0, own_cash_usd=40.0)


def test_conduct_read_from_decision_events_without_the_column():
    # The contract's decision events: api_conduct → penetration in round 2, back to best_response in round 6.
    rows = seller("lab_a", **LAB_A).drop(columns="conduct")
    detail = lambda opt: json.dumps({"move": "api_conduct", "options": {opt: 1.0}, "forced": opt == "penetration",  # noqa: E731
                                     "horizon_months": 12})
    ev = events((2, "decision", "lab_a", "penetration", "", 5.0, detail("penetration")),
                (6, "decision", "lab_a", "best_response", "", 0.0, detail("best_response")),
                (3, "decision", "lab_a", "build", "coding", 1.0, json.dumps({"move": "vertical"})))
    assert conduct_table(rows, ev).tolist() == ["best_response"] + ["penetration"] * 4 + ["best_response"] * 7
    out = run(model(12), rows, ev)
    sp = out.verdicts["loss_leading"]["spells"][0]
    assert (sp["start"], sp["end"], sp["forced"]) == (2, 5, True) and not out.verdicts["loss_leading"]["conduct_recorded"]
    assert (sp["decision_round"], sp["forecast_gain_usd"]) == (2, 5.0)  # the choice and the value that justified it


def test_two_firms_in_spells_are_counted_per_round_and_wrappers_are_not_judged():
    ag = pd.concat([seller("lab_a", [1.0] * 5, [2.0] * 5),
                    seller("prov_b", [2.0, 1.0, 1.0, 1.0, 1.0], [2.0] * 5, type="provider"),
                    wrapper("wr_x", "coding", n=5)], ignore_index=True)
    out = run(model(5), ag, None)
    assert out.per_round["outcome_loss_leading"].tolist() == [0, 0, 1, 2, 2]
    assert [(s["firm"], s["subsidy_below_total_cost_usd"], s["ongoing"])
            for s in out.verdicts["loss_leading"]["spells"]] == [("lab_a", 50.0, True), ("prov_b", 40.0, True)]


# --------------------------------------------------------------------------------------- vertical takeover

WRAPPER_SHARE = [0.8, 0.8, 0.7, 0.4, 0.4, 0.3, 0.3, 0.3, 0.2, 0.2]


def takeover_model(lab_share=None, revenue=1000.0):
    lab = lab_share if lab_share is not None else [round(1 - w, 10) for w in WRAPPER_SHARE]
    return model(10, lab_revenue_share_coding=lab, wrapper_revenue_share_coding=WRAPPER_SHARE,
                 vertical_revenue_coding_usd=revenue, lab_revenue_share_writing=0.1,
                 wrapper_revenue_share_writing=0.9, vertical_revenue_writing_usd=100.0)


AGENTS = pd.concat([seller("lab_a", [2.0] * 10, [1.0] * 10), wrapper("wr_c1", "coding"),
                    wrapper("wr_c2", "coding", revenue=250.0), wrapper("wr_w1", "writing")], ignore_index=True)
LAUNCH = (3, "vertical_launch", "lab_a", "", "coding")


def takeover(*evs, m=None):
    return run(m if m is not None else takeover_model(), AGENTS, events(*evs))


def test_takeover_organic_majority_held_with_a_wrapper_exit():
    # Organic share = lab share (no acquisition): 0.6 in rounds 4–5, 0.7 from 6; held 2 months by round 5; the
    # exit in round 6 completes it.
    out = takeover(LAUNCH, (6, "exit", "wr_c1", ""))
    vt = out.verdicts["vertical_takeover"]
    c = vt["verticals"]["coding"]
    assert vt["detected"] and vt["first_round"] == 6 and vt["verticals_taken"] == ["coding"]
    assert (c["wrapper_led"], c["wrapper_led_round"], c["entry_round"], c["entry_kind"]) == (True, 1, 3, "vertical_launch")
    assert c["takeover_round"] == 6 and c["organic_share_then"] == pytest.approx(0.7)
    assert c["wrapper_exits"] == [dict(round=6, firm="wr_c1")] and c["organic_measured"]
    assert out.per_round["outcome_vertical_takeover"].tolist() == [r >= 6 for r in range(1, 11)]
    assert not vt["verticals"]["writing"]["takeover"]


def test_acquired_revenue_is_counted_apart():
    # lab_a buys wr_c2 in round 3 (run rate 250 $, its revenue in round 2); labs' share 0.7 of 1000 from round 4:
    # organic (700 − 250) / 1000 = 0.45 < 0.5, so no takeover although the labs hold 70 %.
    m = takeover_model(lab_share=[0.2, 0.2, 0.3] + [0.7] * 7)
    out = takeover((3, "acquisition", "lab_a", "wr_c2", "coding", 3000.0), (6, "exit", "wr_c1", ""), m=m)
    c = out.verdicts["vertical_takeover"]["verticals"]["coding"]
    assert c["acquisitions"] == [dict(round=3, actor="lab_a", target="wr_c2", run_rate_usd=250.0)]
    assert c["organic_share_at_end"] == pytest.approx(0.45) and not c["takeover"]
    # Organic growth beyond the bought base counts: 0.8 → (800 − 250) / 1000 = 0.55.
    m = takeover_model(lab_share=[0.2, 0.2, 0.3] + [0.8] * 7)
    c = takeover((3, "acquisition", "lab_a", "wr_c2", "coding"), (6, "exit", "wr_c1", ""), m=m).verdicts[
        "vertical_takeover"]["verticals"]["coding"]
    assert c["takeover"] and c["takeover_round"] == 6 and c["organic_share_then"] == pytest.approx(0.55)


@pytest.mark.parametrize("case", ["no_wrapper_exit", "exit_before_entry", "other_vertical_exit", "never_led",
                                  "not_held", "no_entry"])
def test_no_takeover(case):
    evs, m = [LAUNCH, (6, "exit", "wr_c1", "")], None
    if case == "no_wrapper_exit":
        evs = [LAUNCH]
    if case == "exit_before_entry":
        evs = [(2, "exit", "wr_c1", ""), LAUNCH]
    if case == "other_vertical_exit":
        evs = [LAUNCH, (6, "exit", "wr_w1", "")]
    if case == "never_led":
        m = model(10, lab_revenue_share_coding=0.7, wrapper_revenue_share_coding=0.3, vertical_revenue_coding_usd=1.0)
    if case == "not_held":  # above half in alternate months only
        m = takeover_model(lab_share=[0.2, 0.2, 0.3, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.6])
    if case == "no_entry":
        evs = [(6, "exit", "wr_c1", "")]
    out = takeover(*evs, m=m)
    c = out.verdicts["vertical_takeover"]["verticals"]["coding"]
    assert not c["takeover"] and not out.flags()["vertical_takeover"]
    assert not out.per_round["outcome_vertical_takeover"].any()


# --------------------------------------------------------------------------------- missing data and summary

def test_missing_columns_and_empty_tables_mean_no_outcomes():
    out = run(model(5), pd.DataFrame(), None)
    assert out.flags() == dict(dumb_pipe=False, loss_leading=False, loss_leading_recouped=False, vertical_takeover=False)
    assert out.verdicts["dumb_pipe"]["missing_columns"] == [
        "lerner_api_marginal_cost", "value_independent_apps_usd", "value_labs_usd", "value_hosts_usd"]
    assert out.verdicts["loss_leading"]["missing_columns"] == ["round", "name", "type"]
    assert out.per_round.shape == (5, 3) and out.per_round["outcome_loss_leading"].tolist() == [0] * 5
    assert out.verdicts["thresholds"]["dumb_pipe_window_months"] == 4 and out.verdicts["horizon_round"] == 5
    assert len(verdict_lines(out.verdicts)) == 3


def test_per_round_aligns_with_shuffled_model_index():
    m = pipe([0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1], 30.0).sample(frac=1.0, random_state=0)
    out = run(m)
    assert out.per_round.index.equals(m.index)
    assert out.per_round.loc[m["round"] == 8, "outcome_dumb_pipe"].item() is True
    assert out.per_round["outcome_dumb_pipe"].sum() == 2  # windows ending at 7 (3 of 4) and 8


def test_default_config_used_when_none():
    out = detect(pipe([0.1] * 8, 30.0), pd.DataFrame(), None)  # default window: 24 rounds
    assert not out.verdicts["dumb_pipe"]["judged"] and out.verdicts["thresholds"]["dumb_pipe_window_months"] == 24


def test_summary_metrics_last_and_nan_safe_mean():
    m = model(3, seed=7, run_id="r", a=[1.0, 2.0, NAN], b=[True, False, True], c=["x", "y", "z"], d=[NAN, NAN, NAN]).iloc[::-1]
    s = summary_metrics(m)
    assert set(s) == {"rounds", "last_a", "mean_a", "last_b", "mean_b", "last_d", "mean_d"}
    assert s["rounds"] == 3 and math.isnan(s["last_a"]) and s["mean_a"] == 1.5
    assert s["last_b"] == 1.0 and s["mean_b"] == pytest.approx(2 / 3)
    assert math.isnan(s["last_d"]) and math.isnan(s["mean_d"])
    assert summary_metrics(pd.DataFrame()) == {"rounds": 0}


@pytest.mark.parametrize("x, text", [(-413_800.0, "−$413.80k"), (4.44e9, "$4.44B"), (-12.0, "−$12"), (0.0, "$0"),
                                     (float("nan"), "n/a")])
def test_verdict_money_puts_the_sign_before_the_dollar(x, text):
    from market.outcomes import _money

    assert _money(x) == text
