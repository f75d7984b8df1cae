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
FIGURE = "population_check.svg"


def population_check(plan: CalibrationPlan, full_customers: int, executor, simulate=None) -> pd.DataFrame:
    """Moments of the base config at the plan's population and at ``full_customers``, on the plan's seeds.

    Args:
        plan: a calibration plan (its base config, seeds, rounds and targets).
        full_customers: the full population size (e.g. the scenario's 1,000,000).
        executor: a sweep executor.
        simulate: a stub replacing the model (tests).

    Returns:
        One row per target: target, figure, reduced (seed mean, figure unit), full, rel_diff = reduced/full − 1,
        reduced_sd and full_sd (over seeds), z_reduced and z_full (the seed-mean error d̄ over the tolerance at
        each size, unclamped at one-sided bounds: the target's miss in tolerance units) and dz = z_reduced −
        z_full.
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
                     "z_reduced": red[2][i] / scales[i], "z_full": full[2][i] / scales[i],
                     "dz": (red[2][i] - full[2][i]) / scales[i]})
    return pd.DataFrame(rows)


def population_chart(table: pd.DataFrame, reduced: int, full: int):
    """The check as a figure: each target's miss at the full population (x) against the reduced one (y), both in
    tolerance units; on the diagonal the two sizes agree, inside the grey band within a quarter of a tolerance.

    Args:
        table: the frame of :func:`population_check`.
        reduced, full: the two population sizes (customers), for the titles.

    Returns:
        An Altair layered chart (scatter with a tooltip per target, the diagonal, the ±0.25 band).
    """
    import altair as alt

    data = table[["target", "figure", "reduced", "full", "z_reduced", "z_full", "dz"]].dropna(
        subset=["z_reduced", "z_full"])
    lo = float(min(data["z_reduced"].min(), data["z_full"].min(), -1.0)) - 0.5
    hi = float(max(data["z_reduced"].max(), data["z_full"].max(), 1.0)) + 0.5
    grid = np.linspace(lo, hi, 50)
    band = pd.DataFrame({"x": grid, "lo": grid - 0.25, "hi": grid + 0.25})
    scale = alt.Scale(domain=[lo, hi])
    x_title = f"miss at {full:,} customers (tolerance units)"
    y_title = f"miss at {reduced:,} customers (tolerance units)"
    shade = alt.Chart(band).mark_area(opacity=0.25, color="#999").encode(
        x=alt.X("x:Q", scale=scale, title=x_title), y=alt.Y("lo:Q", scale=scale, title=y_title), y2="hi:Q")
    diagonal = alt.Chart(band).mark_line(color="#666", strokeDash=[4, 3]).encode(x="x:Q", y="x:Q")
    points = alt.Chart(data).mark_circle(size=45, opacity=0.8).encode(
        x=alt.X("z_full:Q", scale=scale), y=alt.Y("z_reduced:Q", scale=scale),
        color=alt.condition("abs(datum.dz) > 1", alt.value("#d62728"), alt.value("#1f77b4")),
        tooltip=["target", alt.Tooltip("figure:Q", format=".4g"), alt.Tooltip("reduced:Q", format=".4g"),
                 alt.Tooltip("full:Q", format=".4g"), alt.Tooltip("dz:Q", format=".2f")])
    median = float(data["dz"].abs().median()) if len(data) else float("nan")
    return (shade + diagonal + points).properties(
        width=420, height=420,
        title={"text": f"Reduced vs full population: every target's miss ({len(data)} targets)",
               "subtitle": [f"seed means; on the diagonal the sizes agree; grey: within ±0.25 tolerance; "
                            f"red: |Δz| > 1; median |Δz| = {median:.2f}"]})
