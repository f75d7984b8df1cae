"""Issue 13 wired into the round: the GPU market clears, fleets are split by marginal value, rounds dilute the
owners, exits return GPUs to the market, skill is earned, owners' value reaches outcomes.json, and the capital
market quotes its pricing rule for forecasts."""

import json
import math

import numpy as np
import pytest

from market import learning
from market.config import ConfigError
from market.finance import exit_firm
from market.gpu_market import deliver
from market.model import TokenMarket
from market.simulate import run_once
from tests.conftest import small_config

USES = ("paid", "free", "training", "inference_rd")


@pytest.fixture(scope="module")
def run():
    """A small baseline run of 12 rounds (3,000 customers) and its tables."""
    model = TokenMarket(small_config(), rng=2)
    for _ in range(12):
        model.step()
    return model, *model.recorder.frames()


def test_the_rent_clears_the_rentable_stock(run):
    model = run[0]
    c = model.gpus.clearing
    assert c.unmet_gpus == 0.0
    # Everything rentable is rented by the modelled firms or the rest of the market, or idles at the floor.
    assert c.rented_gpus.sum() + c.outside_gpus + c.idle_gpus == pytest.approx(c.supply_gpus, rel=1e-9)
    assert c.supply_gpus == pytest.approx(model.gpus.state.rentable_gpus, rel=1e-12)
    rented = [lab.rented_gpus for lab in model.alive(model.labs)] + [p.gpus for p in model.alive(model.providers)]
    assert np.array(rented) == pytest.approx(c.rented_gpus, rel=1e-12)


def test_every_lab_splits_its_fleet_at_equal_marginal_values(run):
    _, _, agents, _ = run
    labs = agents[agents["type"] == "lab"]
    fleet = labs[[f"{u}_gpus" if u != "inference_rd" else "rd_gpus" for u in USES]].sum(axis=1) + labs["idle_gpus"]
    assert fleet.to_numpy() == pytest.approx((labs["owned_gpus"] + labs["rented_gpus"]).to_numpy(), rel=1e-9)
    lam = labs["gpu_value_usd_per_gpu_hour"].to_numpy()
    for u, col in zip(USES, ("paid_gpus", "free_gpus", "training_gpus", "rd_gpus")):
        value = labs[f"shadow_{u}_usd_per_gpu_hour"].to_numpy()
        none = labs[col].to_numpy() == 0
        # A use with no GPUs is worth at most λ at its first GPU; one with GPUs at least λ (more only at its cap).
        assert np.all(value[none] <= lam[none] * (1 + 1e-6) + 1e-9)
        assert np.all(value[~none] >= lam[~none] * (1 - 1e-6) - 1e-9)
    assert (labs["training_gpus"] > 0).any() and (lam > 0).all()


def test_a_funding_round_dilutes_the_owners_by_pre_over_post_money(run):
    _, _, agents, events = run
    rounds = events[events["kind"] == "funding_round"]
    checked = 0
    for _, ev in rounds.iterrows():
        if ((rounds["actor"] == ev["actor"]) & (rounds["round"] == ev["round"])).sum() != 1 or ev["round"] < 1:
            continue
        pre = json.loads(ev["detail"])["pre_money_usd"]
        share = agents[agents["name"] == ev["actor"]].set_index("round")["owners_share"]
        assert share[ev["round"]] == pytest.approx(share[ev["round"] - 1] * pre / (pre + ev["amount"]), rel=1e-5)
        checked += 1
    assert checked > 0


def test_the_quote_prices_investor_firms_and_none_for_parent_funded_labs(run):
    model = run[0]
    by_funding = {lab.funding: lab for lab in model.labs}
    assert model.capital.quote(by_funding["self_funded"]) is None
    pricer = model.capital.quote(by_funding["investor"])
    assert pricer is not None
    lab = by_funding["investor"]
    revenue, gross, fixed = model.capital.history(lab)
    # The quote prices a round as the capital market would now (same figures, same amount).
    terms = model.capital.terms(lab, 1e9)
    pre = pricer.pre_money_usd(revenue, gross, fixed, lab.cash_usd, 1e9)
    assert (terms is None and pre <= 0) or pre == pytest.approx(terms.pre_money_usd, rel=1e-9)


def test_an_exit_sells_the_gpus_into_the_rentable_stock():
    model = TokenMarket(small_config(), rng=3)
    for _ in range(3):
        model.step()
    lab = max(model.alive(model.labs), key=lambda f: f.owned_gpus)
    owned = lab.owned_gpus
    assert owned > 0
    model.ledger.post(lab, "staff", lab.cash_usd + 1e9, "test_loss")  # cash −1 B$: the lab cannot go on
    exit_firm(model, lab)
    assert not lab.alive and model.gpus.released == pytest.approx(owned, rel=1e-12)
    _, _, events = model.recorder.frames()
    ex = events[events["kind"] == "exit"].iloc[-1]
    assert json.loads(ex["detail"])["gpus_sold"] == pytest.approx(owned, rel=1e-5)
    before = model.gpus.state
    gm = model.gpus
    due = gm.cancelled.get(before.round + 1, 0.0)  # its GPUs on order arriving now go to the clouds too
    without = deliver(before, gm.path, gm.cfg.life_months, due, gm.cfg.outside_demand_tracks_supply)[0]
    with_sale = deliver(before, gm.path, gm.cfg.life_months, owned + due, gm.cfg.outside_demand_tracks_supply)[0]
    model.step()
    assert model.gpus.state.rentable_gpus == pytest.approx(with_sale.rentable_gpus, rel=1e-12)
    assert with_sale.rentable_gpus - without.rentable_gpus == pytest.approx(owned, rel=1e-9)
    assert abs(model.ledger.total()) <= 1e-9 * model.ledger.scale()


def test_served_volume_and_research_advance_every_sellers_know_how(run):
    model = run[0]
    for firm in model.alive([*model.labs, *model.providers]):
        before = model.skill_state(firm)
        served = firm.last.paid_tokens_mtok + getattr(firm.last, "free_tokens_mtok", 0.0)
        after = learning.advance(before, served, getattr(firm, "rd_gpus", 0.0), model.publications, model.round + 1,
                                 model.learning_params)
        assert after.cumulative_mtok == pytest.approx(before.cumulative_mtok + served, rel=1e-12)
        assert learning.skill_of(after, model.learning_params) >= learning.skill_of(before, model.learning_params)
    hosts = run[2][run[2]["type"] == "provider"].groupby("name")
    # Hosts start with no volume and earn skill as they serve (learning by doing; costs no longer hand it out).
    assert (hosts["cumulative_mtok"].last() > hosts["cumulative_mtok"].first()).any()


def test_owners_value_reaches_outcomes_for_every_firm():
    result = run_once(small_config(), seed=4, rounds=4)
    values = result.outcomes["owners_value_usd"]
    assert set(values) == set(result.agents["name"])
    assert all(math.isfinite(v) for v in values.values())
    json.dumps(result.outcomes)  # outcomes.json is written from this dict


def test_initial_fleet_share_rations_pro_rata_to_the_installed_base():
    from market.fleets import initial_fleet_share
    assert initial_fleet_share(800.0, 1000.0) == 1.0  # the base covers the wanted fleets: owned as wanted
    assert initial_fleet_share(897_095.0, 821_741.0) == pytest.approx(821_741 / 897_095)  # 0.916 (hand)
    assert initial_fleet_share(0.0, 0.0) == 1.0
    with pytest.raises(ValueError, match="installed_gpus"):
        initial_fleet_share(1.0, -1.0)


def test_differentiated_at_1000_customers_starts_with_fleets_rationed_to_the_stock():
    """Seed 5 of ``differentiated`` at 1,000 customers: labs' wanted fleets (897,095 GPUs) exceed the round-0
    stock of gpu_market.supply_share (821,757); before the fix the run was refused at round 0."""
    from market.scenario import config_from
    from market.gpu_market import stock_at
    cfg = config_from("differentiated", {"customers.n_customers": 1000, "world.rounds": 2})
    model = TokenMarket(cfg, rng=5)
    stock = stock_at(model.gpus.path, 0, cfg.gpu_market.life_months)
    owned = sum(lab.owned_gpus for lab in model.alive(model.labs))
    assert 0 < owned < stock
    assert owned + model.gpus.state.rentable_gpus == pytest.approx(stock, rel=1e-12)
    assert model.gpus.rent > cfg.gpu_market.reference_rent_usd_per_hour  # the scarcity shows as a price
    model.step()


def test_a_supply_share_too_small_for_round_zero_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match=r"gpu_market\.supply_share"):
        TokenMarket(small_config(**{"gpu_market.supply_share": 1e-4}), rng=1)


def test_labs_compute_shares_cover_the_fleet_they_split_in_a_month_a_lab_exits():
    # A lab that exits at settlement has sold its GPUs but split them this month: the shares must still sum to 1.
    model = TokenMarket(small_config(), rng=2)
    for _ in range(3):
        model.step()
    lab = model.labs[0]
    model.ledger.post(lab, "staff", lab.cash_usd + 1e13, "test_loss")  # no investor funds a 10 T$ hole
    model.step()
    table, _, events = model.recorder.frames()
    assert not lab.alive and (events[events["kind"] == "exit"]["round"] == model.round).any()
    row = table[table["round"] == model.round].iloc[0]
    shares = sum(row[f"compute_share_{u}"] for u in ("training", "free", "paid", "rd"))
    assert 0.99 < shares <= 1.0 + 1e-9
