"""Outcome frequencies per scenario pair over seeds, with the strategic choices behind them.

Usage: python benchmarks/outcome_frequencies.py [--seeds 10] [--customers 1000000] [--rounds 72] [--workers 2]
       [--pairs q4_funding,q5_merger_control,...] [--out results.jsonl]

Each pair (runs/compare/pairs.py) differs in one stated condition; both sides let firms choose. Per scenario and seed the run's
outcome flags (the detectors of market/outcomes.py) and counts of its strategic decisions (events.csv kind
``decision``) are written, one JSON line per run, to ``--out`` (runs already there are not run again, so an
interrupted table resumes). The table gives, per pair and side, in how many seeds each detector fired with a
Wilson 95 % interval, and how often labs chose each non-default option at their reviews.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from runs.compare.pairs import SHIPPED_PAIRS, Pair
from runs.compare.stats import wilson_interval

OUTCOMES = ("dumb_pipe", "loss_leading", "loss_leading_recouped", "vertical_takeover")
CHOICES = ("penetration", "premium", "build", "acquire", "surcharge", "cut_off", "free_off", "free_large", "publish")



def pair_key(pair: Pair) -> str:
    """A short name for ``--pairs``: the question and the two scenarios, e.g. ``Q5:baseline-merger_control``."""
    return f"{pair.question}:{pair.a}-{pair.b}"


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


def table(rows: list[dict], pairs, seeds: int) -> str:
    """Markdown table: per pair and side, detector counts over seeds (Wilson 95 %) and choices per review."""
    by = {}
    for r in rows:
        by.setdefault(r["scenario"], []).append(r)
    lines = ["| pair (condition) | scenario | " + " | ".join(OUTCOMES) + " | choices per 100 lab reviews |",
             "|---|---|" + "---|" * len(OUTCOMES) + "---|"]
    for pair in pairs:
        question, condition = pair.question, pair.differs
        for side in (pair.a, pair.b):
            got = by.get(side, [])[:seeds]
            n = len(got)
            cells = []
            for k in OUTCOMES:
                hits = sum(r["flags"][k] for r in got)
                lo, hi = wilson_interval(hits, n)
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
    ap.add_argument("--pairs", default=",".join(pair_key(p) for p in SHIPPED_PAIRS),
                    help="comma-separated pair keys (question:a-b; default: every shipped pair)")
    ap.add_argument("--out", default=None, help="JSON lines of finished runs (read first: finished runs are skipped)")
    args = ap.parse_args()
    wanted = args.pairs.split(",")
    unknown = sorted(set(wanted) - {pair_key(p) for p in SHIPPED_PAIRS})
    if unknown:
        ap.error(f"--pairs: unknown {unknown} (allowed: {[pair_key(p) for p in SHIPPED_PAIRS]})")
    pairs = [p for p in SHIPPED_PAIRS if pair_key(p) in wanted]
    scenarios = list(dict.fromkeys(s for p in pairs for s in (p.a, p.b)))
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
