"""Writing a game's analysis into its folder: CSVs, ``summary.txt`` and a self-contained ``report.html``.

Files (one row per …):

- ``payoffs.csv``: condition × profile × role × strategy played: mean payoff and standard error ($);
- ``regret.csv``: condition × profile: regret ($ and relative), largest deviation, equilibrium flag, bootstrap
  share of draws in which it is an equilibrium, regret 5–95 % range;
- ``equilibria.csv``: condition × equilibrium × lab × strategy played: probability (bootstrap range for mixed
  equilibria), expected payoff, method, robustness;
- ``strategies.csv``: condition × role × strategy: played in some equilibrium or not;
- ``choices.csv``: the free runs: each role lab's recorded choice and the regret of the profile they formed;
- ``summary.txt``: :func:`runs.games.analysis.summary_text`;
- ``report.html``: the tables and charts, with the Vega JavaScript inline (opens offline), when vl-convert
  (the ``viz`` extra) is installed.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from runs import io
from runs.games.analysis import (GameAnalysis, choices_frame, equilibria_frame, played_frame, regret_frame,
                                 summary_text)
from runs.games.charts import matrix_chart, payoff_chart, regret_chart

REPORT = "report.html"


def _table(df: pd.DataFrame, columns: list[str], money: tuple[str, ...] = (), pct: tuple[str, ...] = ()) -> str:
    if df.empty:
        return "<p class='none'>none</p>"

    def _cell(col: str, v) -> str:
        if isinstance(v, float) and v != v:
            return ""
        if col in money:
            return f"{v:,.4g}"
        if col in pct:
            return f"{100 * v:.1f} %"
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c, rec[c])}</td>" for c in columns) + "</tr>"
                   for rec in df.to_dict("records"))
    return f"<table class='data'><tr>{head}</tr>{body}</table>"


def _chart_html(chart, i: int) -> str:
    spec = json.dumps(chart.to_dict()).replace("</", "<\\/")
    return (f'<div id="c{i}"></div><script>vegaEmbed("#c{i}", {spec}, {{"actions": false, "renderer": "svg"}})'
            f'.catch(e => document.getElementById("c{i}").textContent = "chart failed: " + e);</script>')


def render_report(analysis: GameAnalysis, frames: dict[str, pd.DataFrame], bundle: str) -> str:
    """The report page: facts, then per condition the equilibria, strategies in equilibrium, the labs' own
    choices, charts of regret and payoffs, the payoff table and notes. ``bundle``: inline Vega JavaScript."""
    plan = analysis.plan
    facts = [("game", plan.name), ("description", plan.description.strip()), ("file", plan.source or ""),
             ("roles", "; ".join(f"{r.name} = {', '.join(r.labs)}: {r.move} ∈ {{{', '.join(r.strategies)}}}"
                                 + (f" ({r.vertical})" if r.vertical else "") for r in plan.roles)),
             ("profiles", f"{len(plan.profiles)} (after the symmetric reduction)"),
             ("replicates", f"{plan.replicates} seeds per profile, the same in every profile (common random numbers)"),
             ("runs", f"{analysis.n_ok} ok, {analysis.n_failed} failed"), ("bootstrap", f"{plan.bootstrap} draws")]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts if v)
    parts, n = [], 0
    two_roles = len(plan.roles) == 2 and all(r.n_firms == 1 for r in plan.roles)
    for res in analysis.results:
        c = res.condition
        cond = next(x for x in plan.conditions if x.name == c)
        over = ", ".join(f"{k} = {v}" for k, v in cond.overrides.items()) or "no overrides"
        eq = frames["equilibria"]
        parts.append(f"<section><h2>Condition {html.escape(c)}</h2><p>{html.escape(cond.description or '')} "
                     f"<code>{html.escape(over)}</code></p><p>Method: {html.escape(res.solution.method)}</p>")
        parts.append("<h3>Equilibria</h3>" + _table(
            eq[eq["condition"] == c] if not eq.empty else eq,
            ["equilibrium", "kind", "lab", "strategy", "probability", "probability_p05", "probability_p95",
             "expected_payoff_usd", "robustness"], money=("expected_payoff_usd",), pct=("robustness",)))
        st = frames["strategies"]
        parts.append("<h3>Strategies played in equilibrium</h3>" + _table(
            st[st["condition"] == c], ["role", "strategy", "in_equilibrium", "equilibria", "best_robustness"],
            pct=("best_robustness",)))
        ch = frames["choices"]
        if not ch.empty and (ch["condition"] == c).any():
            mine = ch[ch["condition"] == c]
            cols = ["run_id", *[k for k in mine.columns if k.startswith("chosen__")], "label", "regret_usd",
                    "regret_rel", "equilibrium"]
            parts.append("<h3>What the labs chose in free runs</h3>" + _table(mine, cols, money=("regret_usd",),
                                                                           pct=("regret_rel",)))
        charts = [regret_chart(frames["regret"], c), payoff_chart(frames["payoffs"], c)]
        if two_roles:
            charts.append(matrix_chart(frames["payoffs"], c, [(r.name, list(r.strategies)) for r in plan.roles]))
        for chart in charts:
            parts.append(_chart_html(chart, n))
            n += 1
        pay = frames["payoffs"]
        parts.append("<h3>Payoff table</h3>" + _table(
            pay[pay["condition"] == c], ["label", "role", "strategy", "firms", "payoff_mean_usd", "payoff_se_usd",
                                         "replicates"], money=("payoff_mean_usd", "payoff_se_usd")))
        if res.notes:
            parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in res.notes) + "</ul>")
        parts.append("</section>")
    for name, reason in analysis.unsolved.items():
        parts.append(f"<section><h2>Condition {html.escape(name)}</h2><p>Not solved: {html.escape(reason)}</p></section>")
    notes = "".join(f"<li>{html.escape(x)}</li>" for x in analysis.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tokenmarket game: {html.escape(plan.name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}}
table{{border-collapse:collapse;margin:0.5em 0}}th,td{{text-align:left;padding:2px 10px 2px 0;font-size:13px}}
table.data td,table.data th{{border-bottom:1px solid #ddd}}.none{{color:#888}}section{{margin:2em 0}}
code{{font-size:12px}}</style>
<script>{bundle}</script></head>
<body><h1>tokenmarket game: {html.escape(plan.name)}</h1><table>{rows}</table>
{f"<ul>{notes}</ul>" if notes else ""}
<pre>{html.escape(summary_text(analysis))}</pre>
{''.join(parts)}
</body></html>
"""


def write_game_outputs(folder: Path | str, analysis: GameAnalysis, html_report: bool = True) -> list[Path]:
    """Write the CSVs, summary.txt and (if ``html_report`` and vl-convert is installed) report.html into
    ``folder``, each atomically. Returns the paths written."""
    folder = Path(folder)
    frames = {"payoffs": pd.concat([r.table.long() for r in analysis.results], ignore_index=True),
              "regret": regret_frame(analysis), "equilibria": equilibria_frame(analysis),
              "strategies": played_frame(analysis), "choices": choices_frame(analysis)}
    written = []
    for name, df in frames.items():
        io.write_csv(folder / f"{name}.csv", df)
        written.append(folder / f"{name}.csv")
    io.atomic_write_text(folder / "summary.txt", summary_text(analysis) + "\n")
    written.append(folder / "summary.txt")
    if html_report:
        try:
            from runs.reports.report import js_bundle

            bundle = js_bundle()
        except ModuleNotFoundError:
            return written
        io.atomic_write_text(folder / REPORT, render_report(analysis, frames, bundle))
        written.append(folder / REPORT)
    return written
