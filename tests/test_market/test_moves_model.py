"""Strategic moves inside the model: reviews on schedule, decisions recorded with the contract of events.csv,
forced moves honoured and marked, menus (merger control) respected, each move carried out in the market, forecast
errors recorded when a decision's horizon ends."""

import json

import numpy as np
import pytest

from market.config import MOVES
from market.model import TokenMarket
from market.moves.review import review_due
from market.offers import FREE


def run(cfg, rounds, seed=0):
    model = TokenMarket(cfg, rng=seed)
    for _ in range(rounds):
        model.step()
    return model


def decisions(model):
    _, _, events = model.recorder.frames()
    return events[events["kind"] == "decision"]


def test_reviews_are_staggered_by_lab_and_every_decision_follows_the_contract(small):
    model = run(small(**{"world.rounds": 14}), 14)
    d = decisions(model)
    for i, lab in enumerate(model.labs):
        rounds = sorted(set(d.loc[d["actor"] == lab.name, "round"]))
        first = 1 + (i * lab.cfg.review_months) // len(model.labs)
        assert rounds == list(range(first, 15, lab.cfg.review_months))
    defaults = {"api_conduct": "best_response", "vertical": "stay_out", "rival_terms": "normal",
                "free_tier": "small", "publish": "closed"}
    for row in d.itertuples():
        detail = json.loads(row.detail)
        assert set(detail) >= {"move", "options", "forced", "horizon_months"}
        assert row.target in MOVES[detail["move"]] and row.unit == "usd_pv"
        assert detail["forced"] is False and detail["horizon_months"] == model.config.moves.horizon_months
        options = detail["options"]
        default = defaults[detail["move"]]
        if row.target == default:
            assert row.amount == 0.0
        elif options[row.target] is not None and options[default] is not None:
            assert row.amount == pytest.approx(options[row.target] - options[default], rel=1e-6, abs=1.0)
    assert set(d.loc[d["actor"] != "lab_efficient", "detail"].map(lambda s: json.loads(s)["move"])) <= {
        "api_conduct", "vertical", "rival_terms", "free_tier"}  # only the efficient lab may publish


def test_review_dates_follow_the_config(small):
    model = TokenMarket(small(**{"labs.0.review_months": 3}), rng=0)
    lab = model.labs[0]
    due = []
    for r in range(1, 13):
        model.round = r
        due.append(review_due(model, lab))
    assert [r for r, d in zip(range(1, 13), due) if d] == [1, 4, 7, 10]


def test_forced_penetration_is_played_recorded_and_priced_at_the_factor(small):
    cfg = small(**{"world.rounds": 10, "forced": [{"firm": "lab_investor_a", "move": "api_conduct",
                                                   "option": "penetration"}]})
    model = run(cfg, 10)
    d = decisions(model)
    mine = d[(d["actor"] == "lab_investor_a") & (d["detail"].map(lambda s: json.loads(s)["move"]) == "api_conduct")]
    assert len(mine) >= 1 and (mine["target"] == "penetration").all()
    assert all(json.loads(s)["forced"] for s in mine["detail"])
    _, agents, _ = model.recorder.frames()
    lab_rows = agents[agents["name"] == "lab_investor_a"]
    assert (lab_rows["conduct"] == "penetration").all()
    assert set(agents.loc[agents["type"] != "lab", "conduct"]) == {"best_response"}
    lab = model.labs[0]
    from agents.types import Product
    target = lab.decisions[Product("api", tier=0)].target
    # After ten months of damped steps the price sits near the penetration factor × the static best response.
    assert lab.tier_prices[0] / target == pytest.approx(model.config.moves.penetration_factor, rel=0.15)


def test_merger_control_overrides_even_a_forced_acquisition(small):
    forced = [{"firm": "lab_investor_a", "move": "vertical", "option": "acquire"}]
    blocked = run(small(**{"world.rounds": 8, "labs.0.cash_usd": 1e12, "forced": forced,
                           "moves.allow_acquisitions": False}), 8)
    _, _, events = blocked.recorder.frames()
    assert not (events["kind"] == "acquisition").any()
    d = decisions(blocked)
    assert not d["detail"].map(lambda s: "acquire" in json.loads(s)["options"]).any()
    closed = run(small(**{"world.rounds": 8, "moves.allow_vertical_entry": False}), 8)
    _, _, events = closed.recorder.frames()
    assert not events["kind"].isin(["acquisition", "vertical_build_started"]).any()


def test_forced_acquisition_pays_a_bargained_price_moves_customers_and_conserves_money(small):
    # Wrappers can be valued once they have settled a month: the lab's second review (round 7, on a six-month
    # cycle) buys.
    cfg = small(**{"world.rounds": 8, "labs.0.cash_usd": 1e12, "labs.0.review_months": 6,
                   "forced": [{"firm": "lab_investor_a", "move": "vertical", "option": "acquire"}]})
    model = TokenMarket(cfg, rng=2)
    for _ in range(8):
        model.step()
        assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()
    _, _, events = model.recorder.frames()
    bought = events[(events["kind"] == "acquisition") & (events["actor"] == "lab_investor_a")]
    assert len(bought) >= 1
    d = decisions(model)
    for row in d[(d["target"] == "acquire") & (d["actor"] == "lab_investor_a")].itertuples():
        detail = json.loads(row.detail)
        # Nash bargaining: the price lies between what the wrapper is worth alone and what it is worth to the lab
        # (a forced purchase without surplus pays the owners' standalone value).
        assert detail["price_usd"] == pytest.approx(max(detail["standalone_usd"], 0.5 * (
            detail["standalone_usd"] + detail["buyer_value_usd"])), rel=1e-6)
        paid = bought[(bought["target"] == detail["acquire_target"])]["amount"]
        assert paid.iloc[0] == pytest.approx(detail["price_usd"], rel=1e-6)
    for name in bought["target"]:
        wrapper = next(w for w in model.wrappers if w.name == name)
        assert not wrapper.alive and wrapper.acquired_by == "lab_investor_a"
        assert not np.isin(model.choice, model.book.ids(wrapper)).any()


def test_cut_off_wrappers_leave_the_lab_and_cannot_come_back(small):
    forced = [{"firm": "lab_investor_b", "move": "vertical", "option": "build", "vertical": "coding"},
              {"firm": "lab_investor_b", "move": "rival_terms", "option": "cut_off"}]
    cfg = small(**{"world.rounds": 16, "labs.1.vertical_build_months": 1, "labs.1.cash_usd": 1e11, "forced": forced})
    model = run(cfg, 16)
    lab = model.labs[1]
    assert lab.terms.get("coding") == "cut_off"
    coding = [w for w in model.alive(model.wrappers) if w.vertical == "coding"]
    assert coding and all(w.upstream_id != lab.unique_id for w in coding)
    assert all(o.seller_id != lab.unique_id for o in model.book.upstream_offers("coding"))


def test_a_free_tier_switched_off_closes_and_its_users_leave(small):
    cfg = small(**{"world.rounds": 3, "forced": [{"firm": "lab_investor_a", "move": "free_tier", "option": "off"}]})
    model = run(cfg, 3)
    lab = model.labs[0]
    assert lab.free_tier_size == "off"
    free = model.book.ids(lab, FREE)
    assert not model.current_offers.alive[free].any()
    assert not np.isin(model.choice, free).any()
    assert lab.free_gpus == 0.0


def test_only_a_publishing_lab_releases_weights(small):
    forced = [{"firm": "lab_efficient", "move": "publish", "option": "publish"}]
    cfg = small(**{"world.rounds": 12, "labs.3.quality": 1.3, "forced": forced})
    model = run(cfg, 12)
    _, _, events = model.recorder.frames()
    releases = events[events["kind"] == "open_weight_release"]
    assert len(releases) >= 1 and set(releases["actor"]) == {"lab_efficient"}
    closed = run(small(**{"world.rounds": 12, "labs.3.quality": 1.3,
                          "forced": [{"firm": "lab_efficient", "move": "publish", "option": "closed"}]}), 12)
    _, _, events = closed.recorder.frames()
    assert not (events["kind"] == "open_weight_release").any()


def test_forecast_errors_are_recorded_when_a_decisions_horizon_ends(small):
    model = run(small(**{"world.rounds": 9, "moves.horizon_months": 6}), 9)
    _, _, events = model.recorder.frames()
    errors = events[events["kind"] == "forecast_error"]
    made = decisions(model)
    due = made[made["round"] + 6 - 1 <= 9]
    assert len(errors) == len(due) > 0
    for row in errors.itertuples():
        detail = json.loads(row.detail)
        assert row.round == detail["decision_round"] + 5 and detail["horizon_months"] == 6
        assert row.amount == pytest.approx(detail["realised_usd"] - detail["forecast_usd"], rel=1e-6, abs=1.0)
