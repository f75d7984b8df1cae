"""Fuzz the command line with malformed input and tabulate the outcomes (the property test, at a larger size).

Generates ``--n`` malformed ``--set`` inputs and ``--n`` malformed scenario files (tests/fuzz_support.py:
values of the wrong type, out of range or not finite, unknown keys, keys into values, sections given scalars,
deep nesting, text that is not TOML) and runs ``tokenmarket run`` on each in this process, with the simulation
replaced by a tripwire. Outcomes: ``clean`` (exit 2, one stderr line naming the field, nothing touched in the
output location), ``traceback``, ``accepted`` (got past validation), ``wrong exit``, ``not one line``, ``vague``
(the line does not name the field), ``touched`` (the output location changed).

Usage: python benchmarks/fuzz_cli.py [--n 2000] [--seed 0] [--show 5]
Prints one row per input family with the count of each outcome, then up to ``--show`` examples of each
non-clean outcome. Exit status 1 if any input was not clean.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from tests.fuzz_support import OUTCOMES, outcome, set_case, toml_case  # noqa: E402


def fuzz(strategy, n: int, master_seed: int, workdir: Path) -> tuple[Counter, dict[str, list]]:
    """Outcome counts and examples of ``n`` inputs drawn from ``strategy``."""
    counts: Counter = Counter()
    examples: dict[str, list] = defaultdict(list)

    @seed(master_seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        got, err = outcome(case, workdir)
        counts[got] += 1
        if got != "clean":
            examples[got].append((case, err.strip()[-300:]))

    run()
    return counts, examples


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer and print its table; returns 0 when every input was refused cleanly."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="inputs per family")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=5)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, strategy in (("--set", set_case()), ("scenario", toml_case())):
            t0 = time.perf_counter()
            counts, examples = fuzz(strategy, args.n, args.seed, Path(tmp))
            rows.append((name, counts, examples, time.perf_counter() - t0))
    print(f"{'family':<10}{'tried':>7}" + "".join(f"{o:>14}" for o in OUTCOMES) + f"{'time s':>8}")
    bad = 0
    for name, counts, _, elapsed in rows:
        print(f"{name:<10}{sum(counts.values()):>7}" + "".join(f"{counts[o]:>14}" for o in OUTCOMES)
              + f"{elapsed:>8.1f}")
        bad += sum(counts.values()) - counts["clean"]
    for name, _, examples, _ in rows:
        for got, items in examples.items():
            for case, err in items[: args.show]:
                print(f"\n{name} {got}: {case.argv or case.toml[:200]!r}\n  {err}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
