"""Crash safety: SIGKILL sweeps and ``run --force`` replacements at random moments and count what is lost.

Sweeps: each sweep (8 runs) is killed, resumed (or restarted while its folder is absent) and killed again until
a command finishes it; then every run must be in runs.csv exactly once and every round in rounds.csv exactly
once. ``run --force``: a run folder is replaced again and again, each replacement killed at a random moment;
after every kill the folder must hold one complete run, the old or the new one. Kill moments are uniform in
``[0, max delay]`` after the process starts (start-up, folder creation, runs, appends and final rewrites alike).

Usage: python benchmarks/crash_safety.py [--sweep-kills 200] [--force-kills 100] [--seed 0]
Prints one row per target: kills sent, commands that finished before their kill, and the folders stuck (neither
resumable nor restartable), runs lost, duplicated or mixed. All four must be 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crash_support import kill_force_runs, kill_sweeps  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the kills and print the table; returns 0 when nothing was stuck, lost, duplicated or mixed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep-kills", type=int, default=200)
    ap.add_argument("--force-kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn, kills, delay in (("sweep", kill_sweeps, args.sweep_kills, 3.0),
                                       ("run --force", kill_force_runs, args.force_kills, 2.0)):
            t0 = time.perf_counter()
            target = Path(tmp) / name.replace(" ", "")
            tally = fn(target if name == "sweep" else target / "run", kills, seed=args.seed, max_delay_s=delay)
            rows.append((name, tally, time.perf_counter() - t0))
    print(f"{'target':<12}{'kills':>7}{'finished':>10}{'stuck':>7}{'lost':>6}{'dup':>5}{'mixed':>7}{'time s':>8}")
    bad = 0
    for name, t, elapsed in rows:
        print(f"{name:<12}{t.kills:>7}{t.finished_first:>10}{t.stuck:>7}{t.lost:>6}{t.duplicated:>5}{t.mixed:>7}"
              f"{elapsed:>8.0f}")
        bad += t.stuck + t.lost + t.duplicated + t.mixed
        for note in t.notes:
            print(f"  {name}: {note}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
