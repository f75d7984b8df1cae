"""Outcome frequencies per scenario pair, with the strategic choices behind them, read from an outcomes study.

Usage:
    tokenmarket outcomes SCENARIO... --replicates 10 --rounds 72 --set customers.n_customers=1000000 \\
        --workers 2 --out out/freq                      # runs (resumable: --out out/freq --resume)
    python benchmarks/outcome_frequencies.py out/freq [--pairs Q5:baseline-merger_control,...]

``--print-command`` prints the ``tokenmarket outcomes`` command for the chosen pairs' scenarios instead of reading a
folder. The runs are the study's (runs/compare/study.py: one seed per replicate, the same seeds in every scenario,
runs.csv with each run's outcome flags and ``choice_<move>_<option>`` counts, runs/sweeps/executors.py); this
script only tabulates them by the shipped pairs (runs/compare/pairs.py), each differing in one stated condition
with both sides letting firms choose. Per pair and side: in how many runs each detector fired, with the Wilson 95 %
interval of runs/compare/stats.py, and each non-default option's share of the decisions of its move (a vertical
move is decided per vertical, a conduct move once per review).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from runs.compare.pairs import SHIPPED_PAIRS, Pair
from runs.compare.stats import wilson_interval
from runs.compare.study import StudyError, load_study
from runs.compare.summaries import fired

OUTCOMES = ("dumb_pipe", "loss_leading", "loss_leading_recouped", "vertical_takeover")
# The non-default option of each move worth reading in a table (assumption: the defaults — best_response,
# stay_out, normal, small free tier, closed weights — are what a firm does absent a reason).
CHOICES = (("api_conduct", "penetration"), ("api_conduct", "premium"), ("vertical", "build"),
           ("vertical", "acquire"), ("rival_terms", "surcharge"), ("rival_terms", "cut_off"),
           ("free_tier", "off"), ("free_tier", "large"), ("publish", "publish"))


def pair_key(pair: Pair) -> str:
    """A short name for ``--pairs``: the question and the two scenarios, e.g. ``Q5:baseline-merger_control``."""
    return f"{pair.question}:{pair.a}-{pair.b}"


def side_cells(runs: pd.DataFrame) -> tuple[list[str], str]:
    """For one scenario's successful runs (runs.csv rows): per outcome of :data:`OUTCOMES` ``fired/n [lo, hi]``
    (Wilson 95 %), and each non-default option's share of the decisions of its move (``–`` when none chosen)."""
    n = len(runs)
    cells = []
    for name in OUTCOMES:
        col = f"outcome_{name}"
        hits = int(fired(runs[col]).sum()) if col in runs else 0
        lo, hi = wilson_interval(hits, n)
        cells.append(f"{hits}/{n} [{lo:.2f}, {hi:.2f}]" if n else "–")
    parts = []
    for move, option in CHOICES:
        options = [c for c in runs if c.startswith(f"choice_{move}_")]
        made = float(runs[options].to_numpy().sum()) if options else 0.0
        col = f"choice_{move}_{option}"
        count = float(runs[col].sum()) if col in runs else 0.0
        if count:
            parts.append(f"{move} {option} {count / made:.2f}")
    return cells, (", ".join(parts) if parts else "–")


def table(runs: pd.DataFrame, pairs: list[Pair]) -> str:
    """Markdown table of a study's runs (``scenario`` and ``status`` columns) per pair and side."""
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    lines = ["| pair (condition) | scenario | " + " | ".join(OUTCOMES) + " | non-default choices (share of the move's decisions) |",
             "|---|---|" + "---|" * len(OUTCOMES) + "---|"]
    for pair in pairs:
        for side in (pair.a, pair.b):
            cells, text = side_cells(ok[ok["scenario"] == side])
            lines.append(f"| {pair.question} ({pair.differs}) | {side} | " + " | ".join(cells) + f" | {text} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the pair table of an outcomes study folder; exit 2 on a bad folder or pair key."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", nargs="?", help="an outcomes (or compare) study folder written by tokenmarket outcomes")
    ap.add_argument("--pairs", default=",".join(pair_key(p) for p in SHIPPED_PAIRS),
                    help="comma-separated pair keys (question:a-b; default: every shipped pair)")
    ap.add_argument("--print-command", action="store_true",
                    help="print the tokenmarket outcomes command that runs the pairs' scenarios, then exit")
    args = ap.parse_args(argv)
    wanted = args.pairs.split(",")
    unknown = sorted(set(wanted) - {pair_key(p) for p in SHIPPED_PAIRS})
    if unknown:
        ap.error(f"--pairs: unknown {unknown} (allowed: {[pair_key(p) for p in SHIPPED_PAIRS]})")
    pairs = [p for p in SHIPPED_PAIRS if pair_key(p) in wanted]
    scenarios = list(dict.fromkeys(s for p in pairs for s in (p.a, p.b)))
    if args.print_command:
        print("tokenmarket outcomes " + " ".join(scenarios) + " --replicates 10 --rounds 72 "
              "--set customers.n_customers=1000000 --workers 2 --out out/freq")
        return 0
    if args.study is None:
        ap.error("study: a folder written by tokenmarket outcomes is needed (or --print-command)")
    try:
        study = load_study(Path(args.study))
    except StudyError as err:
        ap.error(f"study: {err}")
    missing = [s for s in scenarios if s not in set(study.runs.get("scenario", pd.Series(dtype=str)))]
    if missing:
        print(f"note: no runs of {missing} in {args.study} (their rows show –)", file=sys.stderr)
    arm = study.plan.arms[0]
    customers = arm.config.get("customers", {}).get("n_customers")
    print(f"{args.study}: {len(study.runs)} runs, {study.plan.replicates} replicates, "
          f"{arm.horizon(study.plan.rounds)} months, {customers:,} customers, status {study.status}\n")
    print(table(study.runs, pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
