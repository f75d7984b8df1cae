"""The clone test on the whole model (issue 12, item 4): identical wrappers alone in their nest, every other
price held, compete their margins away — more so under the nested logit than under plain logit.

The condition is the one under which the nested logit's clone theorem holds (tests/test_market/test_oracle.py::
test_clones_in_a_tight_nest_compete_their_margins_away): every lab's and host's price held (the ``fixed`` rule),
labs forced to stay out of the verticals and keep normal terms, wrapper entry off, and one or six identical
wrappers in each of the three wrapper verticals from month 0. The figures are the wrappers' last six of 18 months,
seed means over three seeds on 20,000 customers (``python benchmarks/clone_margins.py --design clones --upstream
alone --seeds 0,1,2 --customers 20000 --rounds 18`` prints them; docs/design.md, "Demand checks", has the same
design over 24 months). About 30 s of CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

from market.scenario import config_from
from market.simulate import run_once

VERTICALS = ("coding", "customer_support", "writing")
SEEDS = (0, 1, 2)
ROUNDS, WINDOW = 18, 6


def _alone(per_vertical: int, lam: float) -> dict:
    labs = config_from("baseline").labs
    over = {"customers.n_customers": 20_000, "customers.nest_lambda_apps": lam, "wrappers.entry": False,
            "wrappers.max_per_vertical": per_vertical,
            "wrappers.per_vertical": {"general_chat": 0, **{v: per_vertical for v in VERTICALS}},
            "providers.policy.name": "fixed",
            "forced": [{"firm": lab.name, "move": move, "option": option} for lab in labs
                       for move, option in (("vertical", "stay_out"), ("rival_terms", "normal"))]}
    over.update({f"labs.{i}.pricing.name": "fixed" for i in range(len(labs))})
    return over


def _wrapper_figures(per_vertical: int, lam: float, seed: int) -> dict:
    cfg = config_from("baseline", _alone(per_vertical, lam))
    a = run_once(cfg, seed, ROUNDS).agents
    w = a[(a["type"] == "wrapper") & a["alive"].astype(bool) & (a["round"] > ROUNDS - WINDOW)]
    rev, gross, subs = w["revenue_usd"].sum(), w["gross_profit_usd"].sum(), w["subscribers"].sum()
    labs = a[a["type"] == "lab"]
    hosts = a[a["type"] == "provider"]
    return {"lerner": gross / rev, "markup": gross / subs,
            "lab_prices": labs.groupby("name")[["price", "api_small_price_usd_per_mtok"]].nunique().to_numpy().max(),
            "host_prices": hosts.groupby("name")["price"].nunique().max()}


@pytest.fixture(scope="module")
def runs() -> dict:
    """(per_vertical, λ) → per-seed figures, for one and six wrappers per vertical under λ_apps = 0.5 and 1."""
    return {(k, lam): [_wrapper_figures(k, lam, s) for s in SEEDS] for k in (1, 6) for lam in (0.5, 1.0)}


def _mean(runs, k, lam, key) -> float:
    return float(np.mean([r[key] for r in runs[(k, lam)]]))


def test_the_control_holds_every_upstream_and_lab_price(runs):
    # The ``fixed`` rule keeps each lab's API and plan prices and each host's price at one value through the run.
    assert max(r["lab_prices"] for rs in runs.values() for r in rs) == 1
    assert max(r["host_prices"] for rs in runs.values() for r in rs) == 1


def test_six_clones_cut_the_wrappers_markup_per_subscriber_below_the_nested_logit_bound(runs):
    # Nested logit (λ = 0.5): a wrapper alone in its nest prices like a monopolist of the nest, markup ≥ μ; six
    # symmetric clones' markup is λμ / (1 − (1 − λ)/6 − λs) ≈ 0.55μ: the ratio is at most 0.55. Measured 0.17
    # (39.3 → 6.6 $ a month per subscriber): customers with less willingness to pay join as prices fall.
    ratio = _mean(runs, 6, 0.5, "markup") / _mean(runs, 1, 0.5, "markup")
    assert ratio < 0.55


def test_six_clones_lower_the_wrappers_lerner_index(runs):
    # Measured 0.84 → 0.56 (seed means; 0.86 → 0.56, 0.82 → 0.70, 0.85 → 0.43); the test asks for a fall of at
    # least 0.15.
    assert _mean(runs, 6, 0.5, "lerner") < _mean(runs, 1, 0.5, "lerner") - 0.15


def test_the_nest_makes_clones_compete_harder_than_plain_logit(runs):
    # The same six clones under plain logit (λ = 1) keep two thirds of the single wrapper's markup (measured 0.68),
    # under the nested logit (λ = 0.5) a sixth (0.17): the nested ratio is below 0.6 × the plain one.
    nested = _mean(runs, 6, 0.5, "markup") / _mean(runs, 1, 0.5, "markup")
    plain = _mean(runs, 6, 1.0, "markup") / _mean(runs, 1, 1.0, "markup")
    assert nested < 0.6 * plain
