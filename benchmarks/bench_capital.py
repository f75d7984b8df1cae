"""Speed of issue 13's pure mechanisms, per call: they run per firm (or once per market) per round, so each must
take microseconds to a millisecond. Prints a table; asserts nothing (speed is measured, not unit-tested).

Usage: python benchmarks/bench_capital.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents import compute as cp  # noqa: E402
from market import capital as cap  # noqa: E402
from market import exit as ex  # noqa: E402
from market import gpu_market as gm  # noqa: E402
from market import learning as ln  # noqa: E402
from market import objective as ob  # noqa: E402
from market import open_weights as ow  # noqa: E402
from market.config import build_config  # noqa: E402


def cases() -> dict[str, callable]:
    cfg = build_config()
    uses = [cp.paid_serving_use(4.0, 0.1, 2.0, 3e4, 3.6e4), cp.free_tier_use(5e10, 0.0036, 5e7, 0.02, 2.0, 3e4),
            cp.training_use(5e10, 0.0144, 1.5e5), cp.inference_rd_use(2e10, 0.244, 1.2e4, 3e3)]
    schedules = [gm.linear_schedule(1e4 * (i + 1), 4e3) for i in range(16)] + [gm.step_schedule(5e3, 4.0)] * 4
    outside = gm.OutsideDemand(1.5e5, 2.99, 1.5)
    path = gm.supply_path_from_config(cfg.gpu_market)
    state = gm.initial_state(path, 48.0, 6.5e5, schedules, 2.99, 1.5)
    pricer = cap.pricer_from_config(build_config(None, {"capital.appetites": "[0.0, 0.7]"}).capital, cfg.finance)
    fig = cap.FirmFigures(2e8, 0.05, 0.5, 1.5e8, 5e9)
    t = np.arange(1, 61)
    rev = 2e8 * 1.05 ** t
    lp = ln.params_from_config(cfg.learning)
    pubs = [ln.Publication(1, 0, 4.0, 0.5)]
    reg = ow.Registry(tuple(ow.PublishedModel(i, i, 1.0 + i, 0.8 + 0.02 * i) for i in range(10)))
    table = cap.CapTable().after_round(cap.round_terms(1e10, [("investor_1", 1e9)]))
    return {
        "agents.compute.split_compute (4 uses)": lambda: cp.split_compute(1e5, uses),
        "gpu_market.clear_rent (20 renters + outside)": lambda: gm.clear_rent(schedules, 8e5, 0.38, 12.29, outside),
        "gpu_market.deliver": lambda: gm.deliver(state, path, 48.0, 100.0),
        "capital.price_round (2 investors)": lambda: cap.price_round(fig, 1e9, pricer.investors, pricer.forecast,
                                                                      pricer.multiples),
        "objective.forecast_owners_value (60 months)": lambda: ob.forecast_owners_value(
            rev, 0.3 * rev, np.full(60, 2e8), 1e9, 0.0188, pricer),
        "learning.advance + skill_of": lambda: ln.skill_of(ln.advance(ln.SkillState(1e7, 1e3), 1e6, 10.0, pubs, 5, lp), lp),
        "open_weights.best_for_host (10 models)": lambda: ow.best_for_host(reg, 20, 0.2, 2.0),
        "exit.liquidate": lambda: ex.liquidate(1e4, 3e4, [1e8, 2e8], [0.0], -1e8, table, fire_sale_discount=0.3,
                                               customer_sale_share=0.5, weights_sale_share=0.5, may_publish=True),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="calls per mechanism (default 200)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat: {args.repeat}; allowed: ≥ 1")
    print(f"{'mechanism':<48} {'µs per call':>12}")
    for name, call in cases().items():
        call()
        start = time.perf_counter()
        for _ in range(args.repeat):
            call()
        print(f"{name:<48} {(time.perf_counter() - start) / args.repeat * 1e6:>12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
