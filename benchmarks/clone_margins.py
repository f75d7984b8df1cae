"""The clone test on the whole model: do more near-identical wrappers compete the app layer's margins away?

Two designs, each run over several seeds under the nested logit and plain logit for vertical apps
(``customers.nest_lambda_apps``; λ = 1: each app is its own product however many clones there are):

* ``entry`` (the market as shipped): the cap on wrappers per vertical at each ``--levels`` value, so that entry,
  which follows incumbents' operating margins, can bring many more wrappers in. Entrants start at the
  configured product multiplier and at the incumbents' mean prices.
* ``clones``: entry off and ``--levels`` identical wrappers in each of the three wrapper verticals from month 0
  (same product multiplier, prices, cash and rules): the clone theorem's experiment.

and two conditions upstream:

* ``free``: every seller best-responds, as shipped; API prices move with the wrappers' demand.
* ``held``: every lab's and host's price is held at its configured initial value (the ``fixed`` pricing rule), so
  that only the wrappers' prices move; labs still choose their strategic moves (their own vertical apps in the
  wrappers' nest, acquisitions, surcharges on or cut-offs of rival wrappers).
* ``alone``: ``held`` and every lab forced to stay out of the verticals and keep normal terms (``forced``): the
  wrappers alone in their nest against fixed rivals, the condition of the nested logit's clone theorem
  (tests/test_market/test_oracle.py::test_clones_in_a_tight_nest_compete_their_margins_away).

Per run, over the wrappers' last ``--window`` months: wrappers alive at the end, their Lerner index
L = Σ(revenue − token bill) / Σ revenue, their markup per subscriber m = (revenue − token bill) / subscribers
($/month: the quantity the clone theorem is about, p − c → λμ), what L mixes — revenue per subscriber r ($/month),
the token price they pay τ ($/Mtok: the tiers they buy from and the sellers' prices) and tokens per subscriber x
(Mtok/month: who subscribes, and to which plan) — the entrants' L and token price, and the median profit-gain index of their
prices (agents.csv ``deviation_gain_share``: how far a price is from the best response on the grid). Then, per
design, λ and condition, seed means and standard deviations, and the change of each level against the first as
the exact decomposition of the cost share 1 − L = τx / r:

    Δ ln(1 − L) = Δ ln τ + Δ ln x − Δ ln r        (upstream token price, usage and plan mix, own revenue)

so that a Lerner index that does not fall although prices do can be read as costs per subscriber falling with them.

Usage: python benchmarks/clone_margins.py [--design entry|clones] [--levels 6,50] [--lambdas 0.5,1]
                                          [--upstream free,held,alone] [--seeds 0,1,2] [--customers 20000]
                                          [--rounds 36] [--window 6] [--scenario baseline]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from market.scenario import config_from  # noqa: E402
from market.simulate import run_once  # noqa: E402

WRAPPER_VERTICALS = ("coding", "customer_support", "writing")


def overrides(scenario: str, design: str, level: int, lam: float, upstream: str, customers: int) -> dict:
    """Config overrides of one run (see the module docstring)."""
    over: dict = {"customers.n_customers": customers, "customers.nest_lambda_apps": lam}
    if design == "entry":
        over["wrappers.max_per_vertical"] = level
    else:
        over.update({"wrappers.entry": False, "wrappers.max_per_vertical": max(level, 1),
                     "wrappers.per_vertical": {"general_chat": 0, **{v: level for v in WRAPPER_VERTICALS}}})
    if upstream in ("held", "alone"):
        labs = config_from(scenario).labs
        over.update({f"labs.{i}.pricing.name": "fixed" for i in range(len(labs))})
        over["providers.policy.name"] = "fixed"
        if upstream == "alone":
            over["forced"] = [{"firm": lab.name, "move": move, "option": option}
                              for lab in labs for move, option in (("vertical", "stay_out"), ("rival_terms", "normal"))]
    return over


def measure(scenario: str, design: str, level: int, lam: float, upstream: str, seed: int, customers: int,
            rounds: int, window: int) -> dict:
    """One run's wrapper figures (see the module docstring)."""
    cfg = config_from(scenario, overrides(scenario, design, level, lam, upstream, customers))
    initial = cfg.wrappers.per_vertical
    t0 = time.process_time()
    res = run_once(cfg, seed, rounds)
    a = res.agents
    last = a["round"].max()
    w = a[(a["type"] == "wrapper") & a["alive"].astype(bool)]
    recent = w[w["round"] > last - window]
    number = recent["name"].map(lambda s: int(re.search(r"_(\d+)$", s).group(1)))
    entrant = number > recent["vertical"].map(lambda v: initial.get(v, 0))
    rev, subs, tokens = recent["revenue_usd"].sum(), recent["subscribers"].sum(), recent["tokens_mtok"].sum()
    bill = rev - recent["gross_profit_usd"].sum()
    ent = recent[entrant]
    ent_rev = ent["revenue_usd"].sum()
    return {"design": design, "level": level, "lambda_apps": lam, "upstream": upstream, "seed": seed,
            "wrappers_alive": int((w["round"] == last).sum()),
            "lerner": (rev - bill) / rev if rev > 0 else np.nan,
            "markup_usd_per_sub": (rev - bill) / subs if subs > 0 else np.nan,
            "revenue_usd_per_sub": rev / subs if subs > 0 else np.nan,
            "token_price_usd_per_mtok": bill / tokens if tokens > 0 else np.nan,
            "mtok_per_sub": tokens / subs if subs > 0 else np.nan,
            "subscribers_m": subs / window / 1e6,
            "standard_plan_usd": float(recent["plan1_price_usd_per_month"].mean()),
            "lerner_entrants": ent["gross_profit_usd"].sum() / ent_rev if ent_rev > 0 else np.nan,
            "token_price_entrants": ((ent_rev - ent["gross_profit_usd"].sum()) / ent["tokens_mtok"].sum()
                                     if ent["tokens_mtok"].sum() > 0 else np.nan),
            "gain_index_median": float(recent["deviation_gain_share"].median()),
            "cpu_s": time.process_time() - t0}


FIGURES = ("wrappers_alive", "lerner", "markup_usd_per_sub", "revenue_usd_per_sub", "token_price_usd_per_mtok",
           "mtok_per_sub", "standard_plan_usd", "lerner_entrants", "token_price_entrants", "gain_index_median")


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(seed means ± standard deviations per design, λ, condition and level; the change of each level against the
    group's first level: Δ L, Δ markup (%), and the terms of Δ ln(1 − L) = Δ ln τ + Δ ln x − Δ ln r)."""
    keys = ["design", "lambda_apps", "upstream", "level"]
    g = rows.groupby(keys, sort=False)
    mean, sd = g[list(FIGURES)].mean(), g[list(FIGURES)].std()
    table = mean.copy()
    for c in ("lerner", "markup_usd_per_sub"):
        table[c + "_sd"] = sd[c]
    table["seeds"] = g.size()
    changes = []
    for key, grp in mean.groupby(level=keys[:3], sort=False):
        base = grp.iloc[0]
        for (_, _, _, level), row in grp.iloc[1:].iterrows():
            changes.append({**dict(zip(keys[:3], key)), "from": grp.index[0][3], "to": level,
                            "d_lerner": row["lerner"] - base["lerner"],
                            "markup_change_pct": 100 * (row["markup_usd_per_sub"] / base["markup_usd_per_sub"] - 1),
                            "dln_cost_share": np.log((1 - row["lerner"]) / (1 - base["lerner"])),
                            "dln_token_price": np.log(row["token_price_usd_per_mtok"] / base["token_price_usd_per_mtok"]),
                            "dln_mtok_per_sub": np.log(row["mtok_per_sub"] / base["mtok_per_sub"]),
                            "minus_dln_revenue_per_sub": -np.log(row["revenue_usd_per_sub"] / base["revenue_usd_per_sub"])})
    return table.reset_index(), pd.DataFrame(changes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--design", choices=("entry", "clones"), default="entry")
    ap.add_argument("--levels", default=None, help="caps per vertical (entry; default 6,50) or wrappers per "
                                                   "vertical (clones; default 1,6)")
    ap.add_argument("--lambdas", default="0.5,1")
    ap.add_argument("--upstream", default="free,held")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=36)
    ap.add_argument("--window", type=int, default=6)
    args = ap.parse_args()
    levels = [int(x) for x in (args.levels or ("6,50" if args.design == "entry" else "1,6")).split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{args.scenario}, design {args.design}: {args.customers:,} customers, {args.rounds} rounds, seeds "
          f"{args.seeds}; wrappers' last {args.window} months", flush=True)
    rows = []
    for lam in (float(x) for x in args.lambdas.split(",")):
        for upstream in args.upstream.split(","):
            for level in levels:
                for seed in seeds:
                    rows.append(measure(args.scenario, args.design, level, lam, upstream, seed, args.customers,
                                        args.rounds, args.window))
                    print("  " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in rows[-1].items()), flush=True)
    table, changes = summarise(pd.DataFrame(rows))
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    fmt = lambda x: f"{x:.3f}"  # noqa: E731
    print("\nSeed means (sd of the Lerner index and the markup beside them):")
    print(table.to_string(index=False, float_format=fmt))
    print("\nChange against the first level: Δ ln(1 − L) = Δ ln τ + Δ ln x − Δ ln r")
    print(changes.to_string(index=False, float_format=fmt))


if __name__ == "__main__":
    main()
