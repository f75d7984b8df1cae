"""Outcome frequencies per scenario pair over seeds, with the strategic choices behind them.

Usage: python benchmarks/outcome_frequencies.py [--seeds 10] [--customers 1000000] [--rounds 72] [--workers 2]
       [--pairs q4_funding,q5_merger_control,...] [--out results.jsonl]

Each pair differs in one stated condition (``PAIRS``); both sides let firms choose. Per scenario and seed the run's
outcome flags (the detectors of market/outcomes.py) and counts of its strategic decisions (events.csv kind
``decision``) are written, one JSON line per run, to ``--out`` (runs already there are not run again, so an
interrupted table resumes). The table gives, per pair and side, in how many seeds each detector fired with a
Wilson 95 % interval, and how often labs chose each non-default option at their reviews.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

OUTCOMES = ("dumb_pipe", "loss_leading", "loss_leading_recouped", "vertical_takeover")
CHOICES = ("penetration", "premium", "build", "acquire", "surcharge", "cut_off", "free_off", "free_large", "publish")

# (key, question, side A, side B, the one condition that differs)
PAIRS = (
    ("q4_funding", "Q4/Q6 loss leading and who pays", "api_war_growth_money", "api_war_disciplined_money",
     "investors' appetite 1 (revenue multiple) vs 0 (discounted cash flow)"),
    ("q4_switching", "Q4 lock-in", "switching_costs_high", "baseline", "switching costs ×3 vs the calibrated ones"),
    ("q3_open_weights", "Q3 dumb pipe", "commodity_pipe", "differentiated",
     "open weights 2 months and 0.01 behind the frontier vs 24 months and 0.3"),
    ("q5_merger_control", "Q5 vertical takeover", "baseline", "merger_control", "acquisitions allowed vs forbidden"),
    ("q6_parent", "Q6 who funds the losses", "baseline", "giant_small_parent",
     "the giant's parent budget 9.4 $B vs 0.1 $B a month"),
    ("q2_scale", "Q2 scale economies", "baseline", "no_scale_economies", "serving cost falls with volume vs flat"),
)


def run_one(job: tuple[str, int, int, int]) -> dict:
    """Run one (scenario, seed, customers, rounds); return its flags, decision counts and CPU seconds."""
    from market.config import config_from
    from market.simulate import run_once

    scenario, seed, customers, rounds = job
    start = time.process_time()
    cfg = config_from(scenario, {"customers.n_customers": customers, "world.rounds": rounds})
    result = run_once(cfg, seed)
    ev = result.events
    decisions = ev[ev["kind"] == "decision"]
    counts = Counter()
    for row in decisions.itertuples():
        move = json.loads(row.detail)["move"]
        option = row.target
        if move == "free_tier" and option != "small":
            option = f"free_{option}"
        if option in CHOICES:
            counts[option] += 1
    return {"scenario": scenario, "seed": seed, "customers": customers, "rounds": rounds,
            "flags": {k: bool(result.flags().get(k)) for k in OUTCOMES}, "choices": dict(counts),
            "reviews": int(decisions.groupby(["round", "actor"]).ngroups) if len(decisions) else 0,
            "acquisitions": int((ev["kind"] == "acquisition").sum()), "exits": int((ev["kind"] == "exit").sum()),
            "cpu_s": time.process_time() - start}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k / n (95 % by default)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def table(rows: list[dict], pairs, seeds: int) -> str:
    """Markdown table: per pair and side, detector counts over seeds (Wilson 95 %) and choices per review."""
    by = {}
    for r in rows:
        by.setdefault(r["scenario"], []).append(r)
    lines = ["| pair (condition) | scenario | " + " | ".join(OUTCOMES) + " | choices per 100 lab reviews |",
             "|---|---|" + "---|" * len(OUTCOMES) + "---|"]
    for key, question, a, b, condition in pairs:
        for side in (a, b):
            got = by.get(side, [])[:seeds]
            n = len(got)
            cells = []
            for k in OUTCOMES:
                hits = sum(r["flags"][k] for r in got)
                lo, hi = wilson(hits, n)
                cells.append(f"{hits}/{n} [{lo:.2f}, {hi:.2f}]" if n else "–")
            reviews = sum(r["reviews"] for r in got)
            choice = Counter()
            for r in got:
                choice.update(r["choices"])
            text = ", ".join(f"{c} {100 * choice[c] / reviews:.0f}" for c in CHOICES if choice[c]) if reviews else "–"
            lines.append(f"| {question} ({condition}) | {side} | " + " | ".join(cells) + f" | {text} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=72)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pairs", default=",".join(p[0] for p in PAIRS))
    ap.add_argument("--out", default=None, help="JSON lines of finished runs (read first: finished runs are skipped)")
    args = ap.parse_args()
    pairs = [p for p in PAIRS if p[0] in args.pairs.split(",")]
    scenarios = list(dict.fromkeys(s for p in pairs for s in p[2:4]))
    done: list[dict] = []
    out = Path(args.out) if args.out else None
    if out is not None and out.exists():
        done = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
        done = [r for r in done if r["customers"] == args.customers and r["rounds"] == args.rounds]
    have = {(r["scenario"], r["seed"]) for r in done}
    jobs = [(s, seed, args.customers, args.rounds) for seed in range(args.seeds) for s in scenarios
            if (s, seed) not in have]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        for r in pool.map(run_one, jobs):
            done.append(r)
            if out is not None:
                with out.open("a") as f:
                    f.write(json.dumps(r) + "\n")
            print(f"{r['scenario']} seed {r['seed']}: {r['cpu_s']:.0f} s CPU", flush=True)
    cpu = sum(r["cpu_s"] for r in done)
    print(f"\nseeds={args.seeds} customers={args.customers:,} rounds={args.rounds}: {len(done)} runs, "
          f"{cpu / 60:.1f} CPU minutes in all ({time.perf_counter() - t0:.0f} s wall for the runs made now)\n")
    print(table(done, pairs, args.seeds))


if __name__ == "__main__":
    main()
