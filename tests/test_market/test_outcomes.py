"""market.outcomes: the three detectors on hand-built tables with known answers."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from market.config import OutcomesConfig
from market.outcomes import OUTCOME_COLUMNS, Outcomes, detect, streaks, summary_metrics

NAN = float("nan")
CFG = OutcomesConfig(window_months=4, loss_leading_window_months=3, recoup_markup_min=0.1)


# ------------------------------------------------------------------------------------------------ builders

def model(n, start=1, **cols):
    """model.csv rows for rounds start..start+n-1; each column a list of n values or a scalar."""
    return pd.DataFrame({"round": np.arange(start, start + n), **cols})


def firm(name, prices, costs, tokens=10.0, type="lab", start=1, funding="investor", exit_at=None, **extra):
    """agents.csv rows of one firm (API seller unless type='wrapper'); alive False in round ``exit_at``."""
    n = len(prices)
    rounds = np.arange(start, start + n)
    unit = "usd_per_month" if type == "wrapper" else "usd_per_mtok"
    return pd.DataFrame(dict(round=rounds, name=name, type=type, funding=funding, vertical=extra.pop("vertical", ""),
                             alive=[exit_at is None or r < exit_at for r in rounds], price=prices, price_unit=unit,
                             unit_cost=costs, tokens_mtok=tokens, **extra))


def agents(*frames):
    return pd.concat(frames, ignore_index=True)


def events(*rows, vertical=True):
    """events.csv from (round, kind, actor, target[, vertical]) tuples; ``vertical=False`` drops that column."""
    cols = ["round", "kind", "actor", "target", "amount", "unit", "vertical"]
    df = pd.DataFrame([(r[0], r[1], r[2], r[3], 0.0, "usd", r[4] if len(r) > 4 else "") for r in rows], columns=cols)
    return df if vertical else df.drop(columns="vertical")


def run(model_df, agents_df=None, events_df=None, cfg=CFG) -> Outcomes:
    out = detect(model_df, agents_df if agents_df is not None else pd.DataFrame(), events_df, cfg)
    json.dumps(out.verdicts, allow_nan=False)  # strict JSON for outcomes.json
    assert list(out.per_round.columns) == list(OUTCOME_COLUMNS)
    return out


def test_streaks_reset_on_false_and_gaps():
    cond = np.array([1, 1, 0, 1, 1, 1, 1], bool)
    assert streaks(cond, np.array([1, 2, 3, 4, 5, 7, 8])).tolist() == [1, 2, 0, 1, 2, 1, 2]


# ----------------------------------------------------------------------------------------------- dumb pipe

def pipe(held_rounds, start=3, n=10, lerner_in=(0.1, 0.15, 0.05, 0.1), share_in=(0.6, 0.7, 0.8, 0.7)):
    lerner, share = [0.5] * n, [0.3] * n
    for k in range(held_rounds):
        lerner[start - 1 + k], share[start - 1 + k] = lerner_in[k % 4], share_in[k % 4]
    return model(n, lerner_api=lerner, app_share_of_gross_profit=share)


def test_dumb_pipe_held_exactly_window_is_detected():
    out = run(pipe(4))
    dp = out.verdicts["dumb_pipe"]
    assert dp["detected"] and dp["first_round"] == 3 + 4 - 1 and dp["rounds_held"] == 4
    assert dp["longest_spell"] == dict(start=3, end=6, rounds=4, mean_lerner_api=pytest.approx(0.1),
                                       mean_app_share_of_gross_profit=pytest.approx(0.7))
    assert out.per_round["outcome_dumb_pipe"].tolist() == [r == 6 for r in range(1, 11)]
    assert out.flags() == dict(dumb_pipe=True, loss_leading=False, loss_leading_recouped=False, vertical_takeover=False)


def test_dumb_pipe_window_minus_one_is_not():
    dp = run(pipe(3)).verdicts["dumb_pipe"]
    assert not dp["detected"] and dp["first_round"] is None and dp["rounds_held"] == 3
    assert dp["longest_spell"]["rounds"] == 3


@pytest.mark.parametrize("lerner,share", [(0.2, 0.7), (0.2001, 0.7), (0.1, 0.5), (NAN, 0.7), (0.1, NAN)])
def test_dumb_pipe_thresholds_are_strict_and_nan_is_false(lerner, share):
    dp = run(model(6, lerner_api=lerner, app_share_of_gross_profit=share)).verdicts["dumb_pipe"]
    assert not dp["detected"] and dp["rounds_held"] == 0 and dp["longest_spell"] is None


def test_dumb_pipe_long_spell_flags_every_round_after_window():
    out = run(pipe(6))
    assert out.per_round["outcome_dumb_pipe"].tolist() == [6 <= r <= 8 for r in range(1, 11)]
    assert out.verdicts["dumb_pipe"]["longest_spell"]["mean_lerner_api"] == pytest.approx((0.1 + 0.15 + 0.05 + 0.1 + 0.1 + 0.15) / 6)


# -------------------------------------------------------------------------------------------- loss leading

# lab_a: above cost in round 1, below cost in rounds 2–5 (subsidy 0.5·10 + 1·20 + 0.5·10 + 0.25·40 = 40 $),
# then price 2 over cost 1.5 (markup 33 % ≥ 10 %) in rounds 6–12: a 3-round recoup streak completes in round 8.
LAB_A = dict(prices=[2.0] + [1.0] * 4 + [2.0] * 7, costs=[1.5, 1.5, 2.0, 1.5, 1.25] + [1.5] * 7,
             tokens=[10, 10, 20, 10, 40] + [10] * 7)


def provider_b(exit_at=7):
    n = 12 if exit_at is None else exit_at
    return firm("prov_b", [1.05] * n, [1.0] * n, type="provider", funding="self_funded", exit_at=exit_at)


def loss_run(lab=LAB_A, rival_exit=7, lab_extra=None, extra_events=(), extra_frames=()):
    ag = agents(firm("lab_a", **lab, **(lab_extra or {})), provider_b(rival_exit), *extra_frames)
    ev = events(*([(rival_exit, "exit", "prov_b", "")] if rival_exit else []), *extra_events)
    return run(model(12), ag, ev)


def test_loss_leading_spell_subsidy_and_recoup_after_rival_exit():
    out = loss_run()
    ll = out.verdicts["loss_leading"]
    assert ll["detected"] and ll["recouped"] and ll["missing_columns"] == []
    (sp,) = ll["spells"]
    assert sp == dict(firm="lab_a", type="lab", start=2, end=5, rounds=4, ongoing=False, subsidy_usd=40.0,
                      funding="investor", funding_inflow_usd=None, recouped=True, recoup_round=8,
                      rival_exits=[dict(round=7, firm="prov_b")], firm_exited=False, exit_round=None)
    assert out.per_round["outcome_loss_leading"].tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert out.flags()["loss_leading_recouped"]


def test_recoup_waits_for_the_rival_exit():
    sp = loss_run(rival_exit=10).verdicts["loss_leading"]["spells"][0]
    assert sp["recouped"] and sp["recoup_round"] == 10 and sp["rival_exits"] == [dict(round=10, firm="prov_b")]


def test_funding_inflow_is_summed_over_the_spell():
    inflow = dict(funding_inflow_usd=[0, 1e9, 0, 2e9, 0.5e9] + [7e9] * 7)
    assert loss_run(lab_extra=inflow).verdicts["loss_leading"]["spells"][0]["funding_inflow_usd"] == 3.5e9


@pytest.mark.parametrize("case", ["no_rival_exit", "wrapper_exit_only", "price_stays_below", "markup_too_small",
                                  "firm_exits"])
def test_loss_leading_not_recouped(case):
    lab, rival_exit, frames, evs = dict(LAB_A), 7, [], []
    if case == "no_rival_exit":
        rival_exit = None
    if case == "wrapper_exit_only":
        rival_exit = None
        frames = [firm("wr_x", [20.0] * 6, [30.0] * 6, type="wrapper", vertical="coding", exit_at=6)]
        evs = [(6, "exit", "wr_x", "")]
    if case == "price_stays_below":
        lab["prices"] = [2.0] + [1.0] * 11
    if case == "markup_too_small":  # 1.6 / 1.5 = 1.067 < 1.1
        lab["prices"] = [2.0] + [1.0] * 4 + [1.6] * 7
    if case == "firm_exits":  # lab_a's rows stop at its exit in round 7, before a recoup could complete
        lab = {k: v[:7] for k, v in LAB_A.items()}
        evs = [(7, "exit", "lab_a", "")]
        out = run(model(12), agents(firm("lab_a", **lab, exit_at=7), provider_b(6)),
                  events((6, "exit", "prov_b", ""), *evs))
    else:
        out = loss_run(lab, rival_exit, extra_events=evs, extra_frames=frames)
    ll = out.verdicts["loss_leading"]
    assert ll["detected"] and not ll["recouped"]
    sp = ll["spells"][0]
    assert sp["start"] == 2 and sp["recoup_round"] is None
    if case == "price_stays_below":
        assert (sp["end"], sp["rounds"], sp["ongoing"]) == (12, 11, True)
        assert sp["subsidy_usd"] == pytest.approx(40.0 + 0.5 * 10 * 7)
    if case == "firm_exits":
        assert sp["firm_exited"] and sp["exit_round"] == 7 and sp["end"] == 5
    assert out.flags() == dict(dumb_pipe=False, loss_leading=True, loss_leading_recouped=False, vertical_takeover=False)


def test_short_spells_and_wrappers_and_bad_rows_do_not_count():
    ag = agents(
        firm("lab_a", [1.0, 1.0, 2.0, 1.0, 1.0, 1.0], [1.5] * 6, tokens=[10, 10, 10, 10, 0, 10]),  # 2, then broken by 0 tokens
        firm("prov_c", [1.0] * 6, [1.5, NAN, 1.5, 1.5, NAN, 1.5], type="provider"),  # NaN cost breaks spells
        firm("wr_x", [20.0] * 6, [30.0] * 6, type="wrapper", vertical="coding"))  # $/month, not judged
    out = run(model(6), ag, events())
    assert not out.verdicts["loss_leading"]["detected"] and out.per_round["outcome_loss_leading"].sum() == 0


def test_two_firms_in_spells_are_counted_per_round():
    ag = agents(firm("lab_a", [1.0] * 5, [2.0] * 5), firm("prov_b", [2.0, 1.0, 1.0, 1.0, 1.0], [2.0] * 5, type="provider"))
    out = run(model(5), ag, None)
    assert out.per_round["outcome_loss_leading"].tolist() == [0, 0, 1, 2, 2]
    assert [(s["firm"], s["subsidy_usd"], s["ongoing"]) for s in out.verdicts["loss_leading"]["spells"]] == [
        ("lab_a", 50.0, True), ("prov_b", 40.0, True)]


# --------------------------------------------------------------------------------------- vertical takeover

WRAPPER_SHARE = [0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2]


def takeover_model(wrapper_share=WRAPPER_SHARE, lab_share=None):
    lab = lab_share if lab_share is not None else [round(1 - w, 10) for w in wrapper_share]
    return model(10, lab_revenue_share_coding=lab, wrapper_revenue_share_coding=wrapper_share,
                 lab_revenue_share_writing=0.1, wrapper_revenue_share_writing=0.9)


TAKEOVER_AGENTS = agents(firm("lab_a", [2.0] * 10, [1.0] * 10),
                         firm("wr_c1", [20.0] * 10, [5.0] * 10, type="wrapper", vertical="coding"),
                         firm("wr_c2", [20.0] * 10, [5.0] * 10, type="wrapper", vertical="coding"),
                         firm("wr_w1", [20.0] * 10, [5.0] * 10, type="wrapper", vertical="writing"))
LAUNCH = (3, "vertical_launch", "lab_a", "", "coding")


def takeover(*evs, m=None, vertical=True):
    return run(m if m is not None else takeover_model(), TAKEOVER_AGENTS, events(*evs, vertical=vertical))


def test_takeover_after_launch_lab_majority_and_wrapper_exit():
    out = takeover(LAUNCH, (6, "exit", "wr_c1", ""))
    vt = out.verdicts["vertical_takeover"]
    c = vt["verticals"]["coding"]
    assert vt["detected"] and vt["first_round"] == 6
    assert c == dict(wrapper_led=True, wrapper_led_round=1, wrapper_share_then=0.8, entry_round=3,
                     entry_kind="vertical_launch", entry_actor="lab_a", takeover=True, takeover_round=6,
                     lab_share_then=pytest.approx(0.6), wrapper_exits=[dict(round=6, firm="wr_c1")],
                     acquisitions=[], missing_columns=[])
    assert out.per_round["outcome_vertical_takeover"].tolist() == [r >= 6 for r in range(1, 11)]
    w = vt["verticals"]["writing"]  # wrappers led writing, but no lab ever entered
    assert w["wrapper_led"] and w["wrapper_led_round"] == 1 and not w["takeover"] and w["entry_round"] is None
    assert not vt["verticals"]["customer_support"]["takeover"]
    assert vt["verticals"]["customer_support"]["missing_columns"] == [
        "lab_revenue_share_customer_support", "wrapper_revenue_share_customer_support"]


def test_takeover_waits_for_the_wrapper_exit():
    c = takeover(LAUNCH, (8, "exit", "wr_c2", "")).verdicts["vertical_takeover"]["verticals"]["coding"]
    assert c["takeover_round"] == 8 and c["lab_share_then"] == pytest.approx(0.7)


def test_takeover_by_acquisition_vertical_from_agents_table():
    out = takeover((4, "acquisition", "lab_a", "wr_c1"), vertical=False)
    c = out.verdicts["vertical_takeover"]["verticals"]["coding"]
    assert (c["entry_round"], c["entry_kind"], c["takeover_round"]) == (4, "acquisition", 6)
    assert c["acquisitions"] == [dict(round=4, actor="lab_a", target="wr_c1")] and c["wrapper_exits"] == []


def test_launch_vertical_read_from_target_without_vertical_column():
    c = takeover((3, "vertical_launch", "lab_a", "coding"), (5, "exit", "wr_c1", ""),
                 vertical=False).verdicts["vertical_takeover"]["verticals"]["coding"]
    assert c["entry_round"] == 3 and c["takeover_round"] == 6


@pytest.mark.parametrize("case", ["no_wrapper_exit", "other_vertical_exit", "never_led", "led_only_after_entry",
                                  "lab_share_0.4", "no_entry"])
def test_no_takeover(case):
    evs, m = [LAUNCH, (6, "exit", "wr_c1", "")], None
    if case == "no_wrapper_exit":
        evs = [LAUNCH]
    if case == "other_vertical_exit":
        evs = [LAUNCH, (6, "exit", "wr_w1", "")]
    if case == "never_led":
        m = takeover_model([0.45] * 3 + [0.3] * 7, lab_share=[0.55] * 3 + [0.7] * 7)
    if case == "led_only_after_entry":
        m = takeover_model([0.3, 0.3, 0.9, 0.9, 0.9, 0.2, 0.2, 0.2, 0.2, 0.2], lab_share=[0.7] * 10)
    if case == "lab_share_0.4":
        m = takeover_model(lab_share=[0.4] * 10)
    if case == "no_entry":
        evs = [(6, "exit", "wr_c1", "")]
    out = takeover(*evs, m=m)
    c = out.verdicts["vertical_takeover"]["verticals"]["coding"]
    assert not c["takeover"] and c["takeover_round"] is None and not out.flags()["vertical_takeover"]
    assert c["wrapper_led"] == (case not in ("never_led", "led_only_after_entry"))
    assert not out.per_round["outcome_vertical_takeover"].any()


# --------------------------------------------------------------------------------- missing data and summary

def test_missing_columns_and_empty_tables_mean_no_outcomes():
    out = run(model(5), pd.DataFrame(), None)
    assert out.flags() == dict(dumb_pipe=False, loss_leading=False, loss_leading_recouped=False, vertical_takeover=False)
    assert out.verdicts["dumb_pipe"]["missing_columns"] == ["lerner_api", "app_share_of_gross_profit"]
    assert out.verdicts["loss_leading"]["missing_columns"] == ["round", "name", "price", "unit_cost", "tokens_mtok"]
    assert out.per_round.shape == (5, 3) and out.per_round["outcome_loss_leading"].tolist() == [0] * 5
    assert out.verdicts["thresholds"]["window_months"] == 4


def test_per_round_aligns_with_shuffled_model_index():
    m = pipe(4).sample(frac=1.0, random_state=0)
    out = run(m)
    assert out.per_round.index.equals(m.index)
    assert out.per_round.loc[m["round"] == 6, "outcome_dumb_pipe"].item() is True
    assert out.per_round["outcome_dumb_pipe"].sum() == 1


def test_default_config_used_when_none():
    out = detect(pipe(4), pd.DataFrame(), None)  # default window is 12 rounds
    assert not out.flags()["dumb_pipe"] and out.verdicts["thresholds"]["window_months"] == 12


def test_summary_metrics_last_and_nan_safe_mean():
    m = model(3, seed=7, run_id="r", a=[1.0, 2.0, NAN], b=[True, False, True], c=["x", "y", "z"], d=[NAN, NAN, NAN]).iloc[::-1]
    s = summary_metrics(m)
    assert set(s) == {"rounds", "last_a", "mean_a", "last_b", "mean_b", "last_d", "mean_d"}
    assert s["rounds"] == 3 and math.isnan(s["last_a"]) and s["mean_a"] == 1.5
    assert s["last_b"] == 1.0 and s["mean_b"] == pytest.approx(2 / 3)
    assert math.isnan(s["last_d"]) and math.isnan(s["mean_d"])
    assert summary_metrics(pd.DataFrame()) == {"rounds": 0}
