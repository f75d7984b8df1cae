"""report.html (self-contained, like a run's report) of a study folder: a comparison's bands, paired differences
and outcome frequencies, or an outcomes study's frequencies and bands per scenario.

Tables are HTML; charts are Vega-Lite with the JavaScript inline (``runs.reports.report.render_html``), and each
chart is also a PNG under ``figures/`` unless ``png`` is False.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from runs.compare import summaries as S
from runs.compare.study import Study
from runs.io import atomic_write_text
from runs.reports.charts import band_chart, difference_chart, frequency_chart
from runs.reports.report import REPORT, Section, html_table, render_html, write_pngs
from runs.reports.summary import human

LABELS = dict(S.KEY_SERIES)


def _freq_table(freq: pd.DataFrame) -> str:
    shown = freq.assign(fired=freq["fired"].astype(str) + "/" + freq["runs"].astype(str),
                        interval=[f"[{lo:.0%}, {hi:.0%}]" if r else "n/a"
                                  for lo, hi, r in zip(freq["wilson_low"], freq["wilson_high"], freq["runs"])])
    shown = shown[["scenario", "outcome", "fired", "frequency", "interval", "horizon_months", "horizon_date"]]
    return html_table(shown.rename(columns={"interval": "95 % Wilson interval"}), {"frequency": ".0%"})


def _final_differences(diffs: pd.DataFrame) -> pd.DataFrame:
    """The paired differences at the last round every pair reached, one row per key series."""
    if diffs.empty:
        return diffs
    last = diffs.loc[diffs.groupby("metric")["round"].idxmax()]
    last = last.assign(series=last["metric"].map(LABELS)).set_index("metric")
    last = last.loc[[m for m, _ in S.KEY_SERIES if m in last.index]]
    return last[["series", "round", "n_pairs", "mean_difference", "ci_low", "ci_high", "median_difference"]]


def _facts(study: Study) -> list[tuple[str, str]]:
    plan = study.plan
    runs = study.runs
    facts = [(f"scenario {a.label}" if plan.kind == "compare" else a.label,
              f"{a.scenario}" + (f" with {json.dumps(a.overrides)}" if a.overrides else "")) for a in plan.arms]
    facts += [("replicates", f"{plan.replicates} per scenario, common random numbers (master seed {plan.master_seed})"),
              ("horizon", ", ".join(sorted({f'{S.horizon_of(study, a.label)} months ({S.date_of(S.horizon_of(study, a.label))})'
                                            for a in plan.arms}))),
              ("runs", f"{int((runs['status'] == 'ok').sum())} ok, {int((runs['status'] != 'ok').sum())} failed, "
                       f"{len(study.design) - len(runs)} not run (status: {study.status})")]
    if plan.draws:
        facts.append(("parameter draws", f"{len(plan.draws)} from {plan.draws_file} (replicate r runs draw r mod "
                                         f"{len(plan.draws)})"))
    return facts


def study_sections(study: Study) -> tuple[list[Section], str, list[str]]:
    """(chart sections, HTML tables, badges) of a study."""
    freq = S.frequencies(study)
    name_of = {a.label: a.scenario for a in study.plan.arms}
    bands = S.series(study)
    bands["scenario"] = bands["arm"].map(name_of)
    sections = [Section("frequencies", "Outcome frequencies at the horizon",
                        frequency_chart(freq, "scenario", "Outcome frequencies (95 % Wilson intervals)"),
                        "Share of runs whose detector fired at the horizon (market/outcomes.py); the bar is the "
                        "95 % Wilson interval."),
                Section("bands", "Key series: median, 50 % and 90 % bands over replicates",
                        band_chart(bands, "scenario", "Key series over replicates", LABELS),
                        "Line: median over replicates; dark band: 25th–75th percentile; light band: 5th–95th.")]
    tables = "<h2>Outcome frequencies</h2>" + _freq_table(freq)
    badges = []
    if study.plan.kind == "compare":
        a, b = (arm.label for arm in study.plan.arms)
        diffs = S.differences(study, a, b)
        fdiff = S.frequency_differences(study, a, b)
        sections.append(Section("differences", f"Paired differences: {name_of[a]} − {name_of[b]}",
                                difference_chart(diffs, f"{name_of[a]} − {name_of[b]} (mean over replicates, 95 % "
                                                        f"confidence band)", LABELS),
                                "Each replicate's run of A minus its run of B (same seed), per round; the band is "
                                "the Student-t 95 % interval of the mean difference."))
        tables += (f"<h2>Frequency differences ({html.escape(name_of[a])} − {html.escape(name_of[b])})</h2>"
                   + html_table(fdiff.assign(interval=[f"[{lo:+.0%}, {hi:+.0%}]" for lo, hi in
                                                       zip(fdiff["newcombe_low"], fdiff["newcombe_high"])])
                                [["outcome", "frequency_a", "frequency_b", "difference", "interval", "pairs_a_only",
                                  "pairs_b_only"]].rename(columns={"interval": "95 % Newcombe interval"}),
                                {"frequency_a": ".0%", "frequency_b": ".0%", "difference": "+.0%"})
                   + f"<h2>Differences at the horizon ({html.escape(name_of[a])} − {html.escape(name_of[b])})</h2>"
                   + html_table(_final_differences(diffs).reset_index(drop=True),
                                {c: lambda v: human(v, 4) for c in ("mean_difference", "ci_low", "ci_high",
                                                                     "median_difference")}))
        for o in freq["outcome"].unique():
            f = freq[freq["outcome"] == o].set_index("arm")
            badges.append(f"{o.replace('_', ' ')}: {name_of[a]} {f.loc[a, 'fired']}/{f.loc[a, 'runs']} · "
                          f"{name_of[b]} {f.loc[b, 'fired']}/{f.loc[b, 'runs']}")
    else:
        for o in freq["outcome"].unique():
            f = freq[freq["outcome"] == o]
            badges.append(f"{o.replace('_', ' ')}: " + " · ".join(f"{r.scenario} {r.fired}/{r.runs}" for r in f.itertuples()))
    return sections, tables, badges


def write_study_report(study: Study, png: bool = True) -> list[Path]:
    """Write ``report.html`` (and ``figures/*.png`` unless ``png`` is False) into the study folder; returns the
    paths written."""
    sections, tables, badges = study_sections(study)
    names = " vs ".join(a.scenario for a in study.plan.arms) if study.plan.kind == "compare" else \
        f"{len(study.plan.arms)} scenario(s)"
    title = f"tokenmarket {study.plan.kind}: {names}"
    written = write_pngs(study.folder, sections) if png else []
    atomic_write_text(study.folder / REPORT, render_html(title, sections, _facts(study), badges, png_links=png,
                                                         extra_html=tables))
    return [study.folder / REPORT, *written]

