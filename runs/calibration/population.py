"""Does the reduced population stand for the full one? The moments of the base config at both sizes.

A calibration evaluates every trial on a reduced population (``--customers``, 20,000 by default) because runs cost
set-up time and memory; the population weight scales every count back to the market's size, so moments should
agree with the full population's up to sampling noise. :func:`population_check` runs the base config (no
estimated value changed) on the plan's seeds at both sizes and reports, per target, the two seed means, their
relative difference and the difference in tolerance units (``Δz``): a reduced population is good enough when
|Δz| is small next to 1 for every target (the fit cannot tell the two apart).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from runs.calibration.estimate import CalibrationPlan, error_array, evaluate_points, moment_rows
from runs.calibration.moments import MomentRun

CHECK = "population_check.csv"


def population_check(plan: CalibrationPlan, full_customers: int, executor, simulate=None) -> pd.DataFrame:
    """Moments of the base config at the plan's population and at ``full_customers``, on the plan's seeds.

    Args:
        plan: a calibration plan (its base config, seeds, rounds and targets).
        full_customers: the full population size (e.g. the scenario's 1,000,000).
        executor: a sweep executor.
        simulate: a stub replacing the model (tests).

    Returns:
        One row per target: target, figure, reduced (seed mean, figure unit), full, rel_diff = reduced/full − 1,
        reduced_sd and full_sd (over seeds), dz = (d̄ reduced − d̄ full) / tolerance (errors not clamped at
        one-sided bounds).
    """
    fn = MomentRun(plan.targets, simulate)
    results = {}
    for label, n in (("reduced", plan.customers), ("full", full_customers)):
        base = {**plan.base_config, "customers": {**plan.base_config["customers"], "n_customers": n}}
        sized = dataclasses.replace(plan, base_config=base)

        def done(eval_id, trial, outcomes, sized=sized, label=label):
            failed = [o for o in outcomes if not o.ok]
            if failed:
                raise RuntimeError(f"population check run ({label}) failed: {failed[0].row['error']}")
            results[label] = moment_rows(eval_id, trial, outcomes, sized)

        evaluate_points(executor, sized, [(label, -1, {p.path: p.default for p in plan.parameters.parameters})],
                        fn, done)
    names = plan.targets.names()
    scales = np.asarray(plan.targets.scales())
    rows = []
    stats = {}
    for label, frame in results.items():
        values = frame.pivot(index="seed_index", columns="target", values="value").reindex(columns=names)
        stats[label] = (values.mean().to_numpy(float), values.std(ddof=0).to_numpy(float),
                        error_array(frame, plan).mean(axis=0))  # unclamped: a bound met at both sizes still shows
    for i, t in enumerate(plan.targets.targets):
        red, full = stats["reduced"], stats["full"]
        rel = red[0][i] / full[0][i] - 1 if full[0][i] else np.nan
        rows.append({"target": t.name, "figure": t.value, "reduced": red[0][i], "full": full[0][i],
                     "rel_diff": rel, "reduced_sd": red[1][i], "full_sd": full[1][i],
                     "dz": (red[2][i] - full[2][i]) / scales[i]})
    return pd.DataFrame(rows)
