"""Writing a discovery: ``boxes.csv``, ``trajectory.csv``, ``summary.txt`` and a self-contained ``report.html``
with the peeling trajectories (coverage vs density, Altair) and the box limits."""

from __future__ import annotations

import html
import json
from pathlib import Path

import altair as alt
import pandas as pd

from runs import io
from runs.discovery.prim import Box, DiscoveryData, boxes_frame, trajectory_frame


def trajectory_chart(trajectory: pd.DataFrame, threshold: float) -> alt.LayerChart:
    """Coverage (x) against density (y) of every box on each peeling trajectory, one line per box found; the
    reported box is the large point, the density threshold the dashed rule."""
    df = trajectory.assign(box=trajectory["box"].map(lambda b: f"box {b}"))
    base = alt.Chart(df).encode(
        x=alt.X("coverage:Q", title="coverage (share of the outcome's runs in the box)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("density:Q", title="density (share of the box's runs with the outcome)", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("box:N", title=None))
    line = base.mark_line(point=alt.OverlayMarkDef(size=20)).encode(
        order="step:Q", tooltip=["box", "step", alt.Tooltip("coverage:Q", format=".3f"),
                                 alt.Tooltip("density:Q", format=".3f"), alt.Tooltip("mass:Q", format=".3f"),
                                 "res_dim", "runs"])
    chosen = base.transform_filter(alt.datum.selected).mark_point(size=160, filled=True)
    rule = alt.Chart(pd.DataFrame({"density": [threshold]})).mark_rule(strokeDash=[4, 4], color="gray").encode(
        y="density:Q")
    return alt.layer(line, chosen, rule).properties(width=480, height=320, title="peeling trajectories")


def summary_text(data: DiscoveryData, boxes: list[Box], notes: list[str], threshold: float) -> str:
    """The printed summary: the outcome rule, run counts, then each box's restrictions, coverage and density."""
    lines = [f"scenario discovery: {data.rule} in {int(data.y.sum())} of {len(data.y)} runs "
             f"({data.y.mean():.1%}); swept: {', '.join(data.x.columns)}"
             + (f"; {data.dropped} run(s) without a value left out" if data.dropped else "")]
    if not boxes:
        lines.append(f"no box reaches density {threshold:g}")
    for b in boxes:
        lines.append(f"box {b.number}: coverage {b.coverage:.3f}, density {b.density:.3f}, mass {b.mass:.3f} "
                     f"({b.runs_with_outcome} of {b.runs} runs in it have the outcome)")
        for lim in b.restrictions() or []:
            lines.append(f"  {lim.text()}")
        if not b.restrictions():
            lines.append("  (no parameter restricted)")
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def write_discovery(out: Path | str, data: DiscoveryData, boxes: list[Box], notes: list[str], threshold: float,
                    html_report: bool = True) -> list[Path]:
    """Write the CSVs, summary.txt and (when vl-convert is installed) report.html into ``out``, atomically each.
    Returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    box_df, traj = boxes_frame(boxes), trajectory_frame(boxes)
    io.write_csv(out / "boxes.csv", box_df)
    io.write_csv(out / "trajectory.csv", traj)
    text = summary_text(data, boxes, notes, threshold)
    io.atomic_write_text(out / "summary.txt", text + "\n")
    written = [out / "boxes.csv", out / "trajectory.csv", out / "summary.txt"]
    if not html_report:
        return written
    try:
        from runs.reports.report import js_bundle

        bundle = js_bundle()
    except ModuleNotFoundError:
        return written
    spec = json.dumps(trajectory_chart(traj, threshold).to_dict()).replace("</", "<\\/")
    rows = "".join(
        f"<tr><td>{b.number}</td><td>{html.escape(lim.text())}</td><td>{'yes' if lim.restricted else 'no'}</td>"
        f"<td>{b.coverage:.3f}</td><td>{b.density:.3f}</td><td>{b.mass:.3f}</td></tr>"
        for b in boxes for lim in b.limits)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tokenmarket discovery: {html.escape(data.rule)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}}
table{{border-collapse:collapse}}th,td{{text-align:left;padding:2px 12px 2px 0;font-size:13px;border-bottom:1px solid #ddd}}</style>
<script>{bundle}</script></head>
<body><h1>Where {html.escape(data.rule)}</h1><pre>{html.escape(text)}</pre>
<div id="traj"></div><script>vegaEmbed("#traj", {spec}, {{"actions": false, "renderer": "svg"}})
.catch(e => document.getElementById("traj").textContent = "chart failed: " + e);</script>
<h2>Box limits</h2><table><tr><th>box</th><th>limit</th><th>restricted</th><th>coverage</th><th>density</th>
<th>mass</th></tr>{rows}</table></body></html>
"""
    io.atomic_write_text(out / "report.html", page)
    return [*written, out / "report.html"]
