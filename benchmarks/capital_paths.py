"""The checks of issue 13 at model level: the baseline's GPU market, fleets, training share and quality by model
year beside the dated public paths, and a funding-climate pair where both sides let firms choose. Prints tables;
asserts nothing (figures to read against market/data/path_targets.csv, not tests).

Usage: python benchmarks/capital_paths.py [--customers 100000] [--rounds 60] [--seeds 3]

Table 1 (one baseline run, seed 0) has one row per model year (round 0 = July 2024, so "2024-25" is July 2024 to
June 2025): the mean rent ($/GPU-hour), the simulated firms' GPU spend (capex paid on delivery + owned GPUs'
running cost + rent paid, $B/year), of which labs' capex ($B/year), the simulated market's GPU stock and the labs' owned
fleets at the year's end (millions of GPUs), the training share of labs' compute and the frontier quality. Below
it, the public points of the same series: H100 rents and the four hyperscalers' capex (for scale: the simulated
market is `gpu_market.supply_share` of NVIDIA's data-centre shipments, not the hyperscalers' whole capex).

Table 2 runs the baseline with growth money (`capital.appetites` = [1]: investors value by a revenue multiple)
and disciplined money ([0]: by discounted cash flow) on the same seeds, nothing forced: funding rounds, investors'
inflow and losses, exits, labs alive at the end, and the investor-funded labs' owners' value
(outcomes.json `owners_value_usd`), medians over seeds.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from market import path_targets
from market.scenario import config_from
from market.simulate import run_once

PUBLIC = ("h100_rental_2024_10", "h100_1yr_contract_2025_10", "h100_1yr_contract_2026_06", "alphabet_capex_2024",
          "amazon_capex_2024", "meta_capex_2024", "alphabet_capex_2025", "amazon_capex_2025", "meta_capex_2025")


def baseline_table(customers: int, rounds: int) -> None:
    """Print table 1 (module docstring)."""
    cfg = config_from(None, {"customers.n_customers": customers, "world.rounds": rounds})
    m = run_once(cfg, seed=0).model
    m = m.assign(year=(m["round"] - 1) // 12)
    print(f"baseline, {customers:,} customers, {rounds} rounds, seed 0")
    print(f"{'model year':<11}{'rent $/h':>9}{'GPU spend $B':>13}{'capex $B':>9}{'stock M':>8}{'labs own M':>11}"
          f"{'training':>9}{'quality':>8}")
    for y, g in m.groupby("year"):
        end = g.iloc[-1]
        print(f"{2024 + y}-{(25 + y) % 100:02d}{'':<4}{g['gpu_rent_usd_per_hour'].mean():>9.2f}"
              f"{g['gpu_spend_usd'].sum() / 1e9:>13.1f}{g['capex_usd'].sum() / 1e9:>9.1f}"
              f"{end['gpu_stock'] / 1e6:>8.2f}{end['gpus_owned_labs'] / 1e6:>11.2f}"
              f"{g['compute_share_training'].mean():>9.2f}{end['frontier_quality']:>8.3f}")
    print("public points (market/data/path_targets.csv):")
    for key in PUBLIC:
        r = path_targets.row(key)
        print(f"  {key:<28}{path_targets.value(key):>9.2f} {r['unit']} ({r['as_of']})")


def climate_table(customers: int, rounds: int, seeds: int) -> None:
    """Print table 2 (module docstring)."""
    print(f"\nfunding climate, {customers:,} customers, {rounds} rounds, medians over seeds 0..{seeds - 1}")
    print(f"{'investors':<12}{'rounds':>7}{'inflow $B':>10}{'inv. loss $B':>13}{'exits':>6}{'labs alive':>11}"
          f"{'owners lab_investor_a $B':>26}{'lab_investor_b $B':>19}")
    for name, appetite in (("growth", 1.0), ("disciplined", 0.0)):
        rows = []
        for seed in range(seeds):
            cfg = config_from(None, {"customers.n_customers": customers, "world.rounds": rounds,
                                     "capital.appetites": [appetite]})
            r = run_once(cfg, seed=seed)
            kinds = r.events["kind"]
            owners = r.outcomes["owners_value_usd"]
            rows.append(((kinds == "funding_round").sum(), r.model["investor_inflow_usd"].sum() / 1e9,
                         r.model["investor_loss_usd"].sum() / 1e9, (kinds == "exit").sum(),
                         r.model["n_labs"].iloc[-1], owners.get("lab_investor_a", np.nan) / 1e9,
                         owners.get("lab_investor_b", np.nan) / 1e9))
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"{name:<12}{med[0]:>7.0f}{med[1]:>10.1f}{med[2]:>13.1f}{med[3]:>6.0f}{med[4]:>11.0f}"
              f"{med[5]:>26.1f}{med[6]:>19.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    baseline_table(args.customers, args.rounds)
    climate_table(args.customers, args.rounds, args.seeds)


if __name__ == "__main__":
    main()
