"""The clone test on the whole model: do more near-identical wrappers compete the app layer's margins away?

Runs a scenario (baseline by default) with the cap on wrappers per vertical at its default and raised (so that
entry, which follows incumbents' margins, can bring many more near-identical wrappers in), under the nested logit
(the scenario's ``customers.nest_lambda_apps``) and under plain logit for vertical apps (λ = 1: each app is its
own product however many clones there are). Prints, per run: wrappers alive at the end, wrappers that ever
existed, the wrappers' Lerner index Σ(revenue − token bill) / Σ revenue and their mean plan price over the last
``--window`` months, their gross profit per month, and the app layer's Lerner index (model.csv ``lerner_app``: labs'
apps included); then what the wrappers' index mixes: subscribers a month (millions), revenue and margin (revenue −
token bill) per subscriber ($/month), what their tokens cost ($/Mtok) and the mean price of each of their two plans.

The unit test of the mechanism is tests/test_market/test_oracle.py::test_clones_in_a_tight_nest_compete_their_
margins_away (a clone's markup among N falls toward λμ under the nested logit and stays at μ/(1 − s) under plain
logit); this script measures what it adds up to in the market, where entry stops once margins fall.

Usage: python benchmarks/clone_margins.py [--scenario baseline] [--customers 100000] [--rounds 60]
                                          [--caps 6,50] [--lambdas 0.5,1] [--seed 0] [--window 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from market.config import config_from  # noqa: E402
from market.simulate import run_once  # noqa: E402


def measure(scenario: str, customers: int, rounds: int, cap: int, lam: float, seed: int, window: int) -> dict:
    """One run's wrapper figures (see the module docstring)."""
    cfg = config_from(scenario, {"customers.n_customers": customers, "wrappers.max_per_vertical": cap,
                                 "customers.nest_lambda_apps": lam})
    t0 = time.process_time()
    res = run_once(cfg, seed, rounds)
    a, m = res.agents, res.model
    last = a["round"].max()
    w = a[a["type"] == "wrapper"]
    recent = w[w["round"] > last - window]
    rev = recent["revenue_usd"].sum()
    gross = rev - (recent["revenue_usd"] - recent["gross_profit_usd"]).sum()
    subs, tokens = recent["subscribers"].sum(), recent["tokens_mtok"].sum()
    bill = rev - gross
    return {"max_per_vertical": cap, "lambda_apps": lam,
            "wrappers_alive": int(((w["round"] == last) & w["alive"].astype(bool)).sum()),
            "wrappers_ever": int(w["name"].nunique()),
            "lerner_wrappers": gross / rev if rev > 0 else np.nan,
            "wrapper_gp_musd_month": gross / window / 1e6,
            "lerner_app": float(m[m["round"] > last - window]["lerner_app"].mean()),
            "subscribers_m": subs / window / 1e6,
            "revenue_per_sub_usd": rev / subs if subs > 0 else np.nan,
            "margin_per_sub_usd": gross / subs if subs > 0 else np.nan,
            "token_cost_usd_per_mtok": bill / tokens if tokens > 0 else np.nan,
            "plan1_usd": float(recent["plan1_price_usd_per_month"].mean()),
            "plan2_usd": float(recent["plan2_price_usd_per_month"].mean()),
            "cpu_s": time.process_time() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--caps", default="6,50")
    ap.add_argument("--lambdas", default="0.5,1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window", type=int, default=12)
    args = ap.parse_args()
    print(f"{args.scenario}: {args.customers:,} customers, {args.rounds} rounds, seed {args.seed}; margins over the "
          f"last {args.window} months", flush=True)
    rows = []
    for lam in args.lambdas.split(","):
        for cap in args.caps.split(","):
            rows.append(measure(args.scenario, args.customers, args.rounds, int(cap), float(lam), args.seed,
                                args.window))
            print("  " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in rows[-1].items()),
                  flush=True)
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
