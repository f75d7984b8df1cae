"""``tokenmarket calibrate --report DIR``: one self-contained HTML page of a calibration folder.

Sections: the facts of the plan and the best point; the fit table (every target: figure, model, bands, verdict);
for every series, the model path at the best point (seed mean) with its band over seeds and its band over the
draws, and the public figures as points with their tolerance (a triangle for a lower bound, a bar for a window
mean); the estimated parameters beside their defaults and draw quantiles; the identification diagnostics (which
targets pin each parameter, singular values and flat directions, a heat map of the targets' shares); the search's
objective by trial. Charts are Vega-Lite specs rendered in the page by the inline bundle of
:func:`runs.reports.report.js_bundle`, so the page opens offline.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from runs.calibration import CalibrationError
from runs.calibration.estimate import CalibrationPlan, read_manifest, read_trials
from runs.calibration.outputs import BEST, FIT, IDENTIFICATION, PATHS
from runs.io import atomic_write_text

REPORT = "report.html"
_ROUND0 = pd.Timestamp("2024-07-15")  # round 0 = July 2024 (market.calendar), a month at its middle


def round_date(r: float) -> pd.Timestamp:
    """Calendar date of a (fractional) round: the middle of its month, plus the fraction of a month."""
    whole = math.floor(r)
    return _ROUND0 + pd.DateOffset(months=whole) + pd.Timedelta(days=30.44 * (r - whole))


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.exists():
        raise CalibrationError(f"--report: {folder} has no {name}: the calibration has not finished (resume it)")
    return pd.read_csv(path)


def series_chart(label: str, compare: str, paths: pd.DataFrame, best_eval: str, fit: pd.DataFrame) -> alt.LayerChart:
    """One series: best path (seed mean), band over seeds, band over draws, targets with tolerance bars."""
    p = paths.copy()
    p["date"] = p["round"].map(round_date)
    best = p[p["eval"] == best_eval]
    seed_band = best.groupby("date")["value"].agg(lo="min", hi="max", mean="mean").reset_index()
    per_draw = p[p["eval"] != best_eval].groupby(["eval", "date"])["value"].mean().reset_index()
    scale = alt.Scale(type="log") if compare == "log" else alt.Scale(zero=False)
    y_title = label.split(": ", 1)[-1]
    layers = []
    if not per_draw.empty:
        draw_band = per_draw.groupby("date")["value"].agg(lo="min", hi="max").reset_index()
        layers.append(alt.Chart(draw_band).mark_area(opacity=0.15, color="#4c78a8").encode(
            x=alt.X("date:T", title=None), y=alt.Y("lo:Q", scale=scale, title=y_title), y2="hi:Q"))
    layers.append(alt.Chart(seed_band).mark_area(opacity=0.35, color="#4c78a8").encode(
        x=alt.X("date:T", title=None), y=alt.Y("lo:Q", scale=scale, title=y_title), y2="hi:Q"))
    layers.append(alt.Chart(seed_band).mark_line(color="#1f4e79").encode(
        x="date:T", y=alt.Y("mean:Q", scale=scale), tooltip=[alt.Tooltip("date:T"), alt.Tooltip("mean:Q", format=".4g")]))
    t = fit.copy()
    if not t.empty:
        t["date"] = ((t["round_start"] + t["round_end"]) / 2).map(round_date)
        t["start"] = t["round_start"].map(round_date)
        t["end"] = t["round_end"].map(round_date)
        log = t["compare"] == "log"
        t["lo"] = np.where(log, t["figure"] / t["tolerance"], t["figure"] - t["tolerance"])
        t["hi"] = np.where(log, t["figure"] * t["tolerance"], t["figure"] + t["tolerance"])
        t["shape"] = t["bound"].map({"point": "circle", "lower": "triangle-up", "upper": "triangle-down"})
        tip = [alt.Tooltip("target:N"), alt.Tooltip("figure:Q", format=".4g"), alt.Tooltip("model:Q", format=".4g"),
               alt.Tooltip("verdict:N"), alt.Tooltip("when:N"), alt.Tooltip("weight:Q")]
        layers.append(alt.Chart(t).mark_rule(color="#e45756").encode(x="date:T", y=alt.Y("lo:Q", scale=scale),
                                                                       y2="hi:Q"))
        windows = t[t["round_end"] > t["round_start"]]
        if not windows.empty:
            layers.append(alt.Chart(windows).mark_rule(color="#e45756", strokeWidth=2).encode(
                x="start:T", x2="end:T", y=alt.Y("figure:Q", scale=scale)))
        layers.append(alt.Chart(t).mark_point(filled=True, size=70, color="#e45756").encode(
            x="date:T", y=alt.Y("figure:Q", scale=scale), shape=alt.Shape("shape:N", scale=None), tooltip=tip))
    return alt.layer(*layers).properties(width=760, height=220, title=label)


def objective_chart(trials: pd.DataFrame) -> alt.Chart:
    """The objective of every complete trial by trial number, with the running best."""
    t = trials[trials["state"] == "COMPLETE"][["trial", "objective"]].copy()
    t["best so far"] = t["objective"].cummin()
    long = t.melt("trial", var_name="what", value_name="J")
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("trial:Q"), y=alt.Y("J:Q", scale=alt.Scale(type="log"), title="objective J"),
        color=alt.Color("what:N", title=None)).properties(width=760, height=200)


def share_heatmap(ident: pd.DataFrame) -> alt.Chart:
    """Targets × parameters: each target's share of the parameter's weighted sensitivity."""
    s = ident[ident["section"] == "sensitivity"]
    return alt.Chart(s).mark_rect().encode(
        x=alt.X("parameter:N", title=None, axis=alt.Axis(labelAngle=-40, labelLimit=260)),
        y=alt.Y("target:N", title=None, sort=None), color=alt.Color("share:Q", scale=alt.Scale(scheme="blues")),
        tooltip=["parameter", "target", alt.Tooltip("share:Q", format=".2f"),
                 alt.Tooltip("weighted:Q", format=".3g")]).properties(width=60 * max(1, s["parameter"].nunique()))


def _table(df: pd.DataFrame, columns: list[str], cls: str = "") -> str:
    def cell(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.4g}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for _, rec in df.iterrows():
        style = f' class="{html.escape(str(rec.get("verdict", "")))}"' if "verdict" in rec else ""
        body.append(f"<tr{style}>" + "".join(f"<td>{cell(rec[c])}</td>" for c in columns) + "</tr>")
    return f'<table class="{cls}"><tr>{head}</tr>{"".join(body)}</table>'


def _table_section(title: str, content: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{content}</section>"


def _chart_section(i: int, title: str, chart: alt.TopLevelMixin, caption: str) -> str:
    data = json.dumps(chart.to_dict()).replace("</", "<\\/")
    return (f'<section><h2>{html.escape(title)}</h2><div id="c{i}"></div><p class="caption">{html.escape(caption)}'
            f'</p><script>vegaEmbed("#c{i}", {data}, {{"actions": false, "renderer": "svg"}}).catch(e => '
            f'document.getElementById("c{i}").textContent = "chart failed: " + e);</script></section>')


def render(folder: Path) -> str:
    """The report page of a finished calibration folder (HTML text).

    Raises:
        CalibrationError: not a calibration folder, or its outputs are not written yet.
    """
    from runs.reports.report import js_bundle

    manifest = read_manifest(folder)
    plan = CalibrationPlan.from_dict(manifest["plan"])
    best = json.loads((folder / BEST).read_text()) if (folder / BEST).exists() else None
    if not best or best.get("trial") is None:
        raise CalibrationError(f"--report: {folder} has no best point yet (no trial completed, or not finished)")
    fit, paths, ident = _read(folder, FIT), _read(folder, PATHS), _read(folder, IDENTIFICATION)
    trials = read_trials(folder)
    best_eval = f"t{int(best['trial']):05d}"
    charts: list[tuple[str, alt.TopLevelMixin, str]] = []
    for name, s in plan.targets.series.items():
        sub = fit[fit["series"] == name]
        if sub.empty:
            continue
        charts.append((s.label, series_chart(s.label, s.compare, paths[paths["series"] == name], best_eval, sub),
                       f"{s.analogue}. Dark band: seeds at the best point; light band: the draws' seed means; "
                       f"red: public figures with their tolerance."))
    params = pd.DataFrame([{"parameter": p, "estimate": best["parameters"][p], "default": best["defaults"][p],
                            "draws p05": best["draws"][p]["p05"], "draws p50": best["draws"][p]["p50"],
                            "draws p95": best["draws"][p]["p95"]} for p in plan.parameters.paths])
    pinned = ident[ident["section"] == "parameter"][["parameter", "weighted", "flat", "detail"]].rename(
        columns={"weighted": "sensitivity (column norm)", "flat": "not identified"})
    singular = ident[ident["section"] == "singular"][["index", "value", "share", "flat", "detail"]].rename(
        columns={"value": "singular value", "share": "relative", "detail": "direction"})
    facts = [("targets", f"{plan.targets.path} ({len(plan.targets.targets)} targets)"),
             ("parameters", f"{plan.parameters.path} ({len(plan.parameters.parameters)} estimated)"),
             ("runs per trial", f"{len(plan.seeds)} seeds × {plan.customers:,} customers × {plan.rounds} rounds"),
             ("trials", f"{len(trials)} ({plan.sampler}, batches of {plan.batch})"),
             ("best", f"trial {best['trial']}: J = {best['objective']:.4g}, {best['within']} of {best['targets']} "
                      f"targets within tolerance"),
             ("draws", f"{plan.draws} bootstrap draws over targets and seeds, {best['distinct_draw_trials']} "
                       f"distinct trials"),
             ("flat directions", "; ".join(best.get("flat_directions", [])) or "none")]
    sections = [("Fit", _table(fit, ["target", "when", "bound", "figure", "model", "seed_lo", "seed_hi", "draws_lo",
                                     "draws_hi", "tolerance", "weight", "z", "verdict"], "fit")),
                ("Estimated parameters", _table(params, list(params.columns))),
                ("Which targets pin each parameter", _table(pinned, list(pinned.columns))),
                ("Singular values of the weighted Jacobian", _table(singular, list(singular.columns)))]
    tail = [("Targets' shares of each parameter's sensitivity", share_heatmap(ident), ""),
            ("Objective by trial", objective_chart(trials), "")]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    body = [_table_section(*sections[0])]
    body += [_chart_section(i, *c) for i, c in enumerate(charts)]
    body += [_table_section(*t) for t in sections[1:]]
    body += [_chart_section(len(charts) + i, *c) for i, c in enumerate(tail)]
    title = f"tokenmarket calibration: {folder.name}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}}
table{{border-collapse:collapse;margin:0.5em 0}}th,td{{text-align:left;padding:2px 10px 2px 0;font-size:13px}}
tr.within td{{background:#eaf5ea}}tr.below td,tr.above td{{background:#fbeaea}}tr.missing td{{background:#eee}}
section{{margin:2em 0}}.caption{{color:#666;font-size:13px}}</style>
<script>{js_bundle()}</script></head>
<body><h1>{html.escape(title)}</h1><table>{rows}</table>
{''.join(body)}
</body></html>
"""


def write_report(folder: Path | str) -> Path:
    """Write ``report.html`` into a calibration folder; returns its path.

    Raises:
        CalibrationError: not a calibration folder or not finished.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CalibrationError(f"--report: {str(folder)!r} is not a folder")
    text = render(folder)
    path = folder / REPORT
    atomic_write_text(path, text)
    return path
